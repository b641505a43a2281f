package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// processCase is one upload whose processing the tests compare.
type processCase struct {
	name, service string
	files         []filePart
	main          int // the file whose address window is read
}

type filePart struct {
	field string
	data  []byte
}

func processCases(t *testing.T) []processCase {
	t.Helper()
	good := pdf(t, "ACME SAS", "12 rue de la Paix", "75002 PARIS")
	var encrypted bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(good), &encrypted, model.NewAESConfiguration("", "owner", 256)); err != nil {
		t.Fatal(err)
	}
	cases := []processCase{
		{"good", "311", []filePart{{"file__file_2201_0", good}}, 0},
		{"blank", "311", []filePart{{"file__file_2201_0", pdf(t)}}, 0},
		{"undeliverable, two channels", "321", []filePart{{"file__file_2301_0", pdf(t, "UNDELIVERABLE", "nowhere", "75002 PARIS")}}, 0},
		{"not a pdf", "311", []filePart{{"file__file_2201_0", []byte("hello, not a pdf")}}, 0},
		{"truncated", "311", []filePart{{"file__file_2201_0", good[:len(good)/2]}}, 0},
		{"encrypted", "311", []filePart{{"file__file_2201_0", encrypted.Bytes()}}, 0},
		{"bad annex", "311", []filePart{{"file__file_2201_0", good}, {"file__file_2202_0", []byte("%PDF-1.4 junk")}}, 0},
		// The address comes from the MAIN box's first file by number, not
		// from the first part uploaded.
		{"second main file first", "301", []filePart{{"file_main2101_1", pdf(t)}, {"file_main2101_0", pdf(t, "B", "1 rue Y", "69006 LYON")}}, 1},
	}
	for _, file := range []string{"letter.pdf", "topleft.pdf", "crossing.pdf", "nolocality.pdf"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "pdf", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, processCase{file, "311", []filePart{{"file__file_2201_0", b}}, 0})
	}
	return cases
}

// postCase posts c, its parts in their order, so that two sandboxes
// receive the same requests.
func (h *harness) postCase(c processCase) string {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("parameters", `{"jobName":"`+c.name+`","serviceId":"`+c.service+`"}`)
	for _, f := range c.files {
		w, _ := mw.CreateFormFile(f.field, f.field+".pdf")
		w.Write(f.data)
	}
	mw.Close()
	code, b := h.do("POST", "/jobs", h.token, mw.FormDataContentType(), &buf)
	var job map[string]any
	json.Unmarshal(b, &job)
	if code != 201 || job["status"] != "RECEIVED" {
		h.t.Fatalf("%s: create: %d %s", c.name, code, b)
	}
	return job["jobId"].(string)
}

// answers is everything a client can read about job id, one line per route.
func (h *harness) answers(id, name string) string {
	h.t.Helper()
	var b strings.Builder
	for _, path := range []string{"/jobs/" + id, "/jobs/" + id + "/packGroups", "/deliveries?jobId=" + id, "/jobs?jobName=" + strings.ReplaceAll(name, " ", "%20")} {
		code, body := h.do("GET", path, h.token, "", nil)
		fmt.Fprintf(&b, "%s: %d %s\n", path, code, body)
	}
	var ds []delivery
	h.get("/deliveries?jobId="+id, &ds)
	for _, d := range ds {
		for _, sh := range d.Shipments {
			for _, f := range []string{"CERTIF", "TRACKING_DETAIL", "ACKN"} {
				code, body := h.do("GET", "/shipments/"+sh.ShipmentID+"/trackingFile/"+f, h.token, "", nil)
				fmt.Fprintf(&b, "%s %s: %d %x\n", sh.ShipmentID, f, code, body)
			}
		}
	}
	return b.String()
}

