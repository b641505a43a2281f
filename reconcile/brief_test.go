package reconcile

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

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

// Document, which saves and views one change at a time, is the view of the
// whole saved plan, on a plan with every kind of change.
func TestDocumentIsTheSavedPlansView(t *testing.T) {
	cfg, st := savedFixture()
	a := cfg.Mailings[0]
	a.Options, a.Proofs, a.Owner = map[string]string{"color": "true"}, []string{"deposit"}, "ops"
	a.Schedule.PostBy = time.Date(2031, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	a.DeclRange = hcl.Range{Filename: "/w/main.mail.hcl", Start: hcl.Pos{Line: 3, Column: 1}}
	fixed := desired("mailing.f", "h5")
	fixed.Fix = map[string]any{"address": []any{"ACME", "75002 PARIS"}}
	stuck := posted("mailing.f", "h5")
	stuck.PackGroups = []state.PackGroup{{ID: "5531", Status: "NOT_ELIGIBLE", Reasons: []string{"ADDRESS_UNREADABLE"}, Raw: map[string]any{"printMode": "1SIDE"}}}
	changed := desired("mailing.g", "h7")
	pending := posted("mailing.p", "h8")
	pending.Phase, pending.JobID = state.PhasePending, ""
	cfg.Mailings = append(cfg.Mailings, fixed, changed, desired("mailing.p", "h8"))
	st.Mailings["mailing.f"], st.Mailings["mailing.g"], st.Mailings["mailing.p"] = stuck, posted("mailing.g", "h6"), pending
	st.Mailings["mailing.x"].Recipient = &state.Recipient{Lines: []string{"Paul Martin", "13001 MARSEILLE"}, City: "MARSEILLE"}
	for _, opts := range []PlanOptions{{}, {Replace: []string{"mailing.b"}}, {Targets: []string{"mailing.a", "mailing.x"}}} {
		p := MakePlan(cfg, st, opts)
		got, err := json.Marshal(p.Document("test", opts))
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(p.Saved("test", opts).Document())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%+v: Document\n%s\nis not the saved plan's view\n%s", opts, got, want)
		}
	}
	kinds := map[Action]bool{}
	for _, ch := range MakePlan(cfg, st, PlanOptions{Replace: []string{"mailing.b"}}).Changes {
		kinds[ch.Action] = true
	}
	if len(kinds) < 5 {
		t.Fatalf("the fixture plans only %v", kinds)
	}
}
