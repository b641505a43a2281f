package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seedJobs adds n jobs to the world without posting them (no multipart, no
// PDF reading; logged, when the world is on disk, with one fsync): the cost
// measured is the world's, not the upload's. Every other job needs an
// address, so its pack group stays editable.
func seedJobs(tb testing.TB, sb *Sandbox, n int) {
	tb.Helper()
	sb.mu.Lock()
	defer sb.mu.Unlock()
	created := sb.now().Add(-10 * time.Second)
	for i := range n {
		job := &jobRecord{Name: fmt.Sprintf("postform-%06d", i), ServiceID: "301", Login: "alice", Created: created, Documents: 1,
			Address: []string{"A", "75002 PARIS"}, NeedsAddress: i%2 == 1}
		sb.addJobLocked(job, services[0], "1SIDE")
		if _, err := sb.recordLocked(job); err != nil {
			tb.Fatal(err)
		}
	}
	if sb.log != nil {
		if err := sb.log.Sync(); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkWorld100k is one request's cost in a world of 100,000 jobs (ns/op
// of the handler, in process, no network): it must not grow with the world.
func BenchmarkWorld100k(b *testing.B) {
	const n = 100_000
	for _, persisted := range []bool{false, true} {
		opts := Options{Now: newClock().Now}
		label := "memory"
		if persisted {
			opts.Dir = b.TempDir()
			label = "dir"
		}
		sb, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		seedJobs(b, sb, n)
		tok := benchLogin(b, sb)
		do := func(b *testing.B, method, target string, body string) {
			req := httptest.NewRequest(method, target, strings.NewReader(body))
			req.Header.Set("X-Auth-Token", tok)
			w := httptest.NewRecorder()
			sb.Handler().ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
			}
		}
		b.Run(label+"/lookup-by-name", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				do(b, "GET", fmt.Sprintf("/jobs?jobName=postform-%06d", (i*7919)%n), "")
			}
		})
		b.Run(label+"/get-job", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				do(b, "GET", fmt.Sprintf("/jobs/%d", 88001+4*((i*7919)%n)), "")
			}
		})
		b.Run(label+"/get-shipments", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				do(b, "GET", fmt.Sprintf("/deliveries?jobId=%d", 88001+4*((i*7919)%n)), "")
			}
		})
		// A mutating request, durable before its answer when the world is
		// on disk; 16 at once, as an apply's workers send them.
		b.Run(label+"/edit-pack-group-parallel", func(b *testing.B) {
			var next atomic.Int64
			b.SetParallelism(8) // 16 goroutines on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1)*7919) % (n / 2)
					// Job 2i+1 needs an address; its pack group is id+1.
					do(b, "POST", fmt.Sprintf("/packGroups/%d/edit", 88001+4*(2*i+1)+1), `{"raw":{"address":[]}}`)
				}
			})
		})
		if err := sb.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLogin(tb testing.TB, sb *Sandbox) string {
	tb.Helper()
	req := httptest.NewRequest("POST", "/authentication/authenticate", strings.NewReader(`{"login":"alice","password":"secret"}`))
	w := httptest.NewRecorder()
	sb.Handler().ServeHTTP(w, req)
	tok, _, _ := strings.Cut(strings.TrimPrefix(w.Body.String(), `{"token":"`), `"`)
	if w.Code != 200 || tok == "" {
		tb.Fatalf("login: %d %s", w.Code, w.Body)
	}
	return tok
}

