package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The quickstart is the README's first command: on a fresh copy it plans its
// four letters, three PDFs with every recipient read from the address
// window and one rendered from its letter block, and posts them once.
func TestQuickstartPlansAndPostsEachLetterOnce(t *testing.T) {
	keepCwd(t)
	t.Setenv("POSTFORM_SANDBOX_TIME_SCALE", "100")
	dir := filepath.Join(t.TempDir(), "quickstart")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "quickstart"))); err != nil {
		t.Fatal(err)
	}
	out := postform(t, dir, "plan")
	for _, want := range []string{
		"Plan: 4 to post, 0 to forget, 0 blocked.",
		"to Umbrella SARL · Service Achats · 8 place Bellecour · 69002 LYON",
		"to ACME SAS · Service Comptabilité · 12 rue de la Paix · 75002 PARIS",
		"to Globex Corporation · 1 avenue Foch · 75016 PARIS",
		"to Initech France · À l’attention de M. Lumbergh · 5 rue Lafayette · 75009 PARIS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the quickstart's plan lacks %q:\n%s", want, out)
		}
	}
	postform(t, dir, "apply", "--auto-approve")
	if out := postform(t, dir, "plan", "--refresh=false"); !strings.Contains(out, "No changes.") {
		t.Errorf("a second plan is not empty:\n%s", out)
	}
}
