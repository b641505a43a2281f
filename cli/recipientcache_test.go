package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/pdf"
)

// A checkout cannot choose the recipient the plan shows: a committed
// .postform/recipients.json (its keys are sha256s anyone can compute) is not
// read; the letter itself is.
func TestCommittedRecipientCacheIsIgnored(t *testing.T) {
	keepCwd(t)
	dir := t.TempDir()
	letter, err := pdf.MakePDF("Mallory Evil", "666 rue du Vol", "13001 MARSEILLE")
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "a.pdf"), letter)
	writeTestFile(t, filepath.Join(dir, "main.mail.hcl"), []byte(`
provider "nirva" {
  endpoint = "sandbox"
  login    = "demo@example.com"
  password = "demo"
}
mailing "a" {
  service  = "Lettre simple"
  job_name = "a"
  document {
    file = "a.pdf"
  }
}
`))
	sum := sha256.Sum256(letter)
	w := pdf.DefaultWindow
	forged, _ := json.Marshal(map[string]any{"version": Version, "entries": map[string]any{
		recipientKey(hex.EncodeToString(sum[:]), w): map[string]any{"Lines": []string{"ACME SAS", "12 rue de la Paix", "75002 PARIS"}},
	}})
	os.MkdirAll(filepath.Join(dir, ".postform"), 0o755)
	writeTestFile(t, filepath.Join(dir, ".postform", "recipients.json"), forged)
	out := postform(t, dir, "plan", "--refresh=false")
	if strings.Contains(out, "ACME") || !strings.Contains(out, "to Mallory Evil · 666 rue du Vol · 13001 MARSEILLE") {
		t.Fatalf("the plan does not show the letter's own recipient:\n%s", out)
	}
}
