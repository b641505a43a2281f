package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/pdf"
)

// BenchmarkOpenCaches reads a hash cache and a recipient cache of 100,000
// letters each, as a plan of a 100,000-letter mail merge does first.
func BenchmarkOpenCaches(b *testing.B) {
	dir, cacheDir := b.TempDir(), b.TempDir()
	b.Setenv("POSTFORM_CACHE_DIR", cacheDir)
	hashes := map[string]hashEntry{}
	rc := openRecipientCache(dir)
	mtime := time.Date(2026, 12, 1, 8, 49, 3, 123456789, time.UTC)
	for i := range 100000 {
		sha := fmt.Sprintf("%064x", i)
		hashes[fmt.Sprintf("letters/c%06d.pdf", i)] = hashEntry{Size: 1800 + int64(i%7), ModTime: mtime, SHA256: sha, Pages: 1}
		rc.StoreRecipient(sha, pdf.DefaultWindow, &pdf.Recipient{Lines: []string{fmt.Sprintf("Customer %06d", i), "1 rue de la Paix", "75001 PARIS"},
			Postcode: "75001", City: "PARIS", Page: 1, Pages: 1})
	}
	raw, err := json.Marshal(hashes)
	if err != nil {
		b.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, filepath.Dir(layout.FileHashes)), 0o755)
	if err := os.WriteFile(filepath.Join(dir, layout.FileHashes), raw, 0o644); err != nil {
		b.Fatal(err)
	}
	rc.save()
	b.Run("hashes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c := loaded(openHashCache(dir)); len(c.entries) != 100000 {
				b.Fatalf("%d entries", len(c.entries))
			}
		}
	})
	b.Run("recipients", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c := loadedRecipients(openRecipientCache(dir)); len(c.entries) != 100000 {
				b.Fatalf("%d entries", len(c.entries))
			}
		}
	})
}
