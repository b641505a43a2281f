package reconcile_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/pdf"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// world is one test's real stack: the sandbox served over HTTP, the real
// client, a local state backend and a working directory of real PDFs.
type world struct {
	t       *testing.T
	dir     string
	sb      *sandbox.Sandbox
	srv     *httptest.Server
	backend state.Backend
	// maxRetries is the client's MaxRetries (0: its default; -1: none).
	maxRetries int
}

func newWorld(t *testing.T, letters int) *world {
	t.Helper()
	return openWorld(t, letters, sandbox.Options{TimeScale: 1000})
}

// testClock is the sandbox's clock in a clocked world: the platform's
// time moves only when the test says, so a test waits on nothing.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClockedWorld is a world whose platform runs on clk.
func newClockedWorld(t *testing.T, letters int) (*world, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	return openWorld(t, letters, sandbox.Options{Now: clk.Now}), clk
}

func openWorld(t *testing.T, letters int, opts sandbox.Options) *world {
	t.Helper()
	sb, err := sandbox.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	w := &world{t: t, dir: t.TempDir(), sb: sb, srv: srv}
	w.writeConfig(letters)
	b, err := state.Open(state.Config{Type: "local", Dir: w.dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	w.backend = b
	return w
}

func (w *world) writeConfig(letters int) {
	w.t.Helper()
	var keys []string
	for i := 0; i < letters; i++ {
		key := fmt.Sprintf("c%03d", i)
		keys = append(keys, fmt.Sprintf("%q", key))
		pdf, err := pdf.MakePDF("Customer "+key, "1 rue de la Paix", "75002 PARIS")
		if err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(w.dir, key+".pdf"), pdf, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	hcl := fmt.Sprintf(`
provider "nirva" {
  endpoint = %q
  login    = "demo@example.com"
  password = "demo"
}
mailing "letter" {
  for_each = toset([%s])
  service  = "Lettre simple"
  job_name = "letter-${each.key}"
  document {
    file = "${each.key}.pdf"
  }
}
`, w.srv.URL, strings.Join(keys, ", "))
	if err := os.WriteFile(filepath.Join(w.dir, "main.mail.hcl"), []byte(hcl), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) config() *config.Config {
	w.t.Helper()
	cfg, diags := config.Load(w.dir, config.LoadOptions{})
	if diags.HasErrors() {
		w.t.Fatal(diags.Error())
	}
	return cfg
}

// engine loads the state afresh, as a new run of postform would.
func (w *world) engine(ctx context.Context) *reconcile.Engine {
	w.t.Helper()
	st, err := w.backend.Load(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := nirva.New(nirva.Config{Endpoint: w.srv.URL, Login: "demo@example.com", Password: "demo",
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 10 * time.Millisecond, MaxRetries: w.maxRetries})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := c.Authenticate(ctx, true); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Logout(context.Background()) })
	// This sandbox lists a job as soon as it exists: looking again costs
	// milliseconds here (hostile platforms are in lookup_test.go).
	return &reconcile.Engine{Client: c, Backend: w.backend, State: st, ProofsDir: filepath.Join(w.dir, "proofs"), Parallelism: 4,
		Lookup: &reconcile.LookupPolicy{Tries: 3, Window: 20 * time.Millisecond}}
}

func (w *world) assertOneJobEach(n int) {
	w.t.Helper()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("letter-c%03d", i)
		if got := w.sb.JobCount(name); got != 1 {
			w.t.Errorf("jobs named %s: got %d, want exactly 1", name, got)
		}
	}
}

func TestApplyPostsEachLetterOnceAndTracksIt(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	e := w.engine(ctx)
	plan := reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{Profile: e.Client.Profile()})
	if c := plan.Counts(); c.Post != 3 || plan.Diagnostics.HasErrors() {
		t.Fatalf("first plan: %+v %v", c, plan.Diagnostics)
	}
	res := e.Apply(ctx, plan)
	if res.Posted != 3 || len(res.Errors) > 0 {
		t.Fatalf("apply: posted %d, errors %v", res.Posted, res.Err())
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	w.assertOneJobEach(3)

	// Refresh until done: the sandbox runs a thousand times faster.
	e = w.engine(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for len(e.NeedsRefresh()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if err := e.Refresh(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range e.State.Addresses() {
		m := e.State.Mailings[a]
		if reconcile.StageOf(m) != reconcile.StageDone || len(m.TrackingNumbers()) == 0 || len(m.Proofs) != 3 {
			t.Errorf("%s: stage %s, tracking %v, %d proofs", a, reconcile.StageOf(m), m.TrackingNumbers(), len(m.Proofs))
		}
		// The tracking history is the final one, not the one fetched when
		// the letter was only mailed.
		events := m.Deliveries[0].Shipments[0].Events
		if len(events) == 0 || events[len(events)-1].Code != "DELIVERED" {
			t.Errorf("%s: tracking history %+v does not end with the delivery", a, events)
		}
	}

	// A second run plans nothing and posts nothing.
	e = w.engine(ctx)
	plan = reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{})
	if plan.HasChanges() {
		t.Fatalf("second plan has changes: %+v", plan.Counts())
	}
	before := w.sb.JobCount("letter-c000")
	e.Apply(ctx, plan)
	if w.sb.JobCount("letter-c000") != before {
		t.Fatal("an apply of an empty plan posted a job")
	}
}

func TestDroppedResponseIsResolvedWithoutPostingAgain(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	w.sb.SetFaults(sandbox.Faults{DropAfterCreate: 2})
	e := w.engine(ctx)
	res := e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{}))
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	w.assertOneJobEach(2)
	if res.Posted != 2 {
		t.Fatalf("posted %d, want the 2 dropped responses adopted by name (errors: %v)", res.Posted, res.Err())
	}
	for _, a := range e.State.Addresses() {
		if m := e.State.Mailings[a]; m.Phase != state.PhasePosted || m.JobID == "" {
			t.Errorf("%s: phase %s job %q", a, m.Phase, m.JobID)
		}
	}
	// Rerun: nothing more is posted.
	w.sb.SetFaults(sandbox.Faults{})
	e = w.engine(ctx)
	e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{}))
	w.assertOneJobEach(2)
}

