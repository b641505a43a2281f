package nirva_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/pdf"
)

type env struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
	c   *nirva.Client
	now *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// newEnv serves a sandbox over httptest; wrap may intercept requests.
func newEnv(t testing.TB, wrap func(http.Handler) http.Handler, mod func(*nirva.Config)) *env {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	sb, err := sandbox.Open(sandbox.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := sb.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	cfg := nirva.Config{Endpoint: srv.URL, Login: "alice", Password: "s3cret-pass", RetryBaseDelay: time.Millisecond, RetryMaxDelay: 5 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	c, err := nirva.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return &env{sb: sb, srv: srv, c: c, now: clk}
}

func pdfPart(t testing.TB, box string, lines ...string) nirva.FilePart {
	t.Helper()
	if len(lines) > 0 {
		lines = append(lines, "75002 PARIS") // a locality: the sandbox reads the address as plan does
	}
	b, err := pdf.MakePDF(lines...)
	if err != nil {
		t.Fatal(err)
	}
	return nirva.FilePart{BoxID: box, FileName: "letter.pdf", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// throttle answers 429 (Retry-After: 0) to the next n requests on path.
type throttle struct {
	mu   sync.Mutex
	path string
	n    int
}

func (th *throttle) set(path string, n int) { th.mu.Lock(); th.path, th.n = path, n; th.mu.Unlock() }

func (th *throttle) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		th.mu.Lock()
		hit := th.n > 0 && r.URL.Path == th.path
		if hit {
			th.n--
		}
		th.mu.Unlock()
		if hit {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestAuthenticateAndCreateJobContract(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	p, err := e.c.Authenticate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := p.FindService("Lettre recommandée avec AR")
	if !ok || svc.ID != "311" || e.c.Profile() == nil {
		t.Fatalf("profile %+v", p)
	}
	box, _ := svc.FindBox("")
	annex, _ := svc.FindBox("annex")
	opts, err := e.c.ResolveOptions(ctx, map[string]string{"printMode": "2SIDE", "envelopeType": "c5"})
	if err != nil {
		t.Fatal(err)
	}
	job, err := e.c.CreateJob(ctx, nirva.JobRequest{
		JobName: "invoice-acme", ServiceID: svc.ID, Options: opts,
		Files: []nirva.FilePart{pdfPart(t, box.ID, "ACME"), pdfPart(t, annex.ID, "annex"), pdfPart(t, box.ID, "page 2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID == "" || job.Status != "RECEIVED" || job.Name != "invoice-acme" {
		t.Fatalf("job %+v", job)
	}
	reqs := e.sb.Requests()
	var create *sandbox.RequestRecord
	for i := range reqs {
		r := reqs[i]
		if r.Route != "POST /authentication/authenticate" && !r.HasToken {
			t.Errorf("%s %s sent without X-Auth-Token", r.Method, r.Path)
		}
		if r.Method == "POST" && r.Path == "/jobs" {
			create = &reqs[i]
		}
	}
	if create == nil {
		t.Fatal("no POST /jobs recorded")
	}
	if got := strings.Join(create.Fields, ","); got != "parameters,file__file_2201_0,file__file_2202_0,file__file_2201_1" {
		t.Fatalf("multipart fields %s", got)
	}
	var params map[string]any
	if err := json.Unmarshal([]byte(create.Parameters), &params); err != nil {
		t.Fatal(err)
	}
	if params["jobName"] != "invoice-acme" || params["serviceId"] != "311" || params["autocreateDeliveryCommand"] != true {
		t.Fatalf("parameters %s", create.Parameters)
	}
	if _, has := params["targetOwnerId"]; has {
		t.Fatalf("empty targetOwnerId sent: %s", create.Parameters)
	}
	if !strings.Contains(create.Parameters, `{"optionTypeId":"13","optionId":"61"}`) || !strings.Contains(create.Parameters, `{"optionTypeId":"12","optionId":"58"}`) {
		t.Fatalf("options %s", create.Parameters)
	}
	if e.c.RequestCount() != int64(len(reqs)) {
		t.Fatalf("RequestCount %d, sandbox saw %d", e.c.RequestCount(), len(reqs))
	}
	if err := e.c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Logout(ctx); err != nil { // no-op
		t.Fatal(err)
	}
}

func TestFollowLetterToTheEnd(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	p, _ := e.c.Authenticate(ctx, true)
	svc, _ := p.FindService("311")
	box, _ := svc.FindBox("main")
	job, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "j", ServiceID: svc.ID, Files: []nirva.FilePart{pdfPart(t, box.ID, "ACME")}})
	if err != nil {
		t.Fatal(err)
	}
	e.now.Advance(time.Minute)
	j, err := e.c.Job(ctx, job.ID)
	if err != nil || j.Status != "CREATED" || j.PackGroupCountPerStates["SENT"] != 1 || j.Created.IsZero() {
		t.Fatalf("%+v %v", j, err)
	}
	pgs, err := e.c.PackGroups(ctx, job.ID)
	if err != nil || len(pgs) != 1 || !pgs[0].Eligible {
		t.Fatalf("%+v %v", pgs, err)
	}
	ds, err := e.c.Deliveries(ctx, job.ID)
	if err != nil || len(ds) != 1 || ds[0].Status != "OUTPUTTED" {
		t.Fatalf("%+v %v", ds, err)
	}
	sh := ds[0].Shipments[0]
	if sh.StatusCode != 610 || sh.TrackingNumber() == "" || strings.Join(sh.Files(), ",") != "CERTIF,TRACKING_DETAIL,ACKN" {
		t.Fatalf("shipment %+v", sh)
	}
	var buf bytes.Buffer
	if n, err := e.c.DownloadTrackingFile(ctx, sh.ID, "TRACKING_DETAIL", &buf); err != nil || n == 0 {
		t.Fatal(err)
	}
	td, err := nirva.DecodeTrackingDetail(&buf)
	if err != nil || td.TrackingNumber != sh.TrackingNumber() || len(td.Events) != 2 || td.Events[1].Code != "DELIVERED" {
		t.Fatalf("%+v %v", td, err)
	}
	buf.Reset()
	if _, err := e.c.DownloadTrackingFile(ctx, sh.ID, "ACKN", &buf); err != nil || !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatal(err)
	}
	if _, err := e.c.DownloadTrackingFile(ctx, sh.ID, "NOPE", io.Discard); !nirva.IsNotFound(err) {
		t.Fatalf("missing file: %v", err)
	}
	jobs, err := e.c.JobsByName(ctx, "j")
	if err != nil || len(jobs) != 1 || jobs[0].ID != job.ID {
		t.Fatalf("%+v %v", jobs, err)
	}
	e.sb.SetFaults(sandbox.Faults{NoJobLookup: true})
	if _, err := e.c.JobsByName(ctx, "j"); !errors.Is(err, nirva.ErrLookupUnavailable) {
		t.Fatalf("lookup unavailable: %v", err)
	}
}

func TestNotEligibleEdit(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	e.c.Authenticate(ctx, true)
	job, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "blank", ServiceID: "301", Files: []nirva.FilePart{pdfPart(t, "2101")}})
	if err != nil {
		t.Fatal(err)
	}
	e.now.Advance(time.Minute)
	pgs, _ := e.c.PackGroups(ctx, job.ID)
	if len(pgs) != 1 || pgs[0].Eligible || pgs[0].Status != "NOT_ELIGIBLE" || len(pgs[0].Reasons) != 1 {
		t.Fatalf("%+v", pgs)
	}
	raw := pgs[0].Raw
	raw["address"] = []any{"ACME", "1 rue X", "75001 PARIS"}
	pg, err := e.c.EditPackGroup(ctx, pgs[0].ID, raw)
	if err != nil || !pg.Eligible {
		t.Fatalf("%+v %v", pg, err)
	}
	e.now.Advance(3 * time.Second)
	if j, _ := e.c.Job(ctx, job.ID); j.Status != "CREATED" {
		t.Fatalf("status %s", j.Status)
	}
}

func TestReauthenticateOnceOn401(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	e.c.Authenticate(ctx, true)
	e.c.Profile().Services = nil // must be refreshed by the re-authentication
	e.sb.ExpireTokens()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.c.Options(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	auths := 0
	for _, r := range e.sb.Requests() {
		if r.Route == "POST /authentication/authenticate" {
			auths++
		}
	}
	if auths != 2 {
		t.Fatalf("%d authentications, want 2 (initial + one re-auth)", auths)
	}
	if len(e.c.Profile().Services) == 0 {
		t.Fatal("re-authentication did not ask for the profile again")
	}
}

func TestPersistent401IsAnError(t *testing.T) {
	var n atomic.Int32
	e := newEnv(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/options" {
				n.Add(1)
				w.WriteHeader(401)
				return
			}
			h.ServeHTTP(w, r)
		})
	}, nil)
	e.c.Authenticate(context.Background(), false)
	_, err := e.c.Options(context.Background())
	var ae *nirva.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || n.Load() != 2 {
		t.Fatalf("err %v after %d calls", err, n.Load())
	}
}

