package reconcile_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// hostile stands between postform and the sandbox, over real HTTP, and
// lies the ways a misbehaving platform was seen to.
type hostile struct {
	inner http.Handler
	// hide answers [] to this many more name lookups (negative: all).
	hide    atomic.Int32
	lookups atomic.Int32
	// sameID answers every POST /jobs with the first job's id.
	sameID atomic.Bool
	mu     sync.Mutex
	first  string
	// forge answers a lookup of a name with another job, renamed.
	forge map[string]string
}

func (h *hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/jobs" && r.URL.Query().Has("jobName"):
		h.lookups.Add(1)
		name := r.URL.Query().Get("jobName")
		h.mu.Lock()
		forged, ok := h.forge[name]
		h.mu.Unlock()
		if ok {
			job := h.call(r, http.MethodGet, "/jobs/"+forged)
			job["jobName"] = name
			writeJSON(w, []any{job})
			return
		}
		if n := h.hide.Load(); n != 0 {
			if n > 0 {
				h.hide.Add(-1)
			}
			writeJSON(w, []any{})
			return
		}
	case r.Method == http.MethodPost && r.URL.Path == "/jobs" && h.sameID.Load():
		rec := httptest.NewRecorder()
		h.inner.ServeHTTP(rec, r)
		var job map[string]any
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &job) != nil {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		h.mu.Lock()
		if h.first == "" {
			h.first = job["jobId"].(string)
		}
		job["jobId"] = h.first
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(job)
		return
	}
	h.inner.ServeHTTP(w, r)
}

// call asks the sandbox directly, with the request's token.
func (h *hostile) call(r *http.Request, method, path string) map[string]any {
	req := httptest.NewRequest(method, path, nil)
	req.Header = r.Header.Clone()
	rec := httptest.NewRecorder()
	h.inner.ServeHTTP(rec, req)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// newHostileWorld is newWorld with the hostile platform in front.
func newHostileWorld(t *testing.T, letters int) (*world, *hostile) {
	w := newWorld(t, letters)
	h := &hostile{inner: w.sb.Handler(), forge: map[string]string{}}
	w.srv.Close()
	w.srv = httptest.NewServer(h)
	t.Cleanup(w.srv.Close)
	w.writeConfig(letters)
	return w, h
}

func (w *world) engineWith(ctx context.Context, p reconcile.LookupPolicy) *reconcile.Engine {
	e := w.engine(ctx)
	e.Lookup = &p
	return e
}

// A lookup that answers [] although the job exists: right after the
// unconfirmed POST, and on the next run 2 s later, the letter stays pending
// and nothing is posted again. Once the attempt is older than the indexing
// delay, the lookups of one window find it.
func TestEmptyLookupOfARecentAttemptPostsNothingAgain(t *testing.T) {
	ctx := context.Background()
	w, h := newHostileWorld(t, 1)
	h.hide.Store(-1)
	w.sb.SetFaults(sandbox.Faults{DropAfterCreate: 1})
	slow := reconcile.LookupPolicy{Tries: 3, Window: 30 * time.Millisecond, IndexingDelay: time.Hour}
	e := w.engineWith(ctx, slow)
	res := e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{}))
	if res.Uncertain != 1 || res.Posted != 0 {
		t.Fatalf("apply with a dropped answer: %+v %v", res, res.Err())
	}
	addr := w.config().Mailings[0].Address

	for run := range 2 {
		e = w.engineWith(ctx, slow)
		before := h.lookups.Load()
		err := e.Refresh(ctx).Err()
		if err == nil || !strings.Contains(err.Error(), "stays pending") || !strings.Contains(err.Error(), "postform import "+shellquote.Quote(addr)) ||
			!strings.Contains(err.Error(), "state resolve "+shellquote.Quote(addr)+" --not-posted") || !strings.Contains(err.Error(), "may take up to 1h0m0s") {
			t.Fatalf("run %d: refresh of a recent attempt: %v", run, err)
		}
		if n := h.lookups.Load() - before; n != 1 {
			t.Errorf("run %d: %d lookups; a too recent attempt is not worth waiting for", run, n)
		}
		if m := e.State.Mailings[addr]; m.Phase != state.PhasePending {
			t.Fatalf("run %d: %s after an empty lookup of a recent attempt", run, m.Phase)
		}
		plan := reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{})
		if c := plan.Counts(); c.Post != 0 || c.Blocked != 1 {
			t.Fatalf("run %d: plan %+v", run, c)
		}
		e.Apply(ctx, plan)
		if n := w.sb.JobCount("letter-c000"); n != 1 {
			t.Fatalf("run %d: %d jobs for one letter", run, n)
		}
	}

	// Old enough now; the platform still hides the job from two lookups.
	h.hide.Store(2)
	e = w.engineWith(ctx, reconcile.LookupPolicy{Tries: 3, Window: 30 * time.Millisecond})
	before := h.lookups.Load()
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n := h.lookups.Load() - before; n != 3 {
		t.Errorf("%d lookups, want the third to find the job", n)
	}
	if m := e.State.Mailings[addr]; m.Phase != state.PhasePosted || m.JobID == "" {
		t.Fatalf("after the window: %s job %q", m.Phase, m.JobID)
	}
	w.assertOneJobEach(1)
}