// TestRequestCostDoesNotGrowWithTheWorld: the same requests in a world of
// 100,000 jobs cost about what they cost in one of 1,000 (a scan of the
// world would make them ~100 times dearer; the bound leaves room for a
// loaded machine).
func TestRequestCostDoesNotGrowWithTheWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 jobs")
	}
	cost := func(n int) time.Duration {
		sb, err := Open(Options{Now: newClock().Now})
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close()
		seedJobs(t, sb, n)
		tok := benchLogin(t, sb)
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			for i := range 300 {
				k := (i * 7919) % n
				for _, target := range []string{
					fmt.Sprintf("/jobs?jobName=postform-%06d", k),
					fmt.Sprintf("/jobs/%d", 88001+4*k),
					fmt.Sprintf("/deliveries?jobId=%d", 88001+4*k),
					fmt.Sprintf("/shipments/%d/trackingFile/NONE", 88001+4*k+3),
				} {
					req := httptest.NewRequest("GET", target, nil)
					req.Header.Set("X-Auth-Token", tok)
					w := httptest.NewRecorder()
					sb.Handler().ServeHTTP(w, req)
					if w.Code != http.StatusOK && !strings.Contains(target, "NONE") {
						t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
					}
				}
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := cost(1_000), cost(100_000)
	t.Logf("1,200 requests: %v at 1,000 jobs, %v at 100,000", small, large)
	if large > 8*small {
		t.Errorf("requests in a world of 100,000 jobs cost %v, %.0f× those in a world of 1,000 (%v): something scans the world", large, float64(large)/float64(small), small)
	}
}

// The request log keeps the last maxRecords requests, oldest first.
func TestRequestLogKeepsTheLast(t *testing.T) {
	sb, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	for i := range maxRecords + 5 {
		w := httptest.NewRecorder()
		sb.Handler().ServeHTTP(w, httptest.NewRequest("GET", fmt.Sprintf("/options?n=%d", i), nil))
	}
	recs := sb.Requests()
	if len(recs) != maxRecords || recs[0].Query != "n=5" || recs[len(recs)-1].Query != fmt.Sprintf("n=%d", maxRecords+4) {
		t.Fatalf("%d records, first %q, last %q", len(recs), recs[0].Query, recs[len(recs)-1].Query)
	}
}

// Edits sent together are each durable before their answer: after a crash
// (no Close), the replayed log holds every answered edit, and the indexes
// rebuilt from it find the jobs again.
func TestConcurrentEditsSurviveACrash(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	sb, err := Open(Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	seedJobs(t, sb, 64)
	tok := benchLogin(t, sb)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			// Job 2i+1 needs an address; its pack group is its id + 1.
			req := httptest.NewRequest("POST", fmt.Sprintf("/packGroups/%d/edit", 88001+4*(2*i+1)+1),
				strings.NewReader(fmt.Sprintf(`{"raw":{"address":[],"note":"edit %d"}}`, i)))
			req.Header.Set("X-Auth-Token", tok)
			w := httptest.NewRecorder()
			sb.Handler().ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Errorf("edit %d: %d %s", i, w.Code, w.Body)
			}
		})
	}
	wg.Wait()
	sb.mu.Lock() // die without folding the log into a snapshot
	unlockDir(sb.lock)
	sb.lock, sb.closed = nil, true
	sb.mu.Unlock()

	sb2, err := Open(Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	for i := range 32 {
		j := sb2.index.byPackGroup[fmt.Sprint(88001+4*(2*i+1)+1)]
		if j == nil || j.PackGroups[0].Raw["note"] != fmt.Sprintf("edit %d", i) {
			t.Fatalf("edit %d lost after the crash: %+v", i, j)
		}
	}
	if sb2.JobCount("postform-000007") != 1 || len(sb2.Jobs()) != 64 {
		t.Fatalf("after the crash: %d jobs", len(sb2.Jobs()))
	}
}

// A run that changes nothing leaves the snapshot alone: at 100,000 jobs,
// rewriting it on every Close costs seconds per postform command.
func TestCloseWithoutChangesKeepsTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	sb, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	seedJobs(t, sb, 10)
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(filepath.Join(dir, "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	sb2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if sb2.JobCount("postform-000003") != 1 {
		t.Fatal("the snapshot lost a job")
	}
	if err := sb2.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(filepath.Join(dir, "world.json"))
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("world.json was rewritten by a run that changed nothing (%v)", err)
	}
}
