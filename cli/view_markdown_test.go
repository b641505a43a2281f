package cli

import (
	"strings"
	"testing"

	"github.com/postform/postform/reconcile"
)

// Outside text in a plan (the platform's reasons, a for_each key from a
// data file, a file name) cannot inject markup, HTML, a line break or a
// control character into a pull-request comment.
func TestMarkdownEscapesOutsideText(t *testing.T) {
	doc := &reconcile.PlanDocument{
		Changes: []reconcile.PlanChange{
			{Address: "mailing.x[\"a`|b\"]", Action: reconcile.ActionBlocked, Reason: "NOT_ELIGIBLE | <img src=x onerror=alert(1)> `code` **bold** [link](http://evil)\n# heading \x1b]0;pwned\x07"},
			{Address: "mailing.y", Action: reconcile.ActionCreate, Service: "Lettre | simple", Files: []reconcile.PlanFile{{File: "l`e|t.pdf", Pages: 1,
				Recipient: &reconcile.PlanRecipient{Lines: []string{"<script>x</script> | *Dupont*", "[75009](http://evil) PARIS\x1b[2J"}}}}},
		},
		Diagnostics: []reconcile.PlanDiagnostic{{Severity: "error", Code: "PF205", Summary: "Letter failed <b>", Detail: "reason: </details>\x1b[2J"}},
		Summary:     reconcile.PlanSummary{Post: 1, Blocked: 1, Errors: 1},
	}
	md := renderMarkdown(doc)
	for _, bad := range []string{"<img", "<script", "*Dupont*", "<b>", "</details>\x1b", "\x1b", "\x07", "**bold**", "[link](", "\n# heading", "`code`"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown holds %q:\n%s", bad, md)
		}
	}
	for _, want := range []string{
		"| ``mailing.x[\"a`\\|b\"]`` | NOT\\_ELIGIBLE \\| &lt;img src=x onerror=alert(1)&gt; \\`code\\` \\*\\*bold\\*\\* \\[link\\](http://evil) \\# heading \\\\x1b\\]0;pwned\\\\x07 |",
		"| Lettre \\| simple | ``l`e\\|t.pdf`` |",
		"| 1 | &lt;script&gt;x&lt;/script&gt; \\| \\*Dupont\\* · \\[75009\\](http://evil) PARIS\\\\x1b\\[2J |",
		"reason: &lt;/details&gt;\\\\x1b\\[2J",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table row still has its cells: no pipe from the text split one.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ``mailing.x") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 4 {
			t.Errorf("a blocked row split: %s", line)
		}
	}
}