// A run that died after its pending record and after the platform created
// the job is resolved by the next run's lookup, never posted again.
func TestPendingAfterCrashIsAdopted(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	w.sb.SetFaults(sandbox.Faults{DropAfterCreate: 1, NoJobLookup: true})
	e := w.engine(ctx)
	e.Parallelism = 1
	res := e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{}))
	if res.Uncertain != 1 || res.Posted != 1 {
		t.Fatalf("want 1 uncertain and 1 posted, got %+v (%v)", res, res.Err())
	}
	// Without lookup the plan must stop and name both ways out.
	e = w.engine(ctx)
	rr := e.Refresh(ctx)
	if err := rr.Err(); err == nil || !strings.Contains(err.Error(), "postform import") || !strings.Contains(err.Error(), "state resolve") {
		t.Fatalf("refresh without lookup: %v", err)
	}
	plan := reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{})
	if c := plan.Counts(); c.Blocked != 1 || c.Post != 0 || !plan.Diagnostics.HasErrors() {
		t.Fatalf("plan with an unresolved attempt: %+v", c)
	}
	// With lookup back, the next run adopts the job.
	w.sb.SetFaults(sandbox.Faults{})
	e = w.engine(ctx)
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	plan = reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{})
	if plan.HasChanges() {
		t.Fatalf("after adoption the plan still has changes: %+v", plan.Counts())
	}
	w.assertOneJobEach(2)
}

// A pending record whose POST never reached the platform is found to have
// posted nothing, and the next apply posts it once.
func TestPendingWithoutJobIsPostedOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	e := w.engine(ctx)
	cfg := w.config()
	m := cfg.Mailings[0]
	rec := &state.Mailing{Address: m.Address, Phase: state.PhasePending, ContentHash: m.ContentHash, JobName: m.JobName,
		Service: m.Service, AttemptedAt: time.Now()}
	e.State.Mailings[m.Address] = rec
	if err := w.backend.Record(ctx, e.State, m.Address); err != nil {
		t.Fatal(err)
	}
	e = w.engine(ctx)
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	plan := reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{})
	if c := plan.Counts(); c.Post != 1 {
		t.Fatalf("plan after resolving: %+v", c)
	}
	e.Apply(ctx, plan)
	w.assertOneJobEach(1)
}

