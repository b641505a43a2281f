package nirva_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
)

// TestRefreshUnderFaults: 200 jobs created without faults, then refreshed
// (Job + Deliveries) by 10 workers under 5% 5xx and 429 bursts: every read
// succeeds with the right status, each fault is retried, and no read that
// was answered is sent again.
func TestRefreshUnderFaults(t *testing.T) {
	e := newEnv(t, nil, func(c *nirva.Config) { c.MaxRetries = 8 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	const n = 200
	ids := make([]string, n)
	for i := range ids {
		job, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: fmt.Sprintf("job-%03d", i), ServiceID: "311",
			Files: []nirva.FilePart{pdfPart(t, "2201", "ACME", fmt.Sprint(i))}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = job.ID
	}
	e.now.Advance(time.Minute)
	e.sb.SetFaults(sandbox.Faults{FailRate: 0.05, Burst429Every: 40, Burst429Len: 3, RetryAfter: -1, Seed: 7})
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, n)
	for w := 0; w < 10; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				j, err := e.c.Job(ctx, ids[i])
				if err == nil && j.Status != "CREATED" {
					err = fmt.Errorf("job %s: status %s", j.ID, j.Status)
				}
				if err == nil {
					var ds []nirva.Delivery
					ds, err = e.c.Deliveries(ctx, ids[i])
					if err == nil && (len(ds) != 1 || ds[0].Shipments[0].StatusCode != 610) {
						err = fmt.Errorf("job %s: deliveries %+v", ids[i], ds)
					}
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range ids {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	faults := 0
	answered := map[string]int{}
	for _, r := range e.sb.Requests() {
		if r.Status == 503 || r.Status == 429 {
			faults++
		}
		if r.Method == "GET" && r.Status == 200 {
			answered[r.Path+"?"+r.Query]++
		}
	}
	if faults == 0 {
		t.Fatal("no fault was injected")
	}
	for _, id := range ids {
		job, deliveries := "/jobs/"+id+"?", "/deliveries?jobId="+id
		if answered[job] != 1 || answered[deliveries] != 1 {
			t.Errorf("job %s: %d answers to GET %s and %d to GET %s, want one each", id, answered[job], job, answered[deliveries], deliveries)
		}
	}
	t.Logf("%d requests, %d faults absorbed", len(e.sb.Requests()), faults)
}
