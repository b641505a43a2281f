package nirva_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/postform/postform/nirva"
)

// A platform that ignores the jobName filter lists other jobs: that must
// read as "lookup unavailable", never as "no such job" (which would let a
// letter be posted twice).
func TestJobLookupIgnoredFilterIsUnavailable(t *testing.T) {
	ignoreFilter := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/jobs" && r.URL.Query().Has("jobName") {
				q := r.URL.Query()
				q.Set("jobName", "other")
				r.URL.RawQuery = q.Encode()
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, ignoreFilter, nil)
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "other", ServiceID: "301", Files: []nirva.FilePart{pdfPart(t, "2101", "ACME")}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.JobsByName(ctx, "mine")
	if !errors.Is(err, nirva.ErrLookupUnavailable) {
		t.Fatalf("a lookup answered with another job's name: %v, want ErrLookupUnavailable", err)
	}
}

// A redirect after POST /jobs may come after the job was created: it is
// an uncertain outcome, not a refusal.
func TestCreateJobRedirectIsUncertain(t *testing.T) {
	redirect := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/jobs" {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r) // the platform creates the job
				http.Redirect(w, r, "/jobs/elsewhere", http.StatusSeeOther)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, redirect, nil)
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "letter-1", ServiceID: "301", Files: []nirva.FilePart{pdfPart(t, "2101", "ACME")}})
	if !errors.Is(err, nirva.ErrUncertain) {
		t.Fatalf("303 after POST /jobs: %v, want ErrUncertain", err)
	}
	if n := e.sb.JobCount("letter-1"); n != 1 {
		t.Fatalf("jobs: %d", n)
	}
}