func TestInterruptedApplyStartsNoNewPost(t *testing.T) {
	w := newWorld(t, 3)
	e := w.engine(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{}))
	if !res.Interrupted || res.Posted != 0 {
		t.Fatalf("cancelled apply: %+v", res)
	}
	if n := len(w.sb.Jobs()); n != 0 {
		t.Fatalf("%d jobs posted after the interrupt", n)
	}
}

// Under 5xx and 429 bursts, refreshing brings every letter to done and
// keeps each letter on the job it was posted as (refresh never posts, so
// what can go wrong is a letter stuck, lost, moved to another job, or
// called done before it is). The platform's clock is the test's: the
// letters are delivered when it says, and the 429s ask for no wait, so
// nothing here waits on time.
func TestRefreshUnderFaultsFinishesEveryLetter(t *testing.T) {
	if testing.Short() {
		t.Skip("100 letters")
	}
	ctx := context.Background()
	w, clk := newClockedWorld(t, 100)
	e := w.engine(ctx)
	e.Parallelism = 16
	if res := e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{})); res.Posted != 100 {
		t.Fatalf("posted %d: %v", res.Posted, res.Err())
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	posted := map[string]string{}
	for a, m := range e.State.Mailings {
		posted[a] = m.JobID
	}
	clk.Advance(time.Minute) // past every letter's acknowledgement of receipt
	// The client does not retry: every fault reaches the engine, whose
	// answer is to leave the letter as it was and ask again next round.
	w.maxRetries = -1
	e = w.engine(ctx)
	e.Parallelism = 16
	w.sb.SetFaults(sandbox.Faults{FailRate: 0.05, Burst429Every: 40, Burst429Len: 3, RetryAfter: -1, Seed: 7})
	before := len(w.sb.Requests())
	failed := 0
	for round := 0; round < 30 && len(e.NeedsRefresh()) > 0; round++ {
		failed += len(e.Refresh(ctx).Errors)
	}
	if n := len(e.NeedsRefresh()); n != 0 {
		t.Fatalf("%d letters not done under faults", n)
	}
	if failed == 0 {
		t.Fatal("no refresh of a letter failed: the faults did not reach the engine")
	}
	faults := 0
	for _, r := range w.sb.Requests()[before:] {
		if r.Status == 503 || r.Status == 429 {
			faults++
		}
	}
	if faults < 10 {
		t.Fatalf("only %d faults were injected during the refresh", faults)
	}
	if len(e.State.Mailings) != 100 {
		t.Fatalf("%d letters in the state, want 100", len(e.State.Mailings))
	}
	for a, m := range e.State.Mailings {
		if m.JobID != posted[a] || !m.Terminal || reconcile.StageOf(m) != reconcile.StageDone || len(m.TrackingNumbers()) != 1 {
			t.Errorf("%s: job %s (posted as %s), terminal %v, stage %s, tracking %v", a, m.JobID, posted[a], m.Terminal, reconcile.StageOf(m), m.TrackingNumbers())
		}
	}
}

// Many records written at once must leave a journal a fresh run can read
// even if this run dies before its final snapshot: the backend, not the
// callers, gives the serials, in the journal's order.
func TestConcurrentRecordsLeaveAReadableJournal(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 40)
	cfg := w.config()
	e := w.engine(ctx)
	var addrs []string
	for _, m := range cfg.Mailings {
		e.State.Mailings[m.Address] = &state.Mailing{Address: m.Address, Phase: state.PhasePending, ContentHash: m.ContentHash,
			JobName: m.JobName, Service: m.Service, AttemptedAt: time.Now()}
		addrs = append(addrs, m.Address)
	}
	if err := w.backend.Record(ctx, e.State, addrs...); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		e = w.engine(ctx)
		e.Parallelism = 10
		if err := e.Refresh(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		// No Persist: as if the run died here. A new process must read it.
		fresh, err := state.Open(state.Config{Type: "local", Dir: w.dir})
		if err != nil {
			t.Fatal(err)
		}
		st, err := fresh.Load(ctx)
		fresh.Close()
		if err != nil {
			t.Fatalf("the journal of concurrent records cannot be read back: %v", err)
		}
		for _, a := range addrs {
			if st.Mailings[a].Phase != state.PhaseNotPosted {
				t.Fatalf("%s: %s after resolution", a, st.Mailings[a].Phase)
			}
		}
		// Back to pending for the next round.
		for _, a := range addrs {
			st.Mailings[a].Phase = state.PhasePending
		}
		if err := w.backend.Record(ctx, st, addrs...); err != nil {
			t.Fatal(err)
		}
	}
}

