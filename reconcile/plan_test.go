package reconcile

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

func desired(addr, hash string) *config.Mailing {
	return &config.Mailing{Address: addr, Service: "Lettre simple", JobName: strings.TrimPrefix(addr, "mailing."), ContentHash: hash,
		Documents: []*config.Document{{File: "a.pdf", SHA256: hash + "-doc"}}}
}

func posted(addr, hash string) *state.Mailing {
	return &state.Mailing{Address: addr, Phase: state.PhasePosted, ContentHash: hash, JobID: "88001",
		JobName: strings.TrimPrefix(addr, "mailing."), Service: "Lettre simple", SubmittedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		Documents: []state.Document{{File: "a.pdf", SHA256: hash + "-doc"}}}
}

func TestMakePlan(t *testing.T) {
	notEligible := posted("mailing.a", "h1")
	notEligible.PackGroups = []state.PackGroup{{ID: "5531", Status: "NOT_ELIGIBLE", Reasons: []string{"ADDRESS_UNREADABLE"}, Raw: map[string]any{"printMode": "1SIDE"}}}
	withFix := desired("mailing.a", "h1")
	withFix.Fix = map[string]any{"address": []any{"ACME", "75002 PARIS"}}
	pending := posted("mailing.a", "h1")
	pending.Phase, pending.JobID = state.PhasePending, ""
	refused := posted("mailing.a", "h0")
	refused.Phase, refused.JobID = state.PhaseNotPosted, ""
	failed := posted("mailing.a", "h1")
	failed.JobStatus = "PROCESSING_ERROR"
	profile := &nirva.Profile{Services: []nirva.Service{{ID: "301", Name: "Lettre simple"}}}

	tests := []struct {
		name     string
		config   []*config.Mailing
		state    []*state.Mailing
		opts     PlanOptions
		want     map[string]Action
		wantCode string // a diagnostic the plan must carry
		errors   bool
	}{
		{name: "new letter is posted", config: []*config.Mailing{desired("mailing.a", "h1")},
			want: map[string]Action{"mailing.a": ActionCreate}},
		{name: "same content is a no-op", config: []*config.Mailing{desired("mailing.a", "h1")}, state: []*state.Mailing{posted("mailing.a", "h1")},
			want: map[string]Action{"mailing.a": ActionNoop}},
		{name: "changed after posting is blocked", config: []*config.Mailing{desired("mailing.a", "h2")}, state: []*state.Mailing{posted("mailing.a", "h1")},
			want: map[string]Action{"mailing.a": ActionBlocked}, wantCode: diag.CodeBlockedChange, errors: true},
		{name: "--replace posts again", config: []*config.Mailing{desired("mailing.a", "h2")}, state: []*state.Mailing{posted("mailing.a", "h1")},
			opts: PlanOptions{Replace: []string{"mailing.a"}}, want: map[string]Action{"mailing.a": ActionReplace}},
		{name: "removed from config is forgotten", state: []*state.Mailing{posted("mailing.a", "h1")},
			want: map[string]Action{"mailing.a": ActionForget}},
		{name: "unresolved attempt blocks", config: []*config.Mailing{desired("mailing.a", "h1")}, state: []*state.Mailing{pending},
			want: map[string]Action{"mailing.a": ActionBlocked}, wantCode: diag.CodePendingJob, errors: true},
		{name: "unresolved attempt is never forgotten", state: []*state.Mailing{pending},
			want: map[string]Action{"mailing.a": ActionBlocked}, wantCode: diag.CodePendingJob, errors: true},
		{name: "refused attempt is posted with new content", config: []*config.Mailing{desired("mailing.a", "h1")}, state: []*state.Mailing{refused},
			want: map[string]Action{"mailing.a": ActionCreate}},
		{name: "not eligible without fix is an error", config: []*config.Mailing{desired("mailing.a", "h1")}, state: []*state.Mailing{notEligible},
			want: map[string]Action{"mailing.a": ActionNoop}, wantCode: diag.CodeNotEligible, errors: true},
		{name: "not eligible with fix is an update", config: []*config.Mailing{withFix}, state: []*state.Mailing{notEligible},
			want: map[string]Action{"mailing.a": ActionUpdate}},
		{name: "failed job is reported, not reposted", config: []*config.Mailing{desired("mailing.a", "h1")}, state: []*state.Mailing{failed},
			want: map[string]Action{"mailing.a": ActionNoop}, wantCode: diag.CodeJobFailed},
		{name: "a renamed letter is not posted twice", config: []*config.Mailing{desired("mailing.b", "h1")}, state: []*state.Mailing{posted("mailing.a", "h1")},
			want: map[string]Action{"mailing.a": ActionForget, "mailing.b": ActionBlocked}, wantCode: diag.CodeMovedLetter, errors: true},
		{name: "a rename is caught even when only the new address is targeted", config: []*config.Mailing{desired(`mailing.r["new"]`, "h1")},
			state: []*state.Mailing{posted(`mailing.r["old"]`, "h1")}, opts: PlanOptions{Targets: []string{`mailing.r["new"]`}},
			want: map[string]Action{`mailing.r["new"]`: ActionBlocked}, wantCode: diag.CodeMovedLetter, errors: true},
		{name: "a rename of a letter still pending is caught", config: []*config.Mailing{desired("mailing.b", "h1")}, state: []*state.Mailing{pending},
			want: map[string]Action{"mailing.a": ActionBlocked, "mailing.b": ActionBlocked}, wantCode: diag.CodeMovedLetter, errors: true},
		{name: "targets select instances", config: []*config.Mailing{desired(`mailing.x["a"]`, "h1"), desired("mailing.y", "h2")},
			opts: PlanOptions{Targets: []string{"mailing.x"}}, want: map[string]Action{`mailing.x["a"]`: ActionCreate}},
		{name: "unknown service is caught with the profile", config: []*config.Mailing{func() *config.Mailing {
			m := desired("mailing.a", "h1")
			m.Service = "Lettre verte"
			return m
		}()}, opts: PlanOptions{Profile: profile}, want: map[string]Action{"mailing.a": ActionCreate}, wantCode: diag.CodeUnknownSvc, errors: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := state.New("lineage")
			for _, m := range tt.state {
				st.Mailings[m.Address] = m
			}
			p := MakePlan(&config.Config{Mailings: tt.config}, st, tt.opts)
			got := map[string]Action{}
			for _, ch := range p.Changes {
				got[ch.Address] = ch.Action
			}
			if len(got) != len(tt.want) {
				t.Fatalf("actions %v, want %v", got, tt.want)
			}
			for a, want := range tt.want {
				if got[a] != want {
					t.Errorf("%s: %s, want %s", a, got[a], want)
				}
			}
			if p.Diagnostics.HasErrors() != tt.errors {
				t.Errorf("errors: %v, want %v: %v", p.Diagnostics.HasErrors(), tt.errors, p.Diagnostics)
			}
			if tt.wantCode != "" && !hasCode(p.Diagnostics, tt.wantCode) {
				t.Errorf("no %s diagnostic in %v", tt.wantCode, p.Diagnostics)
			}
		})
	}
}

