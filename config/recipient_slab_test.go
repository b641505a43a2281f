package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/pdf"
)

// TestRecipientsAreEachLetters: the recipients of a Load share an
// allocation, never data. Each letter's lines are its own, clipped, so an
// append to one letter's lines leaves the next letter's as they are, and a
// reading without lines is an empty list, not null.
func TestRecipientsAreEachLetters(t *testing.T) {
	dir := t.TempDir()
	readings := [][]string{{}, {"ACME SAS", "1 rue de la Paix", "75002 PARIS"}, {"Bob", "75001 PARIS"}, {"Carol", "2 rue X", "69001 LYON"}}
	cache := &benchRecipients{m: map[benchRecipientKey]*pdf.Recipient{}}
	hcl := `provider "nirva" {
  endpoint = "sandbox"
}
mailing "m" {
  for_each = toset(["a", "b", "c", "d"])
  service  = "Lettre simple"
  document {
    file = "${each.key}.pdf"
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		p, err := pdf.MakePDF(fmt.Sprintf("Customer %s", k), "1 rue de la Paix", "75002 PARIS")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, k+".pdf"), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The first Load, without an engine, gives the documents' sha256s and
	// windows; the second reads every recipient from the cache, so the
	// engine (opened lazily) is never started.
	e := pdf.Open(pdf.Options{CacheDir: benchPDFCache})
	defer e.Close()
	cfg, diags := config.Load(dir, config.LoadOptions{Recipients: cache, HashCache: &benchCache{m: map[string]benchEntry{}}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for i, m := range cfg.Mailings {
		d := m.Documents[0]
		cache.StoreRecipient(d.SHA256, m.Window, &pdf.Recipient{Lines: readings[i], Page: 1})
	}
	cfg, diags = config.Load(dir, config.LoadOptions{PDF: e, Recipients: cache, HashCache: &benchCache{m: map[string]benchEntry{}}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var all [][]string
	for i, m := range cfg.Mailings {
		r := m.Documents[0].Recipient
		if r == nil || r.Lines == nil || !slices.Equal(r.Lines, readings[i]) || cap(r.Lines) != len(r.Lines) {
			t.Fatalf("letter %d: recipient %+v, read %q", i, r, readings[i])
		}
		all = append(all, r.Lines)
	}
	for i := range all[:len(all)-1] {
		_ = append(all[i], "WRITTEN")
	}
	for i, m := range cfg.Mailings {
		if got := m.Documents[0].Recipient.Lines; !slices.Equal(got, readings[i]) {
			t.Fatalf("letter %d's lines became %q", i, got)
		}
	}
}
