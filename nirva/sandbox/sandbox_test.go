package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	postpdf "github.com/postform/postform/pdf"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// world is a test harness: a sandbox, its clock, a token.
type harness struct {
	t     *testing.T
	sb    *Sandbox
	clk   *clock
	srv   *httptest.Server
	token string
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	clk := newClock()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	sb, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sb: sb, clk: clk, srv: httptest.NewServer(sb.Handler())}
	t.Cleanup(func() { h.srv.Close(); sb.Close() })
	h.token = h.login("alice", "secret")
	return h
}

func (h *harness) login(login, password string) string {
	code, body := h.do("POST", "/authentication/authenticate", "", "application/json",
		strings.NewReader(fmt.Sprintf(`{"login":%q,"password":%q,"withProfileDetail":true}`, login, password)))
	if code != 200 {
		return ""
	}
	var r struct{ Token string }
	json.Unmarshal(body, &r)
	return r.Token
}

func (h *harness) do(method, path, token, ctype string, body io.Reader) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, body)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (h *harness) get(path string, v any) int {
	h.t.Helper()
	code, b := h.do("GET", path, h.token, "", nil)
	if v != nil && code == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			h.t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return code
}

// post creates a job from parts (field -> content; "parameters" is JSON).
func (h *harness) post(params string, files map[string][]byte) (int, map[string]any) {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if params != "" {
		mw.WriteField("parameters", params)
	}
	for name, data := range files {
		w, _ := mw.CreateFormFile(name, name+".pdf")
		w.Write(data)
	}
	mw.Close()
	code, b := h.do("POST", "/jobs", h.token, mw.FormDataContentType(), &buf)
	var out map[string]any
	json.Unmarshal(b, &out)
	return code, out
}

func pdf(t *testing.T, lines ...string) []byte {
	t.Helper()
	b, err := postpdf.MakePDF(lines...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h *harness) status(jobID string) string {
	var j struct{ Status string }
	h.get("/jobs/"+jobID, &j)
	return j.Status
}

type delivery struct {
	Channel   string
	Status    string
	Shipments []struct {
		ShipmentID string
		Status     int
		Metadata   []struct{ MetadataType, Name, Value string }
	}
}

func TestLifecycle(t *testing.T) {
	h := newHarness(t, Options{TimeScale: 10})
	code, job := h.post(`{"jobName":"a","serviceId":"311","autocreateDeliveryCommand":true}`,
		map[string][]byte{"file__file_2201_0": pdf(t, "ACME SAS", "12 rue de la Paix", "75002 PARIS")})
	if code != 201 || job["status"] != "RECEIVED" {
		t.Fatalf("create: %d %v", code, job)
	}
	id := job["jobId"].(string)
	steps := []struct {
		at     float64 // scaled seconds
		status string
	}{{1, "RECEIVED"}, {3, "PROCESSING"}, {5, "PACK_GROUP_CREATED"}, {7, "CREATED"}}
	elapsed := 0.0
	for _, st := range steps {
		h.clk.Advance(time.Duration((st.at - elapsed) / 10 * float64(time.Second)))
		elapsed = st.at
		if got := h.status(id); got != st.status {
			t.Fatalf("at %vs: status %s, want %s", st.at, got, st.status)
		}
	}
	var ds []delivery
	h.get("/deliveries?jobId="+id, &ds)
	if len(ds) != 1 || ds[0].Status != "CREATED" || len(ds[0].Shipments) != 0 {
		t.Fatalf("deliveries at 7s: %+v", ds)
	}
	h.clk.Advance(6 * time.Second) // 67 s scaled
	h.get("/deliveries?jobId="+id, &ds)
	sh := ds[0].Shipments[0]
	if ds[0].Status != "OUTPUTTED" || sh.Status != 610 {
		t.Fatalf("after a minute: %+v", ds)
	}
	names := map[string]string{}
	for _, m := range sh.Metadata {
		names[m.Name] = m.Value
	}
	for _, n := range []string{"TRACKING", "CERTIF", "TRACKING_DETAIL", "ACKN"} {
		if names[n] == "" {
			t.Fatalf("metadata %s missing: %+v", n, sh.Metadata)
		}
	}
	code, body := h.do("GET", "/shipments/"+sh.ShipmentID+"/trackingFile/ACKN", h.token, "", nil)
	if code != 200 || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("ACKN: %d", code)
	}
	if _, err := inspectPDF(body); err != nil {
		t.Fatal(err)
	}
	var td struct {
		TrackingNumber string
		Events         []struct{ Code string }
	}
	if h.get("/shipments/"+sh.ShipmentID+"/trackingFile/TRACKING_DETAIL", &td) != 200 || td.TrackingNumber != names["TRACKING"] || len(td.Events) != 2 {
		t.Fatalf("tracking detail: %+v", td)
	}
}

