package config_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/pdf"
)

// benchRecipients is an in-memory config.RecipientCache. Its key is a
// struct, not a formatted string, so that the benchmarks measure config's
// work rather than the cache's.
type benchRecipients struct {
	mu sync.Mutex
	m  map[benchRecipientKey]*pdf.Recipient
}

type benchRecipientKey struct {
	sha string
	w   pdf.Window
}

func (c *benchRecipients) LookupRecipient(sha string, w pdf.Window) (*pdf.Recipient, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[benchRecipientKey{sha, w}]
	return r, ok
}

func (c *benchRecipients) StoreRecipient(sha string, w pdf.Window, r *pdf.Recipient) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[benchRecipientKey{sha, w}] = r
}

var benchPDFCache = filepath.Join(os.TempDir(), "postform-test-cache", "pdfium")

// BenchmarkRecipients1000New reads the recipients of 1,000 new one-page
// letters (hash, pdfcpu preflight and window reading of each), with a new
// engine every time: PDFium's start from a warm compilation cache is
// included, as in a fresh `postform plan` (issue 12: under 5 s).
func BenchmarkRecipients1000New(b *testing.B) {
	dir := benchDir(b, 1000)
	pdf.Open(pdf.Options{CacheDir: benchPDFCache}).Start() // warm the compilation cache
	for b.Loop() {
		e := pdf.Open(pdf.Options{CacheDir: benchPDFCache})
		cfg, diags := config.Load(dir, config.LoadOptions{PDF: e, Recipients: &benchRecipients{m: map[benchRecipientKey]*pdf.Recipient{}}})
		e.Close()
		if diags.HasErrors() || len(cfg.Mailings) != 1000 || cfg.Mailings[999].Documents[0].Recipient == nil || len(cfg.Mailings[0].AddressProblems) != 0 {
			b.Fatalf("%v", diags)
		}
	}
}

// BenchmarkRecipients10000Unchanged loads 10,000 letters whose hashes and
// recipients are all cached: the engine is never started (issue 12: the
// whole plan --refresh=false under 1 s).
func BenchmarkRecipients10000Unchanged(b *testing.B) {
	dir := benchDir(b, 10000)
	hashes, recipients := &benchCache{m: map[string]benchEntry{}}, &benchRecipients{m: map[benchRecipientKey]*pdf.Recipient{}}
	e := pdf.Open(pdf.Options{CacheDir: benchPDFCache})
	load(b, dir, config.LoadOptions{HashCache: hashes, PDF: e, Recipients: recipients}, 10000)
	e.Close()
	b.ReportAllocs()
	for b.Loop() {
		// A closed engine fails every reading: any would show as a problem.
		cfg, diags := config.Load(dir, config.LoadOptions{HashCache: hashes, PDF: e, Recipients: recipients})
		if diags.HasErrors() || len(cfg.Mailings[0].AddressProblems) != 0 || cfg.Mailings[0].Documents[0].Recipient == nil {
			b.Fatal("a recipient was read again")
		}
	}
}
