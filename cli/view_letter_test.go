package cli

import (
	"strings"
	"testing"

	"github.com/postform/postform/reconcile"
)

// A rendered letter's subject and page count are in the pull-request
// comment, its subject escaped like any text from the configuration.
func TestMarkdownShowsRenderedLetter(t *testing.T) {
	doc := &reconcile.PlanDocument{
		Changes: []reconcile.PlanChange{
			{Address: `mailing.notice["a1"]`, Action: reconcile.ActionCreate, Service: "Lettre simple", AddressCheck: "rendered",
				Files: []reconcile.PlanFile{{File: ".postform/rendered/0123.pdf", Pages: 2, Subject: "Mise en demeure | *urgent*"}}},
		},
		Summary: reconcile.PlanSummary{Post: 1},
	}
	md := renderMarkdown(doc)
	want := "| Lettre simple | letter \"Mise en demeure \\| \\*urgent\\*\" (`.postform/rendered/0123.pdf`) | 2 |"
	if !strings.Contains(md, want) {
		t.Errorf("markdown lacks %q:\n%s", want, md)
	}
}