func TestProofsNotBeforeTheirTime(t *testing.T) {
	h := newHarness(t, Options{})
	_, job := h.post(`{"jobName":"a","serviceId":301}`, map[string][]byte{"file_main2101_0": pdf(t, "X", "75002 PARIS")})
	id := job["jobId"].(string)
	h.clk.Advance(30 * time.Second) // mailed, not delivered
	var ds []delivery
	h.get("/deliveries?jobId="+id, &ds)
	sh := ds[0].Shipments[0]
	if sh.Status != 600 {
		t.Fatalf("status %d", sh.Status)
	}
	if code, _ := h.do("GET", "/shipments/"+sh.ShipmentID+"/trackingFile/ACKN", h.token, "", nil); code != 404 {
		t.Fatalf("ACKN before delivery: %d", code)
	}
	if code, _ := h.do("GET", "/shipments/"+sh.ShipmentID+"/trackingFile/CERTIF", h.token, "", nil); code != 200 {
		t.Fatalf("CERTIF after mailing: %d", code)
	}
}

func TestNotEligibleThenEdit(t *testing.T) {
	h := newHarness(t, Options{})
	_, job := h.post(`{"jobName":"blank","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t)})
	id := job["jobId"].(string)
	h.clk.Advance(5 * time.Minute)
	if got := h.status(id); got != "PACK_GROUP_CREATED" {
		t.Fatalf("status %s", got)
	}
	var j struct{ PackGroupCountPerStates map[string]int }
	h.get("/jobs/"+id, &j)
	if j.PackGroupCountPerStates["NOT_ELIGIBLE"] != 1 {
		t.Fatalf("counts %v", j.PackGroupCountPerStates)
	}
	var pgs []struct {
		PackGroupID string
		Status      string
		Eligibility struct {
			Eligible bool
			Reasons  []string
		}
	}
	h.get("/jobs/"+id+"/packGroups", &pgs)
	if len(pgs) != 1 || pgs[0].Status != "NOT_ELIGIBLE" || !strings.HasPrefix(pgs[0].Eligibility.Reasons[0], "ADDRESS_UNREADABLE") {
		t.Fatalf("pack groups %+v", pgs)
	}
	code, _ := h.do("POST", "/packGroups/"+pgs[0].PackGroupID+"/edit", h.token, "application/json",
		strings.NewReader(`{"raw":{"address":["ACME","1 rue X","75001 PARIS"],"printMode":"1SIDE"}}`))
	if code != 200 {
		t.Fatalf("edit: %d", code)
	}
	if got := h.status(id); got != "PACK_GROUP_CREATED" {
		t.Fatalf("right after the edit: %s", got)
	}
	h.clk.Advance(3 * time.Second)
	if got := h.status(id); got != "CREATED" {
		t.Fatalf("after the edit: %s", got)
	}
}

func TestUndeliverableAndMultichannel(t *testing.T) {
	h := newHarness(t, Options{})
	_, job := h.post(`{"jobName":"u","serviceId":"321"}`, map[string][]byte{"file__file_2301_0": pdf(t, "UNDELIVERABLE", "nowhere", "75002 PARIS")})
	id := job["jobId"].(string)
	h.clk.Advance(2 * time.Minute)
	var ds []delivery
	h.get("/deliveries?jobId="+id, &ds)
	if len(ds) != 2 {
		t.Fatalf("%d deliveries", len(ds))
	}
	got := map[string]int{}
	for _, d := range ds {
		got[d.Channel] = d.Shipments[0].Status
		if d.Channel == "EMAIL" && len(d.Shipments[0].Metadata) != 0 {
			t.Fatalf("email shipment has files")
		}
	}
	if got["MAIL"] != -614 || got["EMAIL"] != 715 {
		t.Fatalf("statuses %v", got)
	}
}

func TestProcessingError(t *testing.T) {
	h := newHarness(t, Options{})
	good := pdf(t, "ACME", "75002 PARIS")
	var encrypted bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(good), &encrypted, model.NewAESConfiguration("", "owner", 256)); err != nil {
		t.Fatal(err)
	}
	files := map[string]map[string][]byte{
		"not a pdf":      {"file__file_2201_0": []byte("hello, not a pdf")},
		"truncated":      {"file__file_2201_0": good[:len(good)/2]},
		"encrypted":      {"file__file_2201_0": encrypted.Bytes()},
		"bad annex file": {"file__file_2201_0": good, "file__file_2202_0": []byte("%PDF-1.4 junk")},
	}
	ids := map[string]string{}
	for name, f := range files {
		code, job := h.post(`{"jobName":"x","serviceId":"311"}`, f)
		if code != 201 {
			t.Fatalf("%s: %d %v", name, code, job)
		}
		ids[name] = job["jobId"].(string)
	}
	h.clk.Advance(time.Minute)
	for name, id := range ids {
		if got := h.status(id); got != "PROCESSING_ERROR" {
			t.Errorf("%s: status %s", name, got)
		}
	}
}

func TestCreateValidation(t *testing.T) {
	h := newHarness(t, Options{})
	good := pdf(t, "A", "75002 PARIS")
	cases := []struct {
		name   string
		params string
		files  map[string][]byte
		code   int
	}{
		{"no parameters", "", map[string][]byte{"file__file_2201_0": good}, 400},
		{"bad json", "{", map[string][]byte{"file__file_2201_0": good}, 400},
		{"unknown service", `{"jobName":"a","serviceId":"999"}`, map[string][]byte{"file__file_2201_0": good}, 400},
		{"no main file", `{"jobName":"a","serviceId":"311"}`, map[string][]byte{"file__file_2202_0": good}, 400},
		{"box of another service", `{"jobName":"a","serviceId":"311"}`, map[string][]byte{"file__file_2101_0": good}, 400},
		{"unknown option", `{"jobName":"a","serviceId":"311","options":[{"optionTypeId":"12","optionId":"61"}]}`, map[string][]byte{"file__file_2201_0": good}, 400},
		{"too large", `{"jobName":"a","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": bytes.Repeat([]byte("x"), maxFileSize+1)}, 413},
		{"spelling 2", `{"jobName":"a","serviceId":"311"}`, map[string][]byte{"file_file__2201_0": good}, 201},
		{"spelling 3", `{"jobName":"a","serviceId":"311","options":[{"optionTypeId":12,"optionId":58}]}`, map[string][]byte{"file_main2201_0": good}, 201},
	}
	for _, c := range cases {
		if code, body := h.post(c.params, c.files); code != c.code {
			t.Errorf("%s: %d %v, want %d", c.name, code, body, c.code)
		}
	}
	if n := h.sb.JobCount("a"); n != 2 {
		t.Fatalf("JobCount = %d", n)
	}
}

