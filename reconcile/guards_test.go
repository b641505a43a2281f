package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/state"
)

func letters(n int) []*config.Mailing {
	var out []*config.Mailing
	for i := range n {
		out = append(out, desired(fmt.Sprintf("mailing.m[\"k%04d\"]", i), fmt.Sprintf("h%d", i)))
	}
	return out
}

func TestPostingLimit(t *testing.T) {
	rng := &hcl.Range{Filename: "main.mail.hcl"}
	tests := []struct {
		name     string
		n        int
		limits   config.Limits
		opts     PlanOptions
		refused  bool
		limit    int
		limitSrc string
	}{
		{name: "the default allows 100", n: 100, limit: config.DefaultMaxPosts, limitSrc: LimitDefault},
		{name: "the default refuses 101", n: 101, refused: true, limit: config.DefaultMaxPosts, limitSrc: LimitDefault},
		{name: "max_posts lowers it", n: 30, limits: config.Limits{MaxPosts: 10, MaxPostsRange: rng}, refused: true, limit: 10, limitSrc: LimitConfig},
		{name: "max_posts raises it", n: 150, limits: config.Limits{MaxPosts: 150, MaxPostsRange: rng}, limit: 150, limitSrc: LimitConfig},
		{name: "--max-posts wins over max_posts", n: 30, limits: config.Limits{MaxPosts: 10, MaxPostsRange: rng}, opts: PlanOptions{MaxPosts: 30}, limit: 30, limitSrc: LimitFlag},
		{name: "only letters of this plan count", n: 30, limits: config.Limits{MaxPosts: 10, MaxPostsRange: rng}, opts: PlanOptions{Targets: []string{`mailing.m["k0001"]`}}, limit: 10, limitSrc: LimitConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MakePlan(&config.Config{Mailings: letters(tt.n), Limits: tt.limits}, state.New("l"), tt.opts)
			if got := hasCode(p.Diagnostics, diag.CodeTooManyPosts); got != tt.refused {
				t.Fatalf("refused = %v, want %v (%v)", got, tt.refused, p.Diagnostics)
			}
			if p.MaxPosts != tt.limit || p.MaxPostsFrom != tt.limitSrc {
				t.Errorf("limit %d from %s, want %d from %s", p.MaxPosts, p.MaxPostsFrom, tt.limit, tt.limitSrc)
			}
			s := p.Document("", tt.opts).Summary
			if s.MaxPosts != tt.limit || s.MaxPostsFrom != tt.limitSrc {
				t.Errorf("summary shows limit %d from %s", s.MaxPosts, s.MaxPostsFrom)
			}
		})
	}
}

func TestSelectors(t *testing.T) {
	cfg := &config.Config{Mailings: []*config.Mailing{desired(`mailing.invoice["acme"]`, "h1"), desired(`mailing.invoice["globex"]`, "h2"), desired("mailing.notice", "h3")}}
	st := state.New("l")
	st.Mailings["mailing.old"] = posted("mailing.old", "h9")
	plan := func(o PlanOptions) (*Plan, []string) {
		p := MakePlan(cfg, st, o)
		var addrs []string
		for _, ch := range p.Changes {
			addrs = append(addrs, ch.Address)
		}
		return p, addrs
	}
	_, got := plan(PlanOptions{Targets: []string{"mailing.invoice"}, Excludes: []string{`mailing.invoice["acme"]`}})
	if strings.Join(got, " ") != `mailing.invoice["globex"]` {
		t.Errorf("--target=mailing.invoice --exclude=acme plans %v", got)
	}
	_, got = plan(PlanOptions{Excludes: []string{"mailing.invoice", "mailing.old"}})
	if strings.Join(got, " ") != "mailing.notice" {
		t.Errorf("--exclude=mailing.invoice --exclude=mailing.old plans %v", got)
	}
	// A state-only address is known: excluding it is not "no match".
	p, _ := plan(PlanOptions{Excludes: []string{"mailing.old"}})
	if p.Diagnostics.HasErrors() {
		t.Errorf("excluding a state-only letter: %v", p.Diagnostics)
	}
	for _, tc := range []struct{ sel, want string }{
		{"mailing.invoic", "Did you mean mailing.invoice"},
		{`mailing.invoice["acmee"]`, `Did you mean mailing.invoice["acme"]`},
		{"mailing.zzzzzzzzzzzzzzzzzzzzzzz", "matches no letter"},
	} {
		for _, o := range []PlanOptions{{Targets: []string{tc.sel}}, {Excludes: []string{tc.sel}}} {
			p, _ := plan(o)
			if !hasCode(p.Diagnostics, diag.CodeNoMatch) || !strings.Contains(p.Diagnostics.Error(), tc.want) {
				t.Errorf("%+v: diagnostics %v, want PF221 with %q", o, p.Diagnostics, tc.want)
			}
		}
	}
}

