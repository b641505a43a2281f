package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/postform/postform/pdf"
)

// keepCwd restores the test's working directory when it ends (postform
// --chdir moves the process).
func keepCwd(t *testing.T) {
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
}

// writeLetters writes into dir, for each file name, a letter addressed to
// its lines (pdf.MakePDF).
func writeLetters(t *testing.T, dir string, letters map[string][]string) {
	t.Helper()
	for name, lines := range letters {
		pdf, err := pdf.MakePDF(lines...)
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(dir, name), pdf)
	}
}

// writeTestFile writes b at path, failing the test if it cannot.
func writeTestFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
