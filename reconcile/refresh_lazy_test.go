package reconcile_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// A refresh loads the state as a plan does (postform refresh: terminal
// letters' deliveries, proofs and replaced jobs left as JSON). A job a
// terminal letter replaced is still never adopted by another letter, and
// the refresh writes only what it learned.
func TestRefreshOfALazyStateKnowsTheReplacedJobs(t *testing.T) {
	ctx := context.Background()
	w, h, e, a, b := newWorldWithAPosted(t)
	// a replaced its job by another and is done; b's posting attempt is
	// unresolved, and the platform's lookup offers a's replaced job.
	old := e.State.Mailings[a.Address]
	done := old.Clone()
	done.JobID, done.Terminal = "job-that-replaced-it", true
	done.Superseded = []state.SupersededJob{{JobID: old.JobID, JobName: old.JobName, ContentHash: old.ContentHash}}
	e.State.Mailings[a.Address] = done
	e.State.Mailings[b.Address] = unresolvedAttempt(b)
	if err := w.backend.Persist(ctx, e.State); err != nil {
		t.Fatal(err)
	}
	h.forge[b.JobName] = old.JobID

	e = w.engineWith(ctx, reconcile.LookupPolicy{Tries: 1})
	lazy, err := state.LoadForPlan(ctx, w.backend)
	if err != nil {
		t.Fatal(err)
	}
	if lazy.Mailings[a.Address].DetailLoaded() {
		t.Fatal("the terminal letter was decoded in full: this test would not see a lazy load")
	}
	e.State = lazy
	rr := e.Refresh(ctx)
	want := "job " + old.JobID + " is the job " + a.Address + " replaced"
	if err := rr.Errors[b.Address]; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("adopting the job a replaced for b: %v, want %q", err, want)
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := w.backend.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m := got.Mailings[b.Address]; m.Phase != state.PhasePending || m.JobID != "" {
		t.Fatalf("b: %s job %q", m.Phase, m.JobID)
	}
	if m := got.Mailings[a.Address]; len(m.Superseded) != 1 || m.Superseded[0].JobID != old.JobID || m.JobID != done.JobID {
		t.Fatalf("a after the refresh: job %s, superseded %+v", m.JobID, m.Superseded)
	}
}

// changeObserver is a real backend that notes what the engine tells
// PersistChanged.
type changeObserver struct {
	state.Backend
	changed       [][]string
	refreshedOnly []bool
}

func (o *changeObserver) PersistChanged(ctx context.Context, s *state.State, changed []string, refreshedOnly bool) error {
	o.changed, o.refreshedOnly = append(o.changed, changed), append(o.refreshedOnly, refreshedOnly)
	return o.Backend.(state.ChangePersister).PersistChanged(ctx, s, changed, refreshedOnly)
}

// The engine tells the backend exactly the letters it changed in memory
// only (a refresh's answers): the ones it recorded are in the journal
// already, and the others did not change. And it says when a refresh's
// answers are all that changed: not after an apply.
func TestPersistNamesTheLettersARefreshChanged(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	obs := &changeObserver{Backend: w.backend}
	e := w.engine(ctx)
	e.Backend = obs
	cfg := w.config()
	if res := e.Apply(ctx, reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{Targets: []string{cfg.Mailings[0].Address, cfg.Mailings[1].Address}})); res.Posted != 2 {
		t.Fatalf("apply: %v", res.Err())
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range obs.changed[0] {
		if m := e.State.Mailings[a]; m == nil || m.JobID == "" {
			t.Fatalf("after the apply, PersistChanged named %s, which it did not post", a)
		}
	}
	if obs.refreshedOnly[0] {
		t.Fatal("after an apply that posted, PersistChanged was told only a refresh's answers changed")
	}

	e = w.engine(ctx)
	e.Backend = obs
	todo := e.NeedsRefresh()
	if len(todo) != 2 {
		t.Fatalf("%d letters to refresh, want the 2 posted", len(todo))
	}
	if err := e.Refresh(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	if got := obs.changed[len(obs.changed)-1]; !reflect.DeepEqual(got, todo) || !obs.refreshedOnly[len(obs.changed)-1] {
		t.Fatalf("PersistChanged after the refresh named %v (refreshed only: %v), want the letters refreshed %v, refreshed only",
			got, obs.refreshedOnly[len(obs.changed)-1], todo)
	}
	// And they are what a new run reads.
	got, err := w.backend.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range todo {
		if !got.Mailings[a].LastRefreshed.Equal(e.State.Mailings[a].LastRefreshed) || got.Mailings[a].LastRefreshed.IsZero() {
			t.Errorf("%s: refreshed at %v in the state, %v in memory", a, got.Mailings[a].LastRefreshed, e.State.Mailings[a].LastRefreshed)
		}
	}
	// A second Persist has nothing left to name.
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	if got := obs.changed[len(obs.changed)-1]; len(got) != 0 {
		t.Fatalf("a Persist of nothing new named %v", got)
	}
}

// A terminal letter of a plan-only load (its shipments left as JSON) has
// the stage of the same letter loaded in full: done, or failed when its
// shipment came back.
func TestStageOfALazyLetter(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	letter := func(addr string, code int) *state.Mailing {
		return &state.Mailing{Address: addr, Phase: state.PhasePosted, JobID: "J-" + addr, JobStatus: "CREATED", SubmittedAt: at,
			Deliveries: []state.Delivery{{ID: "D", Status: "OUTPUTTED", Shipments: []state.Shipment{{ID: "S-" + addr, StatusCode: code}}}},
			Proofs:     []state.Proof{{Name: "CERTIF", ShipmentID: "S-" + addr, Path: addr + ".pdf", SHA256: "00", FetchedAt: at}},
			Terminal:   true}
	}
	full := state.New("5b3f6c1e-8d2a-4f7b-9c0e-1a2b3c4d5e6f")
	full.Mailings["mailing.a"] = letter("mailing.a", 610)
	full.Mailings["mailing.b"] = letter("mailing.b", -1)
	data, err := state.Encode(full)
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := state.DecodeForPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]reconcile.Stage{"mailing.a": reconcile.StageDone, "mailing.b": reconcile.StageFailed} {
		m := lazy.Mailings[addr]
		if m.DetailLoaded() {
			t.Fatalf("%s was decoded in full: the test checks nothing", addr)
		}
		if got := reconcile.StageOf(m); got != want || reconcile.StageOf(full.Mailings[addr]) != want {
			t.Errorf("%s: stage %s lazily, %s in full; want %s", addr, got, reconcile.StageOf(full.Mailings[addr]), want)
		}
		if m.DetailLoaded() {
			t.Errorf("%s: StageOf decoded the letter in place", addr)
		}
	}
}
