package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAtMost and readText read a file whole up to the bound, never past
// it, whatever its size against their buffers' first size.
func TestReadAtMostBound(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 100_000} {
		content := strings.Repeat("é", n/2) + strings.Repeat("x", n%2)
		p := filepath.Join(dir, "f.txt")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, max := range []int64{int64(n) - 1, int64(n), int64(n) + 1} {
			if max < 0 {
				continue
			}
			b, err := readAtMost(p, max)
			if over := int64(len(content)) > max; over != (err != nil) || (!over && string(b) != content) {
				t.Errorf("%d bytes, max %d: %d bytes read, %v", len(content), max, len(b), err)
			}
		}
		if s, err := readText(dir, "f.txt"); err != nil || s != content {
			t.Errorf("readText of %d bytes: %d bytes, %v", len(content), len(s), err)
		}
	}
	big := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(big, make([]byte, maxReadFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readText(dir, "big.txt"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("readText of a file past maxReadFile: %v", err)
	}
	if _, err := readText(dir, "."); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("readText of a folder: %v", err)
	}
}