// TestLazyProcessingAnswersAsEager: whatever the upload (good, blank,
// undeliverable, unparsable, encrypted, a bad annex, the real letters of
// pdf/testdata), a job processed when first needed answers every route at
// every instant exactly as one processed on arrival (what POST /jobs did
// before processing moved out of it), and as one whose sandbox crashed and
// was reopened before processing it. The eager world reads its jobs at
// every instant, the lazy ones only from the instant given.
func TestLazyProcessingAnswersAsEager(t *testing.T) {
	cases := processCases(t)
	instants := []time.Duration{time.Second, 3 * time.Second, 5 * time.Second, 7 * time.Second, 10 * time.Second,
		13 * time.Second, 20 * time.Second, 30 * time.Second, 40 * time.Second, time.Minute}
	for first := range instants {
		t.Run(fmt.Sprintf("first read at %v", instants[first]), func(t *testing.T) {
			eager, lazy := newHarness(t, Options{}), newHarness(t, Options{})
			dir := t.TempDir()
			crashed := newHarness(t, Options{Dir: dir})
			var ids []string
			for _, c := range cases {
				id := eager.postCase(c)
				processOnArrival(eager.sb, eager.sb.index.byID[id], c)
				if lazy.postCase(c) != id || crashed.postCase(c) != id {
					t.Fatalf("%s: the worlds gave different ids", c.name)
				}
				ids = append(ids, id)
			}
			for _, id := range ids {
				if j := lazy.sb.index.byID[id]; j.Pending == nil {
					t.Fatalf("job %s was processed by POST /jobs", id)
				}
			}
			crashed = crashed.crashAndReopen(dir)
			elapsed := time.Duration(0)
			for k, at := range instants {
				for _, h := range []*harness{eager, lazy, crashed} {
					h.clk.Advance(at - elapsed)
				}
				elapsed = at
				for i, c := range cases {
					want := eager.answers(ids[i], c.name)
					if k < first {
						continue
					}
					for _, h := range []*harness{lazy, crashed} {
						if got := h.answers(ids[i], c.name); got != want {
							t.Fatalf("%s at %v: processed when needed\n%s\nprocessed on arrival\n%s", c.name, at, got, want)
						}
					}
				}
			}
		})
	}
}

// processOnArrival is what POST /jobs did before processing moved out of
// it (create.go's process, as it was), from the case's own files: the
// reference the lazy worlds are compared with.
func processOnArrival(sb *Sandbox, job *jobRecord, c processCase) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	job.Pending = nil
	defer job.fillAddresses()
	for _, f := range c.files {
		if _, err := inspectPDF(f.data); err != nil {
			job.Failed, job.FailReason = true, fmt.Sprintf("%s: %v", f.field, err)
			return
		}
	}
	main := c.files[c.main]
	lines, reasons, err := readAddress(sb.opts.PDF, main.data)
	if err != nil {
		job.Failed, job.FailReason = true, fmt.Sprintf("%s: %v", main.field, err)
	}
	job.NeedsAddress, job.AddressReasons = len(reasons) > 0, reasons
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && len(job.Address) < 6 {
			job.Address = append(job.Address, l)
		}
		job.Undeliverable = job.Undeliverable || strings.Contains(strings.ToUpper(l), "UNDELIVERABLE")
	}
}

// crashAndReopen kills h's sandbox without Close (no snapshot, no
// processing of what is pending) and opens dir again on the same clock.
func (h *harness) crashAndReopen(dir string) *harness {
	h.t.Helper()
	h.srv.Close()
	h.sb.mu.Lock()
	unlockDir(h.sb.lock)
	h.sb.lock, h.sb.closed = nil, true
	h.sb.mu.Unlock()
	clk := h.clk
	h2 := newHarness(h.t, Options{Dir: dir, Now: clk.Now})
	h2.clk = clk
	return h2
}