// A --replace interrupted before its POST must not adopt the job it
// replaces (same job name): the old job is kept as superseded, and the
// letter is posted again once.
func TestInterruptedReplaceDoesNotAdoptTheOldJob(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	e := w.engine(ctx)
	cfg := w.config()
	if res := e.Apply(ctx, reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{})); res.Posted != 1 {
		t.Fatalf("first post: %v", res.Err())
	}
	addr := cfg.Mailings[0].Address
	old := e.State.Mailings[addr]

	// The state a replace leaves when its run dies before the POST.
	pending := old.Clone()
	pending.Phase, pending.JobID, pending.AttemptedAt = state.PhasePending, "", time.Now()
	pending.Superseded = []state.SupersededJob{{JobID: old.JobID, JobName: old.JobName}}
	e.State.Mailings[addr] = pending
	if err := w.backend.Record(ctx, e.State, addr); err != nil {
		t.Fatal(err)
	}
	e = w.engine(ctx)
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if m := e.State.Mailings[addr]; m.Phase != state.PhaseNotPosted {
		t.Fatalf("the interrupted replace resolved to %s job %q: it adopted the job it replaces", m.Phase, m.JobID)
	}
	res := e.Apply(ctx, reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{}))
	if res.Posted != 1 {
		t.Fatalf("re-post: %v", res.Err())
	}
	if n := w.sb.JobCount(old.JobName); n != 2 {
		t.Fatalf("jobs named %s: %d, want the original and its replacement", old.JobName, n)
	}
	if m := e.State.Mailings[addr]; len(m.Superseded) != 1 || m.Superseded[0].JobID != old.JobID || m.JobID == old.JobID {
		t.Fatalf("after the replacement: job %s, superseded %+v", m.JobID, m.Superseded)
	}
}

// A dead network: nothing reaches the platform, so nothing is posted and
// nothing is left pending; a refresh fails per letter and changes nothing.
// When the platform is back, each letter is posted once.
func TestDeadNetworkPostsNothingAndLosesNothing(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	e := w.engine(ctx)
	plan := reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{})
	w.srv.Listener.Close() // the platform's address now refuses connections
	w.srv.CloseClientConnections()
	res := e.Apply(ctx, plan)
	if res.Posted != 0 || len(res.Errors) != 2 {
		t.Fatalf("apply on a dead network: %+v", res)
	}
	for _, a := range e.State.Addresses() {
		if m := e.State.Mailings[a]; m.Phase != state.PhaseNotPosted {
			t.Errorf("%s: %s after a refused connection, want not_posted", a, m.Phase)
		}
	}
	if n := len(w.sb.Jobs()); n != 0 {
		t.Fatalf("%d jobs reached the platform", n)
	}

	// The platform comes back on a new address: post once each.
	srv := httptest.NewServer(w.sb.Handler())
	t.Cleanup(srv.Close)
	w.srv = srv
	w.writeConfig(2)
	e = w.engine(ctx)
	if res := e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{})); res.Posted != 2 {
		t.Fatalf("apply after the network came back: %v", res.Err())
	}
	w.assertOneJobEach(2)

	// Dead again: a refresh reports each letter and leaves the state as it was.
	before, err := state.Encode(e.State)
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.CloseClientConnections()
	rr := e.Refresh(ctx)
	if len(rr.Errors) != 2 {
		t.Fatalf("refresh on a dead network: %v", rr.Err())
	}
	after, _ := state.Encode(e.State)
	if string(before) != string(after) {
		t.Fatal("a failed refresh changed the state")
	}
}