func TestSchedule(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	sendAfter := time.Date(2026, 12, 5, 9, 0, 0, 0, paris)
	m := desired("mailing.notice", "h1")
	m.Schedule = config.Schedule{SendAfter: sendAfter, PostBy: time.Date(2026, 12, 10, 0, 0, 0, 0, paris)}
	cfg := &config.Config{Mailings: []*config.Mailing{m}}
	for _, tc := range []struct {
		now    time.Time
		action Action
		late   bool
	}{
		{now: sendAfter.Add(-time.Minute), action: ActionScheduled},
		{now: sendAfter, action: ActionCreate},
		{now: time.Date(2026, 12, 10, 0, 0, 1, 0, paris), action: ActionCreate, late: true},
	} {
		p := MakePlan(cfg, state.New("l"), PlanOptions{Now: tc.now})
		if got := p.Changes[0].Action; got != tc.action {
			t.Errorf("at %s: %s, want %s", tc.now, got, tc.action)
		}
		if hasCode(p.Diagnostics, diag.CodePastDeadline) != tc.late {
			t.Errorf("at %s: diagnostics %v, late = %v", tc.now, p.Diagnostics, tc.late)
		}
		if tc.action == ActionScheduled {
			if p.HasChanges() || p.Counts().Scheduled != 1 {
				t.Errorf("a scheduled letter counts as a change: %+v", p.Counts())
			}
			if r := p.Changes[0].Reason; r != "scheduled: not posted before 2026-12-05 09:00 Europe/Paris" {
				t.Errorf("reason %q", r)
			}
		}
	}
	// A posted letter is past nothing: its deadline was met.
	st := state.New("l")
	st.Mailings["mailing.notice"] = posted("mailing.notice", "h1")
	if p := MakePlan(cfg, st, PlanOptions{Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}); p.Diagnostics.HasErrors() {
		t.Errorf("a posted letter past post_by: %v", p.Diagnostics)
	}
}

func TestEstimate(t *testing.T) {
	const svc = "Lettre recommandée avec AR"
	ms := letters(1000)
	for _, m := range ms {
		m.Service = svc
		m.Documents[0].Pages = 1
	}
	// One letter of 3 pages on both sides is 2 sheets: one extra.
	ms[0].Documents[0].Pages = 3
	ms[0].Options = map[string]string{"printMode": "2SIDE"}
	pricing := &config.Pricing{Currency: "EUR", Services: map[string]config.Price{svc: {Price: 6.42, PerExtraSheet: 0.15}}}
	rng := &hcl.Range{Filename: "main.mail.hcl"}
	cfg := &config.Config{Mailings: ms, Limits: config.Limits{MaxPosts: 1000, MaxPostsRange: rng, Pricing: pricing}}
	p := MakePlan(cfg, state.New("l"), PlanOptions{})
	if p.Diagnostics.HasErrors() {
		t.Fatal(p.Diagnostics)
	}
	pp := p.Document("", PlanOptions{}).Summary.EstimatedPostage
	if want := "6,420.15 EUR (1,000 × Lettre recommandée avec AR at 6.42 + 1 extra sheet(s) at 0.15)"; pp == nil || pp.Text() != want {
		t.Fatalf("estimate %+v, want %q", pp, want)
	}
	cfg.Limits.MaxCost, cfg.Limits.MaxCostRange = 6420, rng
	if p := MakePlan(cfg, state.New("l"), PlanOptions{}); !hasCode(p.Diagnostics, diag.CodeOverBudget) {
		t.Errorf("6,420.15 over max_cost 6420: %v", p.Diagnostics)
	}
	cfg.Limits.MaxCost = 6420.15
	if p := MakePlan(cfg, state.New("l"), PlanOptions{}); p.Diagnostics.HasErrors() {
		t.Errorf("exactly max_cost is allowed: %v", p.Diagnostics)
	}
	cfg.Limits.Pricing = nil
	if pp := MakePlan(cfg, state.New("l"), PlanOptions{}).Document("", PlanOptions{}).Summary.EstimatedPostage; pp != nil {
		t.Errorf("no pricing, estimate %+v", pp)
	}
}

// A saved plan carries its --exclude and --max-posts: applied, it is made
// again with them.
func TestSavedPlanKeepsGuards(t *testing.T) {
	cfg := &config.Config{Mailings: letters(120)}
	opts := PlanOptions{Excludes: []string{`mailing.m["k0000"]`}, MaxPosts: 200}
	doc := MakePlan(cfg, state.New("l"), opts).Saved("", opts)
	b, err := EncodeSavedPlan(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSavedPlan(b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanFromSaved(back, cfg, state.New("l"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Counts(); c.Post != 119 || p.MaxPosts != 200 {
		t.Errorf("made again: %d to post under a limit of %d, want 119 under 200", c.Post, p.MaxPosts)
	}
}
