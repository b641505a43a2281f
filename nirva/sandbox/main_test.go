package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	postpdf "github.com/postform/postform/pdf"
)

// testPDF is the one engine of the package's tests (and of every sandbox
// they open without one), compiled once into the cache the pdf tests use.
var testPDF = postpdf.Open(postpdf.Options{CacheDir: filepath.Join(os.TempDir(), "postform-test-cache", "pdfium")})

func TestMain(m *testing.M) {
	sharedPDF = func() *postpdf.Engine { return testPDF }
	code := m.Run()
	if err := testPDF.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing the PDF engine:", err)
		code = 1
	}
	os.Exit(code)
}
