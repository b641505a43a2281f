package config

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMailMergeExample generates the 50 letters of examples/mail-merge into
// a copy of it and loads it.
func TestMailMergeExample(t *testing.T) {
	src := filepath.Join("..", "examples", "mail-merge")
	dir := t.TempDir()
	for _, name := range []string{"main.mail.hcl", "recipients.csv"} {
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
	letters := map[string]string{}
	registered := 0
	for i, r := range rows[1:] {
		letters["letters/"+r[0]+".pdf"] = string(makePDF(1+i%2, 595, 842))
		if r[5] == "yes" {
			registered++
		}
	}
	writeFiles(t, dir, letters)

	cfg := mustLoad(t, dir, LoadOptions{})
	if len(cfg.Mailings) != 50 {
		t.Fatalf("%d mailings, want 50", len(cfg.Mailings))
	}
	m := cfg.Mailings[0]
	if m.Address != `mailing.letter["c001"]` || m.JobName != "merge-2026-11-c001" || m.Service != "Lettre recommandée avec AR" || m.Documents[0].File != "letters/c001.pdf" {
		t.Errorf("first mailing = %+v", m)
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
	if _, diags := Load(dir, LoadOptions{Vars: []string{"batch=november"}}); hasCode(diags, CodeVariableValidation) == nil {
		t.Errorf("diags = %v", diags)
	}
}
