package nirva_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/pdf"
)

// TestCreateJob429Or401AfterCreation: a platform (or a gateway in front
// of it) that creates the job, then answers 429 or 401. The letter must be
// posted once, and the outcome reported as uncertain, not as a refusal.
func TestCreateJob429Or401AfterCreation(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusUnauthorized} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var posts atomic.Int32
			e := newEnv(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == "POST" && r.URL.Path == "/jobs" {
						posts.Add(1)
						h.ServeHTTP(httptest.NewRecorder(), r) // created, answer lost
						w.Header().Set("Retry-After", "0")
						w.WriteHeader(status)
						return
					}
					h.ServeHTTP(w, r)
				})
			}, nil)
			ctx := context.Background()
			if _, err := e.c.Authenticate(ctx, true); err != nil {
				t.Fatal(err)
			}
			_, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "once", ServiceID: "311", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}})
			if !errors.Is(err, nirva.ErrUncertain) || !strings.Contains(err.Error(), "does not prove that the job was not created") {
				t.Fatalf("err %v", err)
			}
			if posts.Load() != 1 || e.sb.JobCount("once") != 1 {
				t.Fatalf("%d POST /jobs, %d jobs created", posts.Load(), e.sb.JobCount("once"))
			}
		})
	}
}

// TestCreateJobChecksAnIdleSessionFirst: the common case of an expired
// token still posts, because the token is checked (and renewed) by a GET
// before the POST, not by resending the POST after a 401.
func TestCreateJobChecksAnIdleSessionFirst(t *testing.T) {
	e := newEnv(t, nil, func(c *nirva.Config) { c.SessionCheckAfter = time.Nanosecond })
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	e.sb.ExpireTokens()
	if _, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "after-expiry", ServiceID: "311", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}}); err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range e.sb.Requests() {
		routes = append(routes, r.Route)
	}
	want := "POST /authentication/authenticate,GET /options/type,POST /authentication/authenticate,GET /options/type,POST /jobs"
	if got := strings.Join(routes, ","); got != want || e.sb.JobCount("after-expiry") != 1 {
		t.Fatalf("requests %s, want %s; %d jobs", got, want, e.sb.JobCount("after-expiry"))
	}
}

// TestCreateJobRecentSessionIsNotChecked: a token used a moment ago is
// trusted; if it died meanwhile, the 401 is uncertain and nothing is resent.
func TestCreateJobRecentSessionIsNotChecked(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	e.sb.ExpireTokens()
	before := e.c.RequestCount()
	_, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "expired", ServiceID: "311", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}})
	if !errors.Is(err, nirva.ErrUncertain) || e.c.RequestCount()-before != 1 {
		t.Fatalf("err %v after %d requests", err, e.c.RequestCount()-before)
	}
}

// TestCreateJobWithoutSessionAuthenticatesFirst: after a logout (or
// before any authentication) the client authenticates, with the profile,
// before posting.
func TestCreateJobWithoutSessionAuthenticatesFirst(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	if _, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "fresh", ServiceID: "311", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}}); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "again", ServiceID: "311", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}}); err != nil {
		t.Fatal(err)
	}
	if e.sb.JobCount("fresh") != 1 || e.sb.JobCount("again") != 1 || e.c.Profile() == nil {
		t.Fatalf("jobs %d %d, profile %v", e.sb.JobCount("fresh"), e.sb.JobCount("again"), e.c.Profile())
	}
}

// TestCreateJobFormsOfConcurrentLetters: letters posted side by side each
// send their own form, whole and with its own length, though the form and
// copy buffers are reused from one letter to the next.
func TestCreateJobFormsOfConcurrentLetters(t *testing.T) {
	const letters = 96
	want := map[string][]byte{}
	parts := map[string]nirva.FilePart{}
	for i := range letters {
		// Sizes from a few hundred bytes to over 32 KiB (more than one
		// copy buffer), so that a reused buffer longer or shorter than the
		// next form would show.
		lines := []string{fmt.Sprintf("Letter %d", i)}
		for range i % 7 * 60 {
			lines = append(lines, fmt.Sprintf("line %d of letter %d", len(lines), i))
		}
		b, err := pdf.MakePDF(append(lines, "75002 PARIS")...)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("form-%d", i)
		want[name] = b
		parts[name] = nirva.FilePart{BoxID: "2201", FileName: "letter.pdf", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
	}
	var mu sync.Mutex
	var problems []string
	e := newEnv(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != "POST" || r.URL.Path != "/jobs" {
				h.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(r.Body)
			problem := checkForm(r, body, err, want)
			if problem != "" {
				mu.Lock()
				problems = append(problems, problem)
				mu.Unlock()
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.ServeHTTP(w, r)
		})
	}, nil)
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for name, part := range parts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: name, ServiceID: "311", Files: []nirva.FilePart{part}}); err != nil {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("%d of %d letters:\n%s", len(problems), letters, strings.Join(problems, "\n"))
	}
	for name := range want {
		if n := e.sb.JobCount(name); n != 1 {
			t.Errorf("%s: %d jobs", name, n)
		}
	}
}

// checkForm says what is wrong with one POST /jobs form ("" for nothing).
func checkForm(r *http.Request, body []byte, readErr error, want map[string][]byte) string {
	if readErr != nil {
		return "reading the form: " + readErr.Error()
	}
	if r.ContentLength != int64(len(body)) {
		return fmt.Sprintf("Content-Length %d for a form of %d bytes", r.ContentLength, len(body))
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return err.Error()
	}
	// A reader skips whatever comes before the first boundary: bytes of a
	// previous form left in a reused buffer would pass unseen.
	if !bytes.HasPrefix(body, []byte("--"+params["boundary"]+"\r\n")) {
		return fmt.Sprintf("the form does not start with its boundary: %.40q", body)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var jobName string
	var files [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "form: " + err.Error()
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return "form part: " + err.Error()
		}
		if p.FileName() != "" {
			files = append(files, b)
			continue
		}
		var v struct {
			JobName string `json:"jobName"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return "parameters: " + err.Error()
		}
		jobName = v.JobName
	}
	w, ok := want[jobName]
	switch {
	case !ok:
		return fmt.Sprintf("a form for an unknown job %q", jobName)
	case len(files) != 1 || !bytes.Equal(files[0], w):
		return fmt.Sprintf("%s: the form's file is not the letter's (%d files)", jobName, len(files))
	}
	return ""
}
