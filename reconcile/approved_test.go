package reconcile

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckApproved(t *testing.T) {
	letter := func() SavedChange {
		return SavedChange{Address: "mailing.a", Action: ActionCreate, JobName: "a", Service: "Lettre simple",
			ContentHash: "h1", Options: map[string]string{"printMode": "1SIDE"}, Proofs: []string{"CERTIF"},
			Files: []SavedFile{{Box: "main", File: "a.pdf", SHA256: "s1", Recipient: &SavedRecipient{Lines: []string{"ACME SAS", "75002 PARIS"}}}}}
	}
	doc := func(cs ...SavedChange) *SavedPlan { return &SavedPlan{Changes: cs} }
	fixed := func(v string) SavedChange {
		c := SavedChange{Address: "mailing.b", Action: ActionUpdate, PriorJobID: "88001", Fix: map[string]any{"address": []any{v}}}
		return c
	}
	tests := []struct {
		name        string
		approved    *SavedPlan
		now         *SavedPlan
		wantInError string // "" = approved
	}{
		{"identical", doc(letter(), fixed("x")), doc(letter(), fixed("x")), ""},
		{"no-ops do not count", doc(letter()), doc(letter(), SavedChange{Address: "mailing.z", Action: ActionNoop}), ""},
		{"a new letter", doc(letter()), doc(letter(), SavedChange{Address: "mailing.c", Action: ActionCreate}), "mailing.c: would post now"},
		{"a letter gone", doc(letter(), fixed("x")), doc(letter()), "mailing.b: the approved plan would edit the pack group of it"},
		{"the pdf changed", doc(letter()), doc(func() SavedChange { c := letter(); c.Files[0].SHA256 = "s2"; return c }()), "a.pdf changed since it was planned"},
		{"the recipient changed", doc(letter()), doc(func() SavedChange {
			c := letter()
			c.Files[0].Recipient = &SavedRecipient{Lines: []string{"Mallory", "13001 MARSEILLE"}}
			return c
		}()), "the recipient read from a.pdf differs"},
		{"the fix changed", doc(fixed("x")), doc(fixed("y")), "mailing.b: fix "},
		{"the prior job changed", doc(fixed("x")), doc(func() SavedChange { c := fixed("x"); c.PriorJobID = "88099"; return c }()), "mailing.b: prior job \"88001\" in the approved plan, \"88099\" now"},
		{"the options changed", doc(letter()), doc(func() SavedChange { c := letter(); c.Options = map[string]string{"printMode": "2SIDE"}; return c }()), "mailing.a: options "},
		{"an address twice in the approved plan", doc(letter(), letter()), doc(letter()), "appears more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckApproved(tt.approved, tt.now)
			switch {
			case tt.wantInError == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantInError != "" && err == nil:
				t.Fatalf("approved, want a refusal naming %q", tt.wantInError)
			case err != nil && (!errors.Is(err, ErrNotApproved) || !strings.Contains(err.Error(), tt.wantInError)):
				t.Fatalf("error %q does not say %q", err, tt.wantInError)
			}
		})
	}
}
