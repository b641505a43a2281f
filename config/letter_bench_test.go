package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// letterBenchDir is a mail merge of n rendered letters: a CSV, one template.
func letterBenchDir(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	var csv strings.Builder
	csv.WriteString("id,name,street,postcode,city,amount\n")
	for i := range n {
		fmt.Fprintf(&csv, "c%05d,Client nº %d,%d rue de la Paix,75002,Paris,\"%d,00 €\"\n", i, i, 1+i%200, 10+i)
	}
	writeFiles(b, dir, map[string]string{
		"main.mail.hcl": sandboxProvider + `
mailing "notice" {
  for_each = { for r in csvdecode(file("debtors.csv")) : r.id => r }
  service  = "Lettre simple"
  letter {
    from    = { name = "Exemple SAS", lines = ["10 rue de Rivoli"], postcode = "75004", city = "Paris" }
    to      = { name = each.value.name, lines = [each.value.street], postcode = each.value.postcode, city = each.value.city }
    date    = "2026-12-01"
    subject = "Relance"
    body    = templatefile("notice.md", each.value)
  }
}
`,
		"debtors.csv": csv.String(),
		"notice.md":   "Madame, Monsieur,\n\nLa somme de **${amount}** reste impayée à ce jour.\n\nVeuillez agréer nos salutations distinguées.\n",
	})
	return dir
}

// BenchmarkLetters1000Rendered: plan's load of 1,000 new letters, each
// rendered and written (target: under 5 s on 2 cores).
func BenchmarkLetters1000Rendered(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		dir := letterBenchDir(b, 1000)
		b.StartTimer()
		cfg := mustLoad(b, dir, LoadOptions{HashCache: &memCache{}})
		if len(cfg.Mailings) != 1000 {
			b.Fatal(len(cfg.Mailings))
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// BenchmarkLetters10000Unchanged: plan --refresh=false of 10,000 letters
// rendered by an earlier run: nothing is rendered or hashed again (target:
// under 1 s).
func BenchmarkLetters10000Unchanged(b *testing.B) {
	dir := letterBenchDir(b, benchUnchanged)
	cache := &memCache{}
	// The index of renderings lives in the cache folder: without one,
	// every Load renders every letter again.
	opts := LoadOptions{HashCache: cache, CacheDir: b.TempDir()}
	mustLoad(b, dir, opts)
	b.ResetTimer()
	for b.Loop() {
		cfg := mustLoad(b, dir, opts)
		if len(cfg.Mailings) != benchUnchanged {
			b.Fatal(len(cfg.Mailings))
		}
	}
}

// benchUnchanged is 10,000 unless POSTFORM_BENCH_LETTERS says otherwise.
var benchUnchanged = func() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("POSTFORM_BENCH_LETTERS"), &n); err == nil && n > 0 {
		return n
	}
	return 10000
}()