// An attempt that created no job is concluded "not posted" only after
// every lookup of the window agreed and the attempt is old enough, and
// the plan says why.
func TestNotPostedIsConcludedAfterTheWindow(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	cfg := w.config()
	e := w.engine(ctx)
	// Margins wide enough for a loaded machine: "aged" is old enough only
	// by the window's end, "fresh" stays too young for a whole second more.
	ages := []time.Duration{5 * time.Minute, 1900 * time.Millisecond, 0}
	for i, m := range cfg.Mailings {
		e.State.Mailings[m.Address] = &state.Mailing{Address: m.Address, Phase: state.PhasePending, ContentHash: m.ContentHash,
			JobName: m.JobName, Service: m.Service, AttemptedAt: time.Now().Add(-ages[i])}
	}
	if err := w.backend.Record(ctx, e.State, e.State.Addresses()...); err != nil {
		t.Fatal(err)
	}
	const window = 200 * time.Millisecond
	e = w.engineWith(ctx, reconcile.LookupPolicy{Tries: 3, Window: window, IndexingDelay: 2 * time.Second})
	var resolved []string
	e.OnEvent = func(ev reconcile.Event) {
		if ev.Kind == reconcile.EventResolved {
			resolved = append(resolved, ev.Detail)
		}
	}
	start := time.Now()
	rr := e.Refresh(ctx)
	if took := time.Since(start); took < window {
		t.Errorf("concluded after %s, before the %s window", took, window)
	}
	old, aged, fresh := cfg.Mailings[0].Address, cfg.Mailings[1].Address, cfg.Mailings[2].Address
	// 5 minutes old: concluded. 1.9 s old: old enough by the window's end.
	for _, a := range []string{old, aged} {
		if m := e.State.Mailings[a]; m.Phase != state.PhaseNotPosted || !strings.Contains(m.Problems[0], "looked up 3 times over") {
			t.Errorf("%s: %s %v", a, m.Phase, m.Problems)
		}
	}
	if p := e.State.Mailings[old].Problems[0]; !strings.Contains(p, "attempt made 5m0s ago") {
		t.Errorf("the reason does not say how old the attempt is: %s", p)
	}
	if len(resolved) != 2 || !strings.HasPrefix(resolved[0], "not posted: looked up 3 times over") {
		t.Errorf("resolved events: %q", resolved)
	}
	// Made just now: even the window's end is too early.
	if m := e.State.Mailings[fresh]; m.Phase != state.PhasePending || rr.Errors[fresh] == nil {
		t.Errorf("%s: %s, error %v", fresh, m.Phase, rr.Errors[fresh])
	}
	plan := reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{})
	for _, ch := range plan.Changes {
		if ch.Address == old && (ch.Action != reconcile.ActionCreate || !strings.Contains(ch.Reason, "not posted yet: an interrupted posting attempt created no job") || !strings.Contains(ch.Reason, "looked up 3 times")) {
			t.Errorf("plan for %s: %s %q", old, ch.Action, ch.Reason)
		}
	}
}

// A thousand pending letters cost one window, not a thousand: the
// lookups go in rounds.
func TestPendingLettersAreLookedUpInRounds(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 24)
	cfg := w.config()
	e := w.engine(ctx)
	for _, m := range cfg.Mailings {
		e.State.Mailings[m.Address] = &state.Mailing{Address: m.Address, Phase: state.PhasePending, ContentHash: m.ContentHash,
			JobName: m.JobName, Service: m.Service, AttemptedAt: time.Now().Add(-time.Hour)}
	}
	if err := w.backend.Record(ctx, e.State, e.State.Addresses()...); err != nil {
		t.Fatal(err)
	}
	const window = 200 * time.Millisecond
	e = w.engineWith(ctx, reconcile.LookupPolicy{Tries: 3, Window: window})
	e.Parallelism = 4
	start := time.Now()
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*window {
		t.Errorf("24 letters took %s with a %s window: the window is spent per letter", took, window)
	}
	if n := len(e.Pending()); n != 0 {
		t.Errorf("%d still pending", n)
	}
}