func hasCode(diags hcl.Diagnostics, code string) bool {
	for _, d := range diags {
		if diag.Code(d) == code {
			return true
		}
	}
	return false
}

func TestUpdateMergesFixIntoRaw(t *testing.T) {
	prior := posted("mailing.a", "h1")
	prior.PackGroups = []state.PackGroup{{ID: "5531", Status: "NOT_ELIGIBLE", Raw: map[string]any{"printMode": "1SIDE", "address": []any{}}}}
	m := desired("mailing.a", "h1")
	m.Fix = map[string]any{"address": []any{"ACME"}}
	edits, ok := fixEdits(m, prior)
	if !ok || len(edits) != 1 || edits[0].PackGroupID != "5531" {
		t.Fatalf("edits %v", edits)
	}
	if edits[0].Raw["printMode"] != "1SIDE" || len(edits[0].Raw["address"].([]any)) != 1 {
		t.Fatalf("raw %v: the fix must be merged over the whole raw value", edits[0].Raw)
	}
	if len(prior.PackGroups[0].Raw["address"].([]any)) != 0 {
		t.Fatal("the state's raw value was changed in place")
	}
}

func TestProofDirIsSafeAndUnique(t *testing.T) {
	tests := map[string]string{
		"mailing.notice":            "notice",
		`mailing.invoice["acme"]`:   "invoice/acme",
		`mailing.invoice["a/../b"]`: "invoice/a____b-",
		`mailing.invoice[".."]`:     "invoice/__-",
	}
	for addr, prefix := range tests {
		got := ProofDir(addr)
		if !strings.HasPrefix(got, prefix) || strings.Contains(strings.TrimPrefix(got, "invoice/"), "/") {
			t.Errorf("ProofDir(%s) = %q, want a single safe folder starting %q", addr, got, prefix)
		}
	}
	if ProofDir(`mailing.x["a/b"]`) == ProofDir(`mailing.x["a_b"]`) {
		t.Error("two keys share a proof folder")
	}
}

func TestStageOf(t *testing.T) {
	m := posted("mailing.a", "h1")
	m.JobStatus = "CREATED"
	if s := StageOf(m); s != StageReceived {
		t.Errorf("no deliveries yet: %s", s)
	}
	m.Deliveries = []state.Delivery{{ID: "1", Channel: "MAIL", Status: "OUTPUTTED", Shipments: []state.Shipment{{ID: "9", StatusCode: 600}}}}
	if s := StageOf(m); s != StageMailed {
		t.Errorf("600: %s", s)
	}
	m.Deliveries[0].Shipments[0].StatusCode = -614
	m.Terminal = isTerminal(m)
	if s := StageOf(m); s != StageFailed || !m.Terminal {
		t.Errorf("-614: %s terminal=%v", s, m.Terminal)
	}
	m.Deliveries[0].Shipments[0].StatusCode = 610
	m.RequestedProofs = []string{"CERTIF"}
	if isTerminal(m) {
		t.Error("terminal without the requested proof")
	}
	m.Proofs = []state.Proof{{Name: "CERTIF", ShipmentID: "9"}}
	m.Terminal = isTerminal(m)
	if s := StageOf(m); s != StageDone || !m.Terminal {
		t.Errorf("delivered with proof: %s terminal=%v", s, m.Terminal)
	}
}
