package reconcile

import (
	"encoding/json"
	"slices"
	"testing"
)

// Brief is Document without the no-op changes, and nothing else differs:
// the summary still counts them.
func TestBriefIsTheDocumentWithoutItsNoops(t *testing.T) {
	cfg, st := savedFixture()
	for _, opts := range []PlanOptions{{}, {Targets: []string{"mailing.b"}}, {Replace: []string{"mailing.b"}}, {Excludes: []string{"mailing.a"}}} {
		p := MakePlan(cfg, st, opts)
		full := p.Document("test", opts)
		full.Changes = slices.DeleteFunc(full.Changes, func(c PlanChange) bool { return c.Action == ActionNoop })
		brief := p.Brief("test", opts)
		got, err := json.Marshal(brief)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(full)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%+v: Brief\n%s\nis not the document without its no-ops\n%s", opts, got, want)
		}
	}
	if p := MakePlan(cfg, st, PlanOptions{}); p.Counts().NoOp == 0 || p.Brief("test", PlanOptions{}).Summary.NoOp != p.Counts().NoOp {
		t.Fatalf("the fixture's no-op is not counted by Brief: %+v", p.Counts())
	}
}