// Every POST answered with the first job's id: the first letter is
// recorded on it, the others stay pending (never two letters on one job,
// never an untracked job), and the next run's lookups find their own jobs.
func TestOneJobIDForTwoLettersIsAConflict(t *testing.T) {
	ctx := context.Background()
	w, h := newHostileWorld(t, 3)
	h.sameID.Store(true)
	e := w.engine(ctx)
	e.Parallelism = 1
	res := e.Apply(ctx, reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{}))
	if res.Posted != 1 || res.Uncertain != 2 || len(res.Errors) != 2 {
		t.Fatalf("apply: %+v %v", res, res.Err())
	}
	first := w.config().Mailings[0].Address
	if err := res.Err(); !strings.Contains(err.Error(), "is already tracked as "+first) || !strings.Contains(err.Error(), "stays pending") {
		t.Fatalf("the conflict is not named: %v", err)
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.Pending()); n != 2 {
		t.Fatalf("%d pending, want the 2 letters answered with another's job", n)
	}

	h.sameID.Store(false)
	e = w.engineWith(ctx, reconcile.LookupPolicy{Tries: 1})
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, a := range e.State.Addresses() {
		m := e.State.Mailings[a]
		if other, dup := ids[m.JobID]; dup || m.Phase != state.PhasePosted {
			t.Fatalf("%s: %s job %q (also %s)", a, m.Phase, m.JobID, other)
		}
		ids[m.JobID] = a
	}
	w.assertOneJobEach(3)
}

// newWorldWithAPosted is a hostile world of two letters, a posted and b
// not, and the engine that posted a.
func newWorldWithAPosted(t *testing.T) (w *world, h *hostile, e *reconcile.Engine, a, b *config.Mailing) {
	t.Helper()
	ctx := context.Background()
	w, h = newHostileWorld(t, 2)
	cfg := w.config()
	a, b = cfg.Mailings[0], cfg.Mailings[1]
	e = w.engine(ctx)
	if res := e.Apply(ctx, reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{Targets: []string{a.Address}})); res.Posted != 1 {
		t.Fatalf("posting a: %v", res.Err())
	}
	return w, h, e, a, b
}

// unresolvedAttempt is m's pending record an hour after its POST, whose
// answer never came.
func unresolvedAttempt(m *config.Mailing) *state.Mailing {
	return &state.Mailing{Address: m.Address, Phase: state.PhasePending, ContentHash: m.ContentHash,
		JobName: m.JobName, Service: m.Service, AttemptedAt: time.Now().Add(-time.Hour)}
}

// import of a job another letter holds is refused and names that letter;
// so is a lookup that offers another letter's job.
func TestAJobTrackedElsewhereIsNeverAdopted(t *testing.T) {
	ctx := context.Background()
	w, h, e, a, b := newWorldWithAPosted(t)
	jobA := e.State.Mailings[a.Address].JobID

	err := e.Import(ctx, b.Address, jobA, nil)
	if err == nil || !strings.Contains(err.Error(), "job "+jobA+" is already tracked as "+a.Address) {
		t.Fatalf("import of a's job as b: %v", err)
	}
	if _, ok := e.State.Mailings[b.Address]; ok {
		t.Fatal("the refused import left a record")
	}

	// b pending, and the platform's lookup offers a's job under b's name.
	e.State.Mailings[b.Address] = unresolvedAttempt(b)
	if err := w.backend.Record(ctx, e.State, b.Address); err != nil {
		t.Fatal(err)
	}
	h.forge[b.JobName] = jobA
	e = w.engineWith(ctx, reconcile.LookupPolicy{Tries: 1})
	rr := e.Refresh(ctx)
	if err := rr.Errors[b.Address]; err == nil || !strings.Contains(err.Error(), "already tracked as "+a.Address) {
		t.Fatalf("adopting a's job for b: %v", err)
	}
	if m := e.State.Mailings[b.Address]; m.Phase != state.PhasePending || m.JobID != "" {
		t.Fatalf("b: %s job %q", m.Phase, m.JobID)
	}
	if n := len(w.sb.Jobs()); n != 1 {
		t.Fatalf("%d jobs", n)
	}
}
