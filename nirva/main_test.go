package nirva_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/postform/postform/nirva/sandbox"
)

// TestMain starts the sandbox's PDF engine once, from the compilation cache
// the other packages' tests share, before any test measures a deadline.
func TestMain(m *testing.M) {
	if os.Getenv("POSTFORM_CACHE_DIR") == "" {
		os.Setenv("POSTFORM_CACHE_DIR", filepath.Join(os.TempDir(), "postform-test-cache"))
	}
	if err := sandbox.WarmPDF(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the PDF engine:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
