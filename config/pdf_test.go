package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPDFInfo(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.pdf", makePDF(3, 595, 842))
	enc := filepath.Join(dir, "enc.pdf")
	encryptPDF(t, good, enc)
	full := makePDF(1, 595, 842)

	tests := []struct {
		name      string
		path      string
		pages     int
		warnings  int
		err       error // nil, a sentinel, or errBroken
		wantError bool
	}{
		{name: "a4 three pages", path: good, pages: 3},
		{name: "letter size warns", path: write("letter.pdf", makePDF(2, 612, 792)), pages: 2, warnings: 2},
		{name: "a4 within tolerance", path: write("near.pdf", makePDF(1, 596, 841)), pages: 1},
		{name: "not a pdf", path: write("text.pdf", []byte("hello, world\n")), err: ErrNotPDF},
		{name: "empty file", path: write("empty.pdf", nil), err: ErrNotPDF},
		{name: "encrypted", path: enc, err: ErrEncrypted},
		{name: "no pages", path: write("zero.pdf", makePDF(0, 595, 842)), err: ErrNoPages},
		{name: "truncated", path: write("trunc.pdf", full[:len(full)/2]), wantError: true},
		{name: "garbage after magic", path: write("garbage.pdf", []byte("%PDF-1.4\n\x00\x01\x02 this is not a pdf")), wantError: true},
		{name: "missing", path: filepath.Join(dir, "nope.pdf"), wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, warnings, err := PDFInfo(tt.path)
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			case tt.wantError:
				if err == nil {
					t.Fatalf("no error; pages = %d", pages)
				}
				if errors.Is(err, ErrNotPDF) || errors.Is(err, ErrEncrypted) {
					t.Fatalf("err = %v, want a parse error", err)
				}
				return
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			}
			if pages != tt.pages || len(warnings) != tt.warnings {
				t.Fatalf("pages = %d, warnings = %q; want %d pages, %d warnings", pages, warnings, tt.pages, tt.warnings)
			}
		})
	}
}