func TestAuthTokens(t *testing.T) {
	h := newHarness(t, Options{TokenIdle: time.Minute})
	if h.login("bob", "wrong") != "" {
		t.Fatal("password wrong accepted")
	}
	if h.get("/options", nil) != 200 {
		t.Fatal("fresh token refused")
	}
	h.clk.Advance(2 * time.Minute)
	if h.get("/options", nil) != 401 {
		t.Fatal("idle token accepted")
	}
	h.token = h.login("alice", "x")
	if code, _ := h.do("POST", "/authentication/logout", h.token, "", nil); code != 204 {
		t.Fatal("logout")
	}
	if h.get("/options", nil) != 401 {
		t.Fatal("logged-out token accepted")
	}
	h.token = h.login("alice", "x")
	h.sb.ExpireTokens()
	if h.get("/options", nil) != 401 {
		t.Fatal("expired token accepted")
	}
}

func TestJobLookupAndFaults(t *testing.T) {
	h := newHarness(t, Options{})
	for i := 0; i < 2; i++ {
		h.post(`{"jobName":"dup","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t, "A", "75002 PARIS")})
		h.clk.Advance(time.Second)
	}
	var jobs []struct{ JobID, JobName string }
	h.get("/jobs?jobName=dup", &jobs)
	if len(jobs) != 2 || jobs[0].JobID <= jobs[1].JobID {
		t.Fatalf("lookup %+v", jobs)
	}
	h.get("/jobs?jobName=du", &jobs)
	if len(jobs) != 0 {
		t.Fatalf("prefix matched: %+v", jobs)
	}
	h.sb.SetFaults(Faults{NoJobLookup: true})
	if code := h.get("/jobs?jobName=dup", nil); code != 405 {
		t.Fatalf("NoJobLookup: %d", code)
	}
	h.sb.SetFaults(Faults{Burst429Every: 3, Burst429Len: 2, RetryAfter: 7})
	var codes []int
	for i := 0; i < 6; i++ {
		codes = append(codes, h.get("/options", nil))
	}
	if fmt.Sprint(codes) != "[200 200 429 429 200 429]" {
		t.Fatalf("429 bursts: %v", codes)
	}
	h.sb.SetFaults(Faults{FailRate: 1})
	if code := h.get("/options", nil); code != 503 {
		t.Fatalf("FailRate 1: %d", code)
	}
	h.sb.SetFaults(Faults{DropAfterCreate: 1})
	req, _ := http.NewRequest("POST", h.srv.URL+"/jobs", nil)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("parameters", `{"jobName":"dropped","serviceId":"311"}`)
	w, _ := mw.CreateFormFile("file__file_2201_0", "a.pdf")
	w.Write(pdf(t, "A", "75002 PARIS"))
	mw.Close()
	req.Body = io.NopCloser(&buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Auth-Token", h.token)
	if _, err := h.srv.Client().Do(req); err == nil {
		t.Fatal("dropped connection answered")
	}
	if h.sb.JobCount("dropped") != 1 {
		t.Fatal("dropped job not created")
	}
	var stats struct{ Requests map[string]int }
	h.get("/_sandbox/stats", &stats)
	if stats.Requests["POST /jobs"] != 3 {
		t.Fatalf("stats %v", stats.Requests)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	h := newHarness(t, Options{Dir: dir, Now: clk.Now})
	h.clk = clk
	_, job := h.post(`{"jobName":"kept","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t, "A", "75002 PARIS")})
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open of a locked dir: %v", err)
	}
	h.srv.Close()
	if err := h.sb.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	sb2, err := Open(Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	jobs := sb2.Jobs()
	if len(jobs) != 1 || jobs[0].JobID != job["jobId"] || jobs[0].Status != "CREATED" {
		t.Fatalf("reloaded %+v", jobs)
	}
}

func TestInProcessTransport(t *testing.T) {
	sb, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	resp, err := sb.HTTPClient().Post(Endpoint+"/authentication/authenticate", "application/json", strings.NewReader(`{"login":"a","password":"b"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
}

// TestInProcessBodyCloseEndsHandler: a client that closes a response body
// early ends the handler's request, as a hung-up socket would, so a handler
// that only waits (a stalled proof) does not outlive its reader.
func TestInProcessBodyCloseEndsHandler(t *testing.T) {
	ended := make(chan struct{})
	c := &http.Client{Transport: inProcess{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		<-r.Context().Done()
		close(ended)
	})}}
	resp, err := c.Get(Endpoint + "/stall")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still runs after the body was closed")
	}
}

// A job the platform answered for is on disk even if the process dies
// without closing: the world log is replayed, and ids go on after it.
func TestAcceptedJobsSurviveACrash(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Options{Dir: dir})
	_, first := h.post(`{"jobName":"one","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t, "A", "75002 PARIS")})
	_, second := h.post(`{"jobName":"two","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t, "B", "75002 PARIS")})
	h.srv.Close()
	// Die: release the directory lock without saving the world.
	h.sb.mu.Lock()
	unlockDir(h.sb.lock)
	h.sb.lock = nil
	h.sb.closed = true
	h.sb.mu.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "world.json")); err == nil {
		t.Fatal("the test means to crash before any snapshot")
	}
	sb2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	if sb2.JobCount("one") != 1 || sb2.JobCount("two") != 1 || len(sb2.Jobs()) != 2 {
		t.Fatalf("after the crash: %+v (created %v and %v)", sb2.Jobs(), first["jobId"], second["jobId"])
	}
	h2 := &harness{t: t, sb: sb2, clk: newClock(), srv: httptest.NewServer(sb2.Handler())}
	defer h2.srv.Close()
	h2.token = h2.login("alice", "secret")
	_, third := h2.post(`{"jobName":"three","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": pdf(t, "C", "75002 PARIS")})
	if third["jobId"] == first["jobId"] || third["jobId"] == second["jobId"] {
		t.Fatalf("job id %v reused after the crash", third["jobId"])
	}
}
