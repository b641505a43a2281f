package safefs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// world is a working directory with an outside folder beside it, and a
// snapshot of the outside to prove nothing there changed.
type world struct {
	dir, outside string
	d            *Dir
}

func newWorld(t *testing.T) *world {
	t.Helper()
	base := t.TempDir()
	w := &world{dir: filepath.Join(base, "work"), outside: filepath.Join(base, "outside")}
	for _, p := range []string{w.dir, w.outside} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(w.outside, "victim"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(w.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w.d = d
	return w
}

func (w *world) outsideUnchanged(t *testing.T) {
	t.Helper()
	entries, _ := os.ReadDir(w.outside)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files appeared outside the working directory: %v", names)
	}
	b, err := os.ReadFile(filepath.Join(w.outside, "victim"))
	if err != nil || string(b) != "precious" {
		t.Fatalf("the file outside was changed: %q %v", b, err)
	}
}

func (w *world) link(t *testing.T, target, name string) {
	t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func TestWritesNeverLeaveTheFolder(t *testing.T) {
	for _, name := range []string{
		"../outside/victim", "../../x", "/tmp/abs", "a/../../outside/victim", "", "..",
	} {
		w := newWorld(t)
		if err := w.d.WriteFile(name, []byte("pwned"), 0o644); err == nil {
			t.Errorf("WriteFile(%q) succeeded", name)
		}
		if _, err := w.d.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			t.Errorf("OpenFile(%q) succeeded", name)
		}
		if _, err := w.d.Sub(name); err == nil && name != "" {
			t.Errorf("Sub(%q) succeeded", name)
		}
		w.outsideUnchanged(t)
	}
}

func TestPlantedLinksAreRefused(t *testing.T) {
	cases := []struct {
		name, linkAt, target string
		write                func(d *Dir) error
	}{
		{"lock file to outside", "state.lock", "../outside/victim", func(d *Dir) error {
			_, err := d.OpenFile("state.lock", os.O_RDWR|os.O_CREATE, 0o644)
			return err
		}},
		{"dangling journal to outside", "state.journal", "../outside/new", func(d *Dir) error {
			_, err := d.OpenFile("state.journal", os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
			return err
		}},
		{"lock linked to a file inside", "state.lock", "state.json", func(d *Dir) error {
			_, err := d.OpenFile("state.lock", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
			return err
		}},
		{"atomic write over a link", "review.plan", "../outside/victim", func(d *Dir) error {
			return d.WriteFile("review.plan", []byte("x"), 0o644)
		}},
		{"cache write over a link", "index.pdf", "../outside/victim", func(d *Dir) error {
			return d.WriteCache("index.pdf", []byte("x"), 0o644)
		}},
		{"folder linked outside", "proofs", "../outside", func(d *Dir) error {
			return d.WriteFile("proofs/a/1-CERTIF.pdf", []byte("x"), 0o644)
		}},
		{"sub folder linked outside", ".postform", "../outside", func(d *Dir) error {
			_, err := d.Sub(".postform/sandbox")
			return err
		}},
		{"rename onto a link", "dest", "../outside/victim", func(d *Dir) error {
			if err := os.WriteFile(filepath.Join(d.Path(), "src"), []byte("x"), 0o644); err != nil {
				return err
			}
			return d.Rename("src", "dest")
		}},
		{"read through a link", "state.json2", "../outside/victim", func(d *Dir) error {
			_, err := d.ReadFile("state.json2")
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			if err := os.WriteFile(filepath.Join(w.dir, "state.json"), []byte("state"), 0o644); err != nil {
				t.Fatal(err)
			}
			w.link(t, c.target, c.linkAt)
			err := c.write(w.d)
			if err == nil {
				t.Fatal("written through a planted link")
			}
			if !errors.Is(err, ErrSymlink) && !errors.Is(err, ErrOutside) {
				t.Errorf("error does not say why: %v", err)
			}
			if !strings.Contains(err.Error(), c.linkAt) {
				t.Errorf("error does not name %s: %v", c.linkAt, err)
			}
			w.outsideUnchanged(t)
			if b, _ := os.ReadFile(filepath.Join(w.dir, "state.json")); string(b) != "state" {
				t.Errorf("state.json changed: %q", b)
			}
		})
	}
}

func TestWriteFileIsAtomicAndLeavesNoTemp(t *testing.T) {
	w := newWorld(t)
	if err := w.d.WriteFile("a/b/file", []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := w.d.WriteFile("a/b/file", []byte("two"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, err := w.d.ReadFile("a/b/file")
	if err != nil || string(b) != "two" {
		t.Fatalf("read %q, %v", b, err)
	}
	fi, _ := os.Stat(filepath.Join(w.dir, "a/b/file"))
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestFailedWriteLeavesOldContent(t *testing.T) {
	w := newWorld(t)
	if err := w.d.WriteFile("f", []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := w.d.WriteWith("f", 0o644, func(wr io.Writer) error {
		wr.Write([]byte("partial"))
		return errors.New("stalled")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(filepath.Join(w.dir, "f")); string(b) != "old" {
		t.Errorf("content %q", b)
	}
	entries, _ := os.ReadDir(w.dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestTempNamesAreUnpredictable(t *testing.T) {
	w := newWorld(t)
	f1, n1, err := w.d.CreateTemp("x")
	if err != nil {
		t.Fatal(err)
	}
	f1.Close()
	f2, n2, err := w.d.CreateTemp("x")
	if err != nil {
		t.Fatal(err)
	}
	f2.Close()
	if n1 == n2 || !strings.HasPrefix(n1, ".x.tmp-") {
		t.Errorf("temp names %q %q", n1, n2)
	}
}

func TestComponent(t *testing.T) {
	for in, want := range map[string]string{
		"440192":   "440192",
		"CERTIF":   "CERTIF",
		"acme-1_x": "acme-1_x",
	} {
		if got := Component(in); got != want {
			t.Errorf("Component(%q) = %q, want %q", in, got, want)
		}
	}
	seen := map[string]string{}
	for _, in := range []string{"../../../../tmp/x/PWNED-1", "..", ".", "", "a/b", `a\b`, ".hidden", "a b", "a_b", "é", strings.Repeat("x", 300), "\x1b[2J"} {
		got := Component(in)
		if !IsLocalPath(got) || strings.ContainsAny(got, `/\`) || got == "." || got == ".." || strings.HasPrefix(got, ".") || len(got) > 80 {
			t.Errorf("Component(%q) = %q is not a safe element", in, got)
		}
		if prev, ok := seen[got]; ok {
			t.Errorf("Component(%q) and Component(%q) are both %q", prev, in, got)
		}
		seen[got] = in
	}
}

func FuzzComponent(f *testing.F) {
	for _, s := range []string{"440192", "../x", "..", "", "a/b", "\x00", ".x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Component(s)
		if !filepath.IsLocal(got) || strings.ContainsAny(got, `/\`+"\x00") || strings.HasPrefix(got, ".") || got == "" {
			t.Fatalf("Component(%q) = %q", s, got)
		}
		if got == s {
			return
		}
		if Component(s+"x") == got {
			t.Fatalf("Component collides for %q", s)
		}
	})
}

func FuzzJoinStaysInside(f *testing.F) {
	for _, s := range []string{"a", "../a", "a/../../b", "/etc/passwd", "proofs/x/../../..", "a/./b"} {
		f.Add(s)
	}
	base := f.TempDir()
	work := filepath.Join(base, "work")
	os.MkdirAll(work, 0o755)
	d, err := Open(work)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if strings.ContainsRune(name, 0) {
			return
		}
		err := d.WriteFile(name, []byte("x"), 0o644)
		entries, _ := os.ReadDir(base)
		if len(entries) != 1 {
			t.Fatalf("WriteFile(%q) (err %v) wrote beside the folder: %v", name, err, entries)
		}
		if err == nil {
			d.RemoveAll(strings.Split(filepath.ToSlash(filepath.Clean(name)), "/")[0])
		}
	})
}
