package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postform/postform/internal/diag"
)

const oneLetter = `
provider "nirva" {
  endpoint = "sandbox"
}
mailing "a" {
  service = "s"
  document {
    file = "letters/a.pdf"
  }
}
`

// A document that a symbolic link takes outside the working directory is
// refused (a checkout can commit a link to /etc/passwd); one that stays
// inside is posted, and its real target is known for the plan.
func TestDocumentSymlinks(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.pdf"), a4(), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	if err := os.WriteFile(filepath.Join(folder, "a.pdf"), a4(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		link   func(dir string) error
		real   string // "" when refused
		detail string
	}{
		{name: "file link outside", link: func(dir string) error {
			return os.Symlink(filepath.Join(outside, "secret.pdf"), filepath.Join(dir, "letters", "a.pdf"))
		}, detail: "is a symbolic link to " + filepath.Join(outside, "secret.pdf") + ", outside the working directory"},
		{name: "relative link outside", link: func(dir string) error {
			rel, _ := filepath.Rel(filepath.Join(dir, "letters"), filepath.Join(outside, "secret.pdf"))
			return os.Symlink(rel, filepath.Join(dir, "letters", "a.pdf"))
		}, detail: "outside the working directory"},
		{name: "folder link outside", link: func(dir string) error {
			if err := os.Remove(filepath.Join(dir, "letters")); err != nil {
				return err
			}
			return os.Symlink(folder, filepath.Join(dir, "letters"))
		}, detail: "is a symbolic link to " + filepath.Join(folder, "a.pdf") + ", outside"},
		{name: "link inside", link: func(dir string) error {
			if err := os.WriteFile(filepath.Join(dir, "real.pdf"), a4(), 0o644); err != nil {
				return err
			}
			return os.Symlink("../real.pdf", filepath.Join(dir, "letters", "a.pdf"))
		}, real: "real.pdf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := linkedLetterDir(t, tc.link)
			cfg, diags := Load(dir, LoadOptions{SkipPreflight: true})
			if tc.real == "" {
				d := hasCode(diags, diag.CodeDocumentOutside)
				if d == nil || !strings.Contains(d.Detail, tc.detail) || !strings.Contains(d.Detail, `"letters/a.pdf"`) {
					t.Fatalf("want PF116 saying %q, got %v", tc.detail, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got := cfg.Mailings[0].Documents[0].RealPath; got != tc.real {
				t.Fatalf("RealPath = %q, want %q", got, tc.real)
			}
		})
	}
}

// A path written outside the working directory is the configuration's own
// visible choice: loaded, with no real path to add when no link is on it.
func TestDocumentWrittenOutside(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "a.pdf"), a4(), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": strings.Replace(oneLetter, "letters/a.pdf", filepath.ToSlash(filepath.Join(outside, "a.pdf")), 1)})
	cfg, diags := Load(dir, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := cfg.Mailings[0].Documents[0].RealPath; got != "" {
		t.Fatalf("RealPath = %q", got)
	}
}

// With the hash cache holding a file hashed without preflight, the PDF
// magic is still checked: --skip-preflight never lets a non-PDF through.
func TestSkipPreflightChecksMagicWithCache(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": oneLetter, "letters/a.pdf": "plain text, not a PDF\n"})
	st, err := os.Stat(filepath.Join(dir, "letters", "a.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	cache := &memCache{entries: map[string]memEntry{filepath.Join(dir, "letters", "a.pdf"): {size: st.Size(), mtime: st.ModTime(), sum: strings.Repeat("ab", 32)}}}
	_, diags := Load(dir, LoadOptions{SkipPreflight: true, HashCache: cache})
	if d := hasCode(diags, diag.CodeNotPDF); d == nil || !strings.Contains(d.Detail, "does not start with %PDF-") {
		t.Fatalf("want PF103, got %v", diags)
	}
}

// evalDocument tells a plain file from a link with one lstat: a link is
// still judged by its target (its size, a folder, a dangling link), never
// by the link itself.
func TestDocumentLinkTarget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		link    func(dir string) error
		summary string // "" when loaded
	}{
		{name: "link to a file", link: func(dir string) error {
			if err := os.WriteFile(filepath.Join(dir, "real.pdf"), a4(), 0o644); err != nil {
				return err
			}
			return os.Symlink("../real.pdf", filepath.Join(dir, "letters", "a.pdf"))
		}},
		{name: "dangling link", link: func(dir string) error {
			return os.Symlink("../gone.pdf", filepath.Join(dir, "letters", "a.pdf"))
		}, summary: "Document file not found"},
		{name: "link to a folder", link: func(dir string) error {
			if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
				return err
			}
			return os.Symlink("../folder", filepath.Join(dir, "letters", "a.pdf"))
		}, summary: "Document is not a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := linkedLetterDir(t, tc.link)
			cfg, diags := Load(dir, LoadOptions{})
			if tc.summary != "" {
				d := hasCode(diags, diag.CodeMissingFile)
				if d == nil || d.Summary != tc.summary || len(diags) != 1 {
					t.Fatalf("want one PF %s %q, got %v", diag.CodeMissingFile, tc.summary, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			d := cfg.Mailings[0].Documents[0]
			if d.Size != int64(len(a4())) || d.Pages != 1 || d.RealPath != "real.pdf" {
				t.Fatalf("size %d, %d pages, real path %q: want the target's %d bytes, 1 page, real.pdf", d.Size, d.Pages, d.RealPath, len(a4()))
			}
		})
	}
}

// linkedLetterDir is a working directory of oneLetter with an empty
// letters/ folder that link then fills (with letters/a.pdf, as a link).
func linkedLetterDir(t *testing.T, link func(dir string) error) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": oneLetter})
	if err := os.Mkdir(filepath.Join(dir, "letters"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := link(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Letters' Documents share an array (documentSlots): each is clipped, so
// that an append to one letter's leaves the next letter's as they were.
func TestDocumentsAreEachLetters(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": simple(`for_each = toset(["a", "b", "c"])
  document {
    file = "a.pdf"
  }
  document {
    box  = "annex"
    file = "${each.key}.pdf"
  }`),
		"a.pdf": string(a4()), "b.pdf": string(a4()), "c.pdf": string(a4()),
	})
	cfg := mustLoad(t, dir, LoadOptions{})
	if len(cfg.Mailings) != 3 {
		t.Fatalf("%d letters", len(cfg.Mailings))
	}
	next := cfg.Mailings[1].Documents
	want := slices.Clone(next)
	for _, m := range cfg.Mailings {
		if len(m.Documents) != 2 || cap(m.Documents) != 2 {
			t.Fatalf("%s: %d documents, room for %d", m.Address, len(m.Documents), cap(m.Documents))
		}
	}
	_ = append(cfg.Mailings[0].Documents, &Document{File: "x.pdf"})
	if !slices.Equal(next, want) || next[1].File != "b.pdf" {
		t.Fatalf("an append to the first letter's documents changed the next letter's: %+v", next)
	}
}
