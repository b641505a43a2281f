package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/postform/postform/pdf"
)

var (
	textEngineOnce sync.Once
	textEngine     *pdf.Engine
)

// pdftext PDF|DIR OUT writes to OUT what PDFium reads of each PDF (every
// *.pdf of DIR, by name): "window: LINE" for each line the default address
// window shows, then "p<page>: LINE" for every text line of every page.
// PDFium is another PDF tool than the one that wrote the letters.
func cmdPDFText(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: pdftext PDF|DIR OUT")
	}
	textEngineOnce.Do(func() {
		textEngine = pdf.Open(pdf.Options{CacheDir: filepath.Join(testCacheDir, "pdfium")})
	})
	in := ts.MkAbs(args[0])
	files := []string{in}
	if fi, err := os.Stat(in); err == nil && fi.IsDir() {
		m, err := filepath.Glob(filepath.Join(in, "*.pdf"))
		ts.Check(err)
		sort.Strings(m)
		files = m
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		ts.Check(err)
		fmt.Fprintf(&b, "file: %s\n", filepath.Base(f))
		r, err := textEngine.Recipient(data, pdf.DefaultWindow)
		if err != nil {
			ts.Fatalf("%s is not a PDF PDFium reads: %v", f, err)
		}
		for _, l := range r.Lines {
			fmt.Fprintf(&b, "window: %s\n", l)
		}
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "problem: %s\n", p.Message)
		}
		for i := range r.Pages {
			p, err := textEngine.Page(data, i)
			ts.Check(err)
			for _, l := range p.Lines {
				fmt.Fprintf(&b, "p%d: %s\n", i+1, l.Text)
			}
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o644))
}
