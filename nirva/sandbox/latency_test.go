package sandbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	postpdf "github.com/postform/postform/pdf"
)

// The latency holds the answer back, not the work: a POST /jobs stores its
// job at once and answers no sooner than the latency after its arrival, so
// the sandbox's own cost is inside the latency a benchmark asks for; and a
// client that gives up during the latency has still created the job (its
// answer is lost, as a platform's would be).
func TestLatencyHoldsTheAnswerNotTheWork(t *testing.T) {
	letter, err := postpdf.MakePDF("ACME SAS", "12 rue de la Paix", "75002 PARIS")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Open(Options{Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := benchLogin(t, sb)
	const lat = 400 * time.Millisecond
	sb.SetFaults(Faults{Latency: lat})
	post := func(ctx context.Context, name string) (chan *httptest.ResponseRecorder, time.Time) {
		body, ctype := createBody(t, name, letter)
		req := httptest.NewRequest("POST", "/jobs", body).WithContext(ctx)
		req.Header.Set("X-Auth-Token", tok)
		req.Header.Set("Content-Type", ctype)
		answered := make(chan *httptest.ResponseRecorder, 1)
		start := time.Now()
		go func() {
			w := httptest.NewRecorder()
			sb.Handler().ServeHTTP(w, req)
			answered <- w
		}()
		return answered, start
	}
	jobs := func() int { return len(sb.Jobs()) }

	answered, start := post(context.Background(), "postform-000001")
	for jobs() < 1 {
		if time.Since(start) > lat/2 {
			t.Fatalf("no job %s after the request arrived: the latency delays the work", time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	w := <-answered
	if d := time.Since(start); d < lat {
		t.Fatalf("answered after %s, under the %s latency", d, lat)
	}
	if w.Code != http.StatusCreated {
		t.Fatalf("POST /jobs: %d %s", w.Code, w.Body)
	}

	ctx, cancel := context.WithCancel(context.Background())
	answered, start = post(ctx, "postform-000002")
	for jobs() < 2 {
		if time.Since(start) > lat/2 {
			t.Fatal("the second job was not created")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-answered
	if d := time.Since(start); d >= lat {
		t.Fatalf("a client that gave up still waited %s", d)
	}
	if n := jobs(); n != 2 {
		t.Fatalf("%d jobs after a client gave up during the latency, want 2 (created, answer lost)", n)
	}
}
