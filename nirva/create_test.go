package nirva_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
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