func TestRetriesOn5xxAnd429(t *testing.T) {
	th := &throttle{}
	e := newEnv(t, th.wrap, nil)
	ctx := context.Background()
	e.c.Authenticate(ctx, false)
	th.set("/options", 2)
	if _, err := e.c.Options(ctx); err != nil {
		t.Fatal(err)
	}
	e.sb.SetFaults(sandbox.Faults{FailRate: 1})
	start := e.c.RequestCount()
	_, err := e.c.Options(ctx)
	var ae *nirva.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("err %v", err)
	}
	if got := e.c.RequestCount() - start; got != 6 {
		t.Fatalf("%d attempts, want 1 + 5 retries", got)
	}
}

func TestCreateJobRefusalAndUncertainty(t *testing.T) {
	th := &throttle{}
	e := newEnv(t, th.wrap, func(c *nirva.Config) { c.MaxRetries = 2 })
	ctx := context.Background()
	e.c.Authenticate(ctx, true)
	req := nirva.JobRequest{JobName: "x", ServiceID: "999", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}}
	_, err := e.c.CreateJob(ctx, req)
	var ae *nirva.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != "UNKNOWN_SERVICE" || errors.Is(err, nirva.ErrUncertain) {
		t.Fatalf("unknown service: %v", err)
	}

	req.ServiceID = "311"
	e.sb.SetFaults(sandbox.Faults{FailRate: 1})
	before := e.c.RequestCount()
	_, err = e.c.CreateJob(ctx, req)
	if !errors.Is(err, nirva.ErrUncertain) || !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("5xx: %v", err)
	}
	if e.c.RequestCount()-before != 1 {
		t.Fatal("POST /jobs retried after a 5xx")
	}

	req.JobName = "dropped"
	e.sb.SetFaults(sandbox.Faults{DropAfterCreate: 1})
	_, err = e.c.CreateJob(ctx, req)
	if !errors.Is(err, nirva.ErrUncertain) {
		t.Fatalf("dropped: %v", err)
	}
	if e.sb.JobCount("dropped") != 1 {
		t.Fatal("the dropped job should exist exactly once")
	}

	req.JobName = "hung"
	e.sb.SetFaults(sandbox.Faults{HangAfterCreate: true})
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = e.c.CreateJob(tctx, req)
	cancel()
	if !errors.Is(err, nirva.ErrUncertain) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung: %v", err)
	}

	// A 429 may come after the job was created (TestCreateJob429Or401
	// AfterCreation): never resent, uncertain even when, as here, the
	// platform refused first.
	req.JobName = "throttled"
	e.sb.SetFaults(sandbox.Faults{})
	th.set("/jobs", 2)
	before = e.c.RequestCount()
	if _, err := e.c.CreateJob(ctx, req); !errors.Is(err, nirva.ErrUncertain) {
		t.Fatalf("429: %v", err)
	}
	if e.c.RequestCount()-before != 1 || e.sb.JobCount("throttled") != 0 {
		t.Fatalf("429: %d requests, %d jobs", e.c.RequestCount()-before, e.sb.JobCount("throttled"))
	}
}

