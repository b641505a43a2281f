package reconcile

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A plan made with NoConfigHash is the plan made without it, but for its
// empty hash; and a plan saved from it is refused by apply, whatever else
// it holds: it matches no configuration.
func TestPlanWithoutConfigHash(t *testing.T) {
	cfg, st := savedFixture()
	for _, opts := range []PlanOptions{{}, {Targets: []string{"mailing.b"}}, {Replace: []string{"mailing.b"}}} {
		with := MakePlan(cfg, st, opts)
		opts.NoConfigHash = true
		without := MakePlan(cfg, st, opts)
		if without.ConfigHash != "" || len(with.ConfigHash) != 64 {
			t.Fatalf("config hash %q without, %q with", without.ConfigHash, with.ConfigHash)
		}
		a, b := with.Saved("test", opts), without.Saved("test", opts)
		a.ConfigHash = ""
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%+v: the plan without its hash\n%s\nis not the plan\n%s", opts, jb, ja)
		}
	}
	opts := PlanOptions{NoConfigHash: true}
	sp := MakePlan(cfg, st, opts).Saved("test", opts)
	sp.Summary.Errors = 0
	if _, err := PlanFromSaved(sp, cfg, st, time.Now()); err == nil || !strings.Contains(err.Error(), "config hash") {
		t.Fatalf("a plan saved without its configuration hash is not refused: %v", err)
	}
}
