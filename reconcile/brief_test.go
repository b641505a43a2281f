package reconcile

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
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

// ViewBrief shows what the whole document's view shows of the changes
// that do something, and masks text as it does: every recipient of the
// plan, the no-op letters' too.
func TestViewBriefMasksAsTheWholeView(t *testing.T) {
	cfg, st := savedFixture()
	// mailing.b is a no-op whose letter has a recipient of its own; the
	// forgotten mailing.x went to someone else.
	cfg.Mailings[1].Documents[0].Recipient = &config.Recipient{Lines: []string{"Jeanne Lenoir", "4 impasse des Lilas", "69003 LYON"}}
	st.Mailings["mailing.x"].Recipient = &state.Recipient{Lines: []string{"Paul Martin-Dupré", "BP 12", "13001 MARSEILLE"}}
	text := "refused: Jeanne Lenoir at 4 impasse des Lilas; Paul Martin-Dupré, BP 12, 13001 MARSEILLE; Société Générale"
	p := MakePlan(cfg, st, PlanOptions{})
	if p.Counts().NoOp == 0 {
		t.Fatal("the fixture has no no-op")
	}
	for _, mode := range []string{config.RecipientsFull, config.RecipientsMasked, config.RecipientsHidden} {
		whole := p.Document("test", PlanOptions{}).View(mode)
		brief := p.ViewBrief(p.Brief("test", PlanOptions{}), mode)
		if got, want := brief.Redact(text), whole.Redact(text); got != want {
			t.Errorf("%s: the brief view masks %q, the whole view %q", mode, got, want)
		}
		whole.Changes = slices.DeleteFunc(whole.Changes, func(c PlanChange) bool { return c.Action == ActionNoop })
		got, _ := json.Marshal(brief)
		want, _ := json.Marshal(whole)
		if string(got) != string(want) {
			t.Errorf("%s: the brief view\n%s\nis not the whole view without its no-ops\n%s", mode, got, want)
		}
	}
	if masked := p.ViewBrief(p.Brief("test", PlanOptions{}), config.RecipientsMasked).Redact(text); strings.Contains(masked, "Lenoir") {
		t.Fatalf("the no-op's recipient is not masked: %q", masked)
	}
}