// A job accepted but not processed survives a crash with its upload (the
// log's line holds it) and is processed after it; Close then processes
// what is left, so the snapshot holds addresses and reasons, never an
// upload, and the world reopened from it answers the same.
func TestPendingJobsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Options{Dir: dir})
	_, good := h.post(`{"jobName":"good","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t, "ACME SAS", "75002 PARIS")})
	_, blank := h.post(`{"jobName":"blank","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t)})
	_, late := h.post(`{"jobName":"late","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t, "LATE SARL", "69006 LYON")})
	h = h.crashAndReopen(dir)
	for _, name := range []string{"good", "blank", "late"} {
		if j := h.sb.index.byName[name]; len(j) != 1 || j[0].Pending == nil {
			t.Fatalf("%s after the crash: %+v", name, j)
		}
	}
	h.clk.Advance(5 * time.Second)
	var pgs []struct {
		Status      string
		Raw         map[string]any
		Eligibility struct{ Reasons []string }
	}
	h.get("/jobs/"+good["jobId"].(string)+"/packGroups", &pgs)
	if len(pgs) != 1 || pgs[0].Status != "ELIGIBLE" || fmt.Sprint(pgs[0].Raw["address"]) != "[ACME SAS 75002 PARIS]" {
		t.Fatalf("good after the crash: %+v", pgs)
	}
	h.get("/jobs/"+blank["jobId"].(string)+"/packGroups", &pgs)
	if len(pgs) != 1 || pgs[0].Status != "NOT_ELIGIBLE" || !strings.HasPrefix(pgs[0].Eligibility.Reasons[0], "ADDRESS_UNREADABLE: ") {
		t.Fatalf("blank after the crash: %+v", pgs)
	}
	if j := h.sb.index.byName["late"][0]; j.Pending == nil {
		t.Fatal("a job nobody read was processed before Close")
	}

	h.srv.Close()
	if err := h.sb.Close(); err != nil {
		t.Fatal(err)
	}
	snap, err := os.ReadFile(filepath.Join(dir, "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(snap, []byte(`"pending"`)) || !bytes.Contains(snap, []byte(`"LATE SARL"`)) || !bytes.Contains(snap, []byte(`"needsAddress":true`)) {
		t.Fatalf("snapshot after Close: %s", snap)
	}
	h2 := newHarness(t, Options{Dir: dir, Now: h.clk.Now})
	h2.clk = h.clk
	h2.get("/jobs/"+late["jobId"].(string)+"/packGroups", &pgs)
	if len(pgs) != 1 || pgs[0].Status != "ELIGIBLE" || fmt.Sprint(pgs[0].Raw["address"]) != "[LATE SARL 69006 LYON]" {
		t.Fatalf("late after the restart: %+v", pgs)
	}
}

// Requests that need the same pending job at once all get its processed
// answer (one processes it, the others wait), and a job processed outside
// the lock does not hold up the others' requests for good (run with -race).
func TestConcurrentReadsOfAPendingJob(t *testing.T) {
	h := newHarness(t, Options{})
	var ids []string
	for i := range 4 {
		_, job := h.post(fmt.Sprintf(`{"jobName":"c%d","serviceId":"311"}`, i), map[string][]byte{"file__file_2201_0": pdf(t)})
		ids = append(ids, job["jobId"].(string))
	}
	h.clk.Advance(5 * time.Second)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			path := []string{"/jobs/%s", "/jobs/%s/packGroups", "/deliveries?jobId=%s"}[i%3]
			code, body := h.do("GET", fmt.Sprintf(path, ids[i%4]), h.token, "", nil)
			if code != 200 || i%3 == 1 && !bytes.Contains(body, []byte("NOT_ELIGIBLE")) {
				t.Errorf("%s: %d %s", path, code, body)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if j := h.sb.index.byID[id]; j.Pending != nil || !j.NeedsAddress {
			t.Fatalf("job %s: %+v", id, j)
		}
	}
	if len(h.sb.inflight) != 0 {
		t.Fatalf("%d jobs still marked in flight", len(h.sb.inflight))
	}
}

// Letters nobody reads are kept only up to the budget: beyond it the
// worker processes the oldest, so the uploads kept stay bounded, and those
// jobs answer as the others.
func TestPendingUploadsStayWithinTheBudget(t *testing.T) {
	blank := pdf(t)
	h := newHarness(t, Options{PendingBudget: int64(3*len(blank) + 1)})
	var ids []string
	for i := range 12 {
		_, job := h.post(fmt.Sprintf(`{"jobName":"b%d","serviceId":"311"}`, i), map[string][]byte{"file__file_2201_0": blank})
		ids = append(ids, job["jobId"].(string))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		h.sb.mu.Lock()
		kept, count := h.sb.pending.bytes, h.sb.pending.count
		h.sb.mu.Unlock()
		if kept <= h.sb.opts.PendingBudget {
			if count != 3 {
				t.Fatalf("%d jobs kept pending within a budget of 3 uploads", count)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("uploads of %d bytes still kept, over a budget of %d", kept, h.sb.opts.PendingBudget)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, id := range ids {
		if pending := h.sb.index.byID[id].Pending != nil; pending != (i >= 9) {
			t.Fatalf("job %d pending: %v; the oldest must be processed first", i, pending)
		}
	}
	h.clk.Advance(5 * time.Second)
	for _, id := range ids {
		var j struct{ PackGroupCountPerStates map[string]int }
		h.get("/jobs/"+id, &j)
		if j.PackGroupCountPerStates["NOT_ELIGIBLE"] != 1 {
			t.Fatalf("job %s: %v", id, j.PackGroupCountPerStates)
		}
	}
}

// A listing of every job processes those whose status depends on it (in
// parallel) and leaves the others pending.
func TestListingProcessesTheJobsItShows(t *testing.T) {
	h := newHarness(t, Options{})
	for i := range 5 {
		h.post(fmt.Sprintf(`{"jobName":"l%d","serviceId":"311"}`, i), map[string][]byte{"file__file_2201_0": pdf(t)})
	}
	h.post(`{"jobName":"broken","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": []byte("%PDF-1.4 junk")})
	h.clk.Advance(5 * time.Second)
	h.post(`{"jobName":"new","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t)})
	var got []string
	for _, j := range h.sb.Jobs() {
		got = append(got, j.JobName+" "+j.Status)
	}
	want := "l0 PACK_GROUP_CREATED, l1 PACK_GROUP_CREATED, l2 PACK_GROUP_CREATED, l3 PACK_GROUP_CREATED, l4 PACK_GROUP_CREATED, broken PROCESSING_ERROR, new RECEIVED"
	if strings.Join(got, ", ") != want {
		t.Fatalf("jobs: %s", strings.Join(got, ", "))
	}
	if h.sb.index.byName["new"][0].Pending == nil || h.sb.index.byName["l3"][0].Pending != nil {
		t.Fatal("the listing processed a job not due, or left a due one pending")
	}
	var jobs []struct{ JobName, Status string }
	if h.get("/jobs", &jobs); len(jobs) != 7 || jobs[0].JobName != "new" || jobs[1].Status != "PROCESSING_ERROR" {
		t.Fatalf("GET /jobs: %+v", jobs)
	}
}

// A world file whose pending upload names no MAIN file (edited by hand)
// fails that job rather than the sandbox.
func TestPendingUploadWithoutMainFails(t *testing.T) {
	for _, p := range []*pendingUpload{{}, {Files: []pendingFile{{"file__file_2201_0", pdf(t, "A", "75002 PARIS")}}, Main: 1}} {
		if r := processUpload(testPDF, p); !r.failed {
			t.Fatalf("%+v processed as %+v", p, r)
		}
	}
}

// A reader that panics on an upload fails that job: processing runs off the
// request path, where no HTTP server would catch it (a nil engine panics).
func TestProcessingPanicFailsTheJob(t *testing.T) {
	p := &pendingUpload{Files: []pendingFile{{"file__file_2201_0", pdf(t, "A", "75002 PARIS")}}}
	if r := processUpload(nil, p); !r.failed || !strings.Contains(r.failReason, "could not be processed") {
		t.Fatalf("processed as %+v", r)
	}
}
