package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/pdf"
)

// makePDF returns a valid PDF with n pages of w x h points (A4 is
// 595 x 842), each showing its number.
func makePDF(n int, w, h float64) []byte {
	var objs []string
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	objs = append(objs,
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	)
	for i := range n {
		content := fmt.Sprintf("BT /F1 12 Tf 72 770 Td (Page %d) Tj ET", i+1)
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", w, h, 5+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		)
	}
	return pdf.WriteObjects(objs)
}

// a4 is a one-page A4 PDF.
func a4() []byte { return makePDF(1, 595, 842) }

// writeFiles writes files (name -> content) under dir, creating folders.
// designFixtureDir is a temporary folder holding testdata/design's
// configuration (the design notes' example), without its letters.
func designFixtureDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"main.mail.hcl", "customers.auto.vars.hcl"} {
		b, err := os.ReadFile(filepath.Join("testdata", "design", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, map[string]string{name: string(b)})
	}
	return dir
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// encryptPDF writes an AES-encrypted copy of src to dst.
func encryptPDF(t testing.TB, src, dst string) {
	t.Helper()
	conf := model.NewAESConfiguration("user", "owner", 256)
	if err := api.EncryptFile(src, dst, conf); err != nil {
		t.Fatalf("encrypt: %v", err)
	}
}

// codes lists the codes of diags, errors and warnings alike.
func codes(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, diag.Code(d))
	}
	return out
}

func hasCode(diags hcl.Diagnostics, code string) *hcl.Diagnostic {
	for _, d := range diags {
		if diag.Code(d) == code {
			return d
		}
	}
	return nil
}

// mustLoad loads dir and fails the test on any error.
func mustLoad(t testing.TB, dir string, opts LoadOptions) *Config {
	t.Helper()
	cfg, diags := Load(dir, opts)
	if diags.HasErrors() {
		var b strings.Builder
		cfg.WriteDiagnostics(&b, diags, false)
		t.Fatalf("Load: unexpected errors:\n%s", b.String())
	}
	return cfg
}

// memCache is a HashCache in memory that counts its calls.
type memCache struct {
	mu      sync.Mutex
	entries map[string]memEntry
	lookups int
	hits    int
	stores  int
}

type memEntry struct {
	size  int64
	mtime time.Time
	sum   string
	pages int
}

func (c *memCache) Lookup(path string, size int64, mtime time.Time) (string, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	e, ok := c.entries[path]
	if !ok || e.size != size || !e.mtime.Equal(mtime) {
		return "", 0, false
	}
	c.hits++
	return e.sum, e.pages, true
}

func (c *memCache) Store(path string, size int64, mtime time.Time, sum string, pages int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]memEntry{}
	}
	c.stores++
	c.entries[path] = memEntry{size, mtime, sum, pages}
}