func TestCreateJobInProcessDrop(t *testing.T) {
	sb, err := sandbox.Open(sandbox.Options{Faults: sandbox.Faults{DropAfterCreate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	c, _ := nirva.New(nirva.Config{Endpoint: sandbox.Endpoint, Login: "a", Password: "b", HTTPClient: sb.HTTPClient()})
	ctx := context.Background()
	if _, err := c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateJob(ctx, nirva.JobRequest{JobName: "d", ServiceID: "311", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}})
	if !errors.Is(err, nirva.ErrUncertain) || sb.JobCount("d") != 1 {
		t.Fatalf("%v", err)
	}
}

func TestNoSecretsInErrorsOrDebug(t *testing.T) {
	var tokens sync.Map
	var debug bytes.Buffer
	e := newEnv(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tok := r.Header.Get("X-Auth-Token"); tok != "" {
				tokens.Store(tok, true)
				if r.URL.Path == "/options/type" { // a server echoing secrets
					w.WriteHeader(400)
					io.WriteString(w, `{"code":"BAD","message":"token `+tok+` and password s3cret-pass rejected"}`)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}, func(c *nirva.Config) { c.Debug = &debug })
	ctx := context.Background()
	e.c.Authenticate(ctx, false)
	_, err1 := e.c.OptionTypes(ctx)
	bad, _ := nirva.New(nirva.Config{Endpoint: e.srv.URL, Login: "a", Password: "wrong"})
	_, err2 := bad.Authenticate(ctx, false)
	for _, err := range []error{err1, err2} {
		if err == nil {
			t.Fatal("expected an error")
		}
		text := err.Error() + debug.String()
		if strings.Contains(text, "s3cret-pass") {
			t.Fatalf("password leaked: %s", text)
		}
		tokens.Range(func(k, _ any) bool {
			if strings.Contains(text, k.(string)) {
				t.Fatalf("token leaked: %s", text)
			}
			return true
		})
	}
	if _, err := e.c.JobsByName(ctx, "a b"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(debug.String(), "GET /jobs?jobName=a+b -> 200") {
		t.Fatalf("debug log: %s", debug.String())
	}
	if !strings.Contains(debug.String(), "GET /options/type -> 400") {
		t.Fatalf("debug log: %s", debug.String())
	}
}

func TestResolveOptionsErrors(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	e.c.Authenticate(ctx, false)
	_, err := e.c.ResolveOptions(ctx, map[string]string{"printMode": "3SIDE", "color": "red"})
	if err == nil || !strings.Contains(err.Error(), "1SIDE, 2SIDE") || !strings.Contains(err.Error(), "envelopeType, printMode") {
		t.Fatalf("%v", err)
	}
	before := e.c.RequestCount()
	e.c.ResolveOptions(ctx, map[string]string{"printMode": "1SIDE"})
	if e.c.RequestCount() != before {
		t.Fatal("options fetched twice")
	}
}

// A re-authentication after a 401 is not a retry: with one retry allowed,
// a call answered 401 (token expired), then 429, then 200 succeeds.
func TestReauthenticationIsNotARetry(t *testing.T) {
	var calls atomic.Int32
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/options" && calls.Add(1) == 2 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, wrap, func(c *nirva.Config) { c.MaxRetries = 1 })
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, false); err != nil {
		t.Fatal(err)
	}
	e.sb.ExpireTokens()
	if _, err := e.c.Options(ctx); err != nil {
		t.Fatalf("401, re-authentication, 429, 200 with one retry: %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls to /options, want 3", calls.Load())
	}
}
