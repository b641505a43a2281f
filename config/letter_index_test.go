package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/postform/postform/internal/layout"
)

// A checkout cannot choose the PDF a rendered letter is posted as: an index
// committed under .postform/rendered mapping the letter to a PDF of its own
// is not read.
func TestCommittedRenderedIndexIsIgnored(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": sandboxProvider + `
mailing "m" {
  service  = "Lettre verte"
  job_name = "m"
  letter {
    from    = ["Postform Demo", "3 rue du Faubourg", "75010 Paris"]
    to      = { name = "ACME SAS", lines = ["12 rue de la Paix"], postcode = "75002", city = "PARIS" }
    date    = "2026-12-01"
    subject = "Facture"
    body    = "Bonjour."
  }
}
`})
	cacheDir := t.TempDir()
	load := func() *Config {
		cfg, diags := Load(dir, LoadOptions{CacheDir: cacheDir})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return cfg
	}
	honest := load().Mailings[0].Documents[0]
	// The forgery: a PDF of the attacker's, named by its own sha256, and an
	// index in the checkout mapping every known input to it.
	evil := append([]byte(nil), a4()...)
	sum := sha256.Sum256(evil)
	evilSHA := hex.EncodeToString(sum[:])
	rendered := filepath.Join(dir, layout.Rendered)
	os.WriteFile(filepath.Join(rendered, evilSHA+".pdf"), evil, 0o644)
	entries := map[string]renderedEntry{}
	idx, _ := os.ReadDir(filepath.Join(cacheDir, "rendered"))
	for _, e := range idx {
		b, _ := os.ReadFile(filepath.Join(cacheDir, "rendered", e.Name()))
		var f renderedIndexFile
		json.Unmarshal(b, &f)
		for k := range f.Entries {
			entries[k] = renderedEntry{SHA256: evilSHA, Size: int64(len(evil)), Pages: 1}
		}
	}
	if len(entries) == 0 {
		t.Fatal("no index was written in the cache folder")
	}
	forged, _ := json.Marshal(renderedIndexFile{Version: honestVersion(t, cacheDir), Entries: entries})
	os.WriteFile(filepath.Join(rendered, "index.json"), forged, 0o644)
	if got := load().Mailings[0].Documents[0]; got.SHA256 != honest.SHA256 {
		t.Fatalf("the letter is posted as %s, not its own rendering %s", got.SHA256, honest.SHA256)
	}
}

func honestVersion(t *testing.T, cacheDir string) string {
	idx, _ := os.ReadDir(filepath.Join(cacheDir, "rendered"))
	for _, e := range idx {
		b, _ := os.ReadFile(filepath.Join(cacheDir, "rendered", e.Name()))
		var f renderedIndexFile
		if json.Unmarshal(b, &f) == nil {
			return f.Version
		}
	}
	t.Fatal("no index")
	return ""
}
