package config

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/internal/diag"
)

// TestMailMergeExample loads a fresh copy of examples/mail-merge: a CSV and
// one Markdown template give 50 rendered letters, with nothing generated
// beforehand.
func TestMailMergeExample(t *testing.T) {
	src := filepath.Join("..", "examples", "mail-merge")
	dir := t.TempDir()
	for _, name := range []string{"main.mail.hcl", "recipients.csv", "letters/letter.md"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, map[string]string{name: string(b)})
	}
	f, err := os.Open(filepath.Join(dir, "recipients.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	registered := 0
	for _, r := range rows[1:] {
		if r[5] == "yes" {
			registered++
		}
	}

	cfg := mustLoad(t, dir, LoadOptions{})
	if len(cfg.Mailings) != 50 {
		t.Fatalf("%d mailings, want 50", len(cfg.Mailings))
	}
	m := cfg.Mailings[0]
	d := m.Documents[0]
	if m.Address != `mailing.letter["c001"]` || m.JobName != "merge-2026-11-c001" || m.Service != "Lettre recommandée avec AR" || d.Letter == nil || d.Pages != 1 {
		t.Errorf("first mailing = %+v, document %+v", m, d)
	}
	if got := strings.Join(d.Recipient.Lines, " · "); got != "Alice Martin · 12 rue de la Paix · 75002 PARIS" {
		t.Errorf("first recipient = %q", got)
	}
	n := 0
	for _, m := range cfg.Mailings {
		if strings.Contains(m.Service, "recommandée") {
			n++
		}
	}
	if n != registered {
		t.Errorf("%d registered letters, want %d", n, registered)
	}
	if _, diags := cfg.EvalOutputs(nil); diags.HasErrors() {
		t.Fatal(diags)
	}

	// A bad batch fails the example's validation rule.
	if _, diags := Load(dir, LoadOptions{Vars: []string{"batch=november"}}); hasCode(diags, diag.CodeVariableValidation) == nil {
		t.Errorf("diags = %v", diags)
	}
}
