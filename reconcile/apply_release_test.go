package reconcile_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"weak"

	"github.com/postform/postform/config"
	"github.com/postform/postform/reconcile"
)

// TestApplyLetsGoOfEachLetterOncePosted: while an apply posts, a letter
// posted two batches ago is no longer held by the engine, so that a caller
// that let go of its plan and configuration (cli's apply does) sees each
// letter's configuration collected as it goes, not at the end of the run
// (issue 18). Each letter's change and configuration are allocated alone
// here, unlike config's and MakePlan's arrays, to be seen one by one.
func TestApplyLetsGoOfEachLetterOncePosted(t *testing.T) {
	ctx := context.Background()
	const letters = 80 // five batches of 16 at parallelism 4
	w := newWorld(t, letters)
	e := w.engine(ctx)
	weaks := make([]weak.Pointer[config.Mailing], letters)
	index := map[string]int{}
	plan := func() *reconcile.Plan {
		made := reconcile.MakePlan(w.config(), e.State, reconcile.PlanOptions{Profile: e.Client.Profile()})
		if c := made.Counts(); c.Post != letters || made.Diagnostics.HasErrors() {
			t.Fatalf("plan: %+v %v", c, made.Diagnostics)
		}
		p := &reconcile.Plan{}
		for i, ch := range made.Changes {
			m := *ch.Desired
			p.Changes = append(p.Changes, &reconcile.Change{Address: ch.Address, Action: ch.Action, Reason: ch.Reason, Desired: &m})
			weaks[i] = weak.Make(&m)
			index[ch.Address] = i
		}
		return p
	}
	var mu sync.Mutex
	checked, held := false, []int(nil)
	e.OnEvent = func(ev reconcile.Event) {
		// The first POST of the fifth batch: every letter of the first two
		// has been answered and recorded.
		if ev.Kind != reconcile.EventPosting || index[ev.Address] != 4*16 {
			return
		}
		runtime.GC()
		mu.Lock()
		defer mu.Unlock()
		checked = true
		for i := range 2 * 16 {
			if weaks[i].Value() != nil {
				held = append(held, i)
			}
		}
	}
	res := e.Apply(ctx, plan())
	if res.Posted != letters || len(res.Errors) > 0 {
		t.Fatalf("apply: posted %d, errors %v", res.Posted, res.Err())
	}
	w.assertOneJobEach(letters)
	mu.Lock()
	defer mu.Unlock()
	if !checked {
		t.Fatal("the fifth batch's first POST was not seen")
	}
	if len(held) > 0 {
		t.Errorf("letters %v, posted two batches before, are still held by the engine", held)
	}
}
