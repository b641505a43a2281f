// Package safefs confines postform's file writes to one folder.
//
// Paths postform writes are built from configuration (proofs_dir, the state
// path), from a checkout's files and from the platform's answers (shipment
// ids, proof names). Any of them may be hostile: a pull request can commit a
// symlink where postform writes, a platform can answer a shipment id
// "../../x". Every write therefore goes through a Dir, which
//
//   - resolves names inside its folder only (an os.Root: a "..", an absolute
//     name or a symlink that leaves the folder is refused by the kernel-level
//     walk, not by string checks);
//   - refuses a symbolic link at the name it writes, even one pointing inside
//     the folder (a lock file linked to the state would truncate the state);
//   - replaces files atomically through a temporary file with an
//     unpredictable name, fsynced, renamed, and the folder fsynced.
package safefs

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrSymlink is wrapped by every refusal to write through a symbolic link.
var ErrSymlink = errors.New("is a symbolic link; postform never writes through a link it did not make (remove it, or point the setting at a real file)")

// ErrOutside is wrapped when a name would leave its folder.
var ErrOutside = errors.New("leaves the folder postform may write in")

// Dir is a folder postform writes in. It is safe for concurrent use.
type Dir struct {
	root *os.Root
	path string // for messages
}

// Open opens the existing folder path.
func Open(path string) (*Dir, error) {
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return &Dir{root: r, path: path}, nil
}

// OpenCreate opens path, creating it (and its parents) first if missing.
// The path itself is the caller's (a working directory, a --out folder);
// confinement starts inside it.
func OpenCreate(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	return Open(path)
}

// Path is the folder as it was opened.
func (d *Dir) Path() string { return d.path }

// Join is the path of name inside the folder, for messages and for readers
// that need a plain path.
func (d *Dir) Join(name string) string { return filepath.Join(d.path, name) }

// Close releases the folder.
func (d *Dir) Close() error { return d.root.Close() }

// Sub opens the folder rel inside d, creating it when missing. A rel that
// leaves d, or a link on the way out of d, is refused.
func (d *Dir) Sub(rel string) (*Dir, error) {
	if err := d.checkName(rel); err != nil {
		return nil, err
	}
	if rel != "." {
		if err := d.root.MkdirAll(rel, 0o755); err != nil {
			return nil, d.wrap("creating", rel, err)
		}
	}
	r, err := d.root.OpenRoot(rel)
	if err != nil {
		return nil, d.wrap("opening", rel, err)
	}
	return &Dir{root: r, path: filepath.Join(d.path, rel)}, nil
}

// checkName refuses names that are not local to the folder before the
// kernel walk sees them, so the message names the setting's value.
func (d *Dir) checkName(name string) error {
	if name == "" || !filepath.IsLocal(name) {
		return fmt.Errorf("%q %w %s", name, ErrOutside, d.path)
	}
	return nil
}

// wrap turns os.Root's terse "path escapes from parent" into a message that
// says what was refused and why.
func (d *Dir) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%s %s: %w %s (a symlink on the way leads outside it)", op, d.Join(name), ErrOutside, d.path)
	}
	return fmt.Errorf("%s %s: %w", op, d.Join(name), err)
}

// refuseLink fails when name exists as a symbolic link. A missing name is
// fine. The walk to name's folder is confined; only the last element could
// still be a link inside the folder.
func (d *Dir) refuseLink(name string) error {
	fi, err := d.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return d.wrap("checking", name, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := d.root.Readlink(name)
		return fmt.Errorf("%s (→ %s) %w", d.Join(name), target, ErrSymlink)
	}
	return nil
}

// Lstat describes name without following a final link.
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	if err := d.checkName(name); err != nil {
		return nil, err
	}
	fi, err := d.root.Lstat(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, d.wrap("checking", name, err)
	}
	return fi, err
}

// Exists reports whether name exists (a link counts).
func (d *Dir) Exists(name string) bool {
	_, err := d.Lstat(name)
	return err == nil
}

// OpenFile opens name inside the folder, never through a link, creating its
// parent folders when flag has O_CREATE. O_TRUNC is applied only once the
// opened file is known to be the one at name.
func (d *Dir) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if err := d.checkName(name); err != nil {
		return nil, err
	}
	if flag&os.O_CREATE != 0 {
		if dir := filepath.Dir(name); dir != "." {
			if err := d.root.MkdirAll(dir, 0o755); err != nil {
				return nil, d.wrap("creating", dir, err)
			}
		}
	}
	if err := d.refuseLink(name); err != nil {
		return nil, err
	}
	trunc := flag&os.O_TRUNC != 0
	f, err := d.root.OpenFile(name, flag&^os.O_TRUNC, perm)
	if err != nil {
		return nil, d.wrap("opening", name, err)
	}
	// A link planted between the check and the open: the file opened is
	// then not the one at name.
	if err := d.sameFile(f, name); err != nil {
		f.Close()
		return nil, err
	}
	if trunc {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, d.wrap("truncating", name, err)
		}
	}
	return f, nil
}

func (d *Dir) sameFile(f *os.File, name string) error {
	fi, err1 := f.Stat()
	li, err2 := d.root.Lstat(name)
	if err1 != nil || err2 != nil {
		return d.wrap("checking", name, errors.Join(err1, err2))
	}
	if li.Mode()&fs.ModeSymlink != 0 || !os.SameFile(fi, li) {
		return fmt.Errorf("%s %w", d.Join(name), ErrSymlink)
	}
	return nil
}

// Open opens name for reading, never through a link.
func (d *Dir) Open(name string) (*os.File, error) {
	return d.OpenFile(name, os.O_RDONLY, 0)
}

// ReadFile reads name, never through a link.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	f, err := d.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Sized from the file, as os.ReadFile does: io.ReadAll grew a 175 MB
	// state file's buffer a dozen times, copying and clearing each.
	size := 0
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = int(fi.Size())
	}
	data := make([]byte, 0, size+512)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return data, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // it grew since Stat
		}
	}
}

// CreateTemp creates a new file with an unpredictable name in the folder of
// name (".<base>.tmp-<random>"), opened exclusively: nothing planted can be
// written through. It returns the file and its name inside d.
func (d *Dir) CreateTemp(name string) (*os.File, string, error) {
	if err := d.checkName(name); err != nil {
		return nil, "", err
	}
	dir, base := filepath.Split(name)
	if dir != "" {
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return nil, "", d.wrap("creating", dir, err)
		}
	}
	for range 100 {
		var b [8]byte
		rand.Read(b[:])
		tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(b[:]))
		f, err := d.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", d.wrap("creating a temporary file for", name, err)
		}
		return f, tmp, nil
	}
	return nil, "", fmt.Errorf("creating a temporary file for %s: too many collisions", d.Join(name))
}

// WriteFile replaces name atomically with data.
func (d *Dir) WriteFile(name string, data []byte, perm fs.FileMode) error {
	_, err := d.WriteWith(name, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return err
}

// WriteWith replaces name atomically with what write produces: a temporary
// file is written, fsynced and renamed over name, then the folder is
// fsynced. On any failure name is untouched and the temporary file removed.
// It returns the number of bytes written.
func (d *Dir) WriteWith(name string, perm fs.FileMode, write func(io.Writer) error) (int64, error) {
	return d.replace(name, perm, true, write)
}

// WriteCache replaces name atomically with data, like WriteFile, but
// without fsync: for caches that are checked before use (a rendering named
// by its sha256), where a file a crash tears is simply made again and a
// thousand new entries should not wait for two thousand disk flushes.
func (d *Dir) WriteCache(name string, data []byte, perm fs.FileMode) error {
	_, err := d.replace(name, perm, false, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return err
}

// replace is WriteWith and WriteCache: durable says whether the file and
// its folder are fsynced.
func (d *Dir) replace(name string, perm fs.FileMode, durable bool, write func(io.Writer) error) (int64, error) {
	if err := d.refuseLinkChecked(name); err != nil {
		return 0, err
	}
	f, tmp, err := d.CreateTemp(name)
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: f}
	err = write(cw)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.Rename(tmp, name)
	}
	if err != nil {
		d.root.Remove(tmp)
		return cw.n, err
	}
	if !durable {
		return cw.n, nil
	}
	return cw.n, d.SyncDir(name)
}

func (d *Dir) refuseLinkChecked(name string) error {
	if err := d.checkName(name); err != nil {
		return err
	}
	return d.refuseLink(name)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Rename renames oldname to newname inside the folder. A link at newname is
// refused rather than replaced: it was planted, and saying so beats hiding it.
func (d *Dir) Rename(oldname, newname string) error {
	if err := d.checkName(oldname); err != nil {
		return err
	}
	if err := d.refuseLinkChecked(newname); err != nil {
		return err
	}
	return d.wrap("renaming to", newname, d.root.Rename(oldname, newname))
}

// Link makes newname a hard link to oldname (both inside the folder).
func (d *Dir) Link(oldname, newname string) error {
	if err := d.checkName(oldname); err != nil {
		return err
	}
	if err := d.refuseLinkChecked(newname); err != nil {
		return err
	}
	if err := d.refuseLink(oldname); err != nil {
		return err
	}
	return d.wrap("linking", newname, d.root.Link(oldname, newname))
}

// Remove removes name (a link itself, never its target). A missing name is
// not an error.
func (d *Dir) Remove(name string) error {
	if err := d.checkName(name); err != nil {
		return err
	}
	err := d.root.Remove(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return d.wrap("removing", name, err)
}

// RemoveAll removes name and everything below it, inside the folder only.
func (d *Dir) RemoveAll(name string) error {
	if err := d.checkName(name); err != nil {
		return err
	}
	return d.wrap("removing", name, d.root.RemoveAll(name))
}

// MkdirAll creates the folder name and its parents inside d.
func (d *Dir) MkdirAll(name string, perm fs.FileMode) error {
	if err := d.checkName(name); err != nil {
		return err
	}
	return d.wrap("creating", name, d.root.MkdirAll(name, perm))
}

// SyncDir fsyncs the folder holding name, making a rename, creation or
// removal in it durable.
func (d *Dir) SyncDir(name string) error {
	dir := filepath.Dir(name)
	f, err := d.root.Open(dir)
	if err != nil {
		return d.wrap("opening", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing folder %s: %w", d.Join(dir), err)
	}
	return nil
}

// Component encodes s as one safe file-name element: letters, digits, '-',
// '_' and '.' are kept; anything else (a '/', "..", a control character) is
// replaced, and a short hash of s is appended so two different values never
// share a name. A value already safe is returned unchanged.
func Component(s string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if clean == s && s != "." && s != ".." && s != "" && !strings.HasPrefix(s, ".") && len(s) <= 128 {
		return s
	}
	// Encoded: dots go too, so no ".." is left even inside a name.
	clean = strings.ReplaceAll(clean, ".", "_")
	if len(clean) > 64 {
		clean = clean[:64]
	}
	sum := sha256.Sum256([]byte(s))
	return clean + "-" + hex.EncodeToString(sum[:4])
}

// IsLocalPath reports whether p, taken relative to a folder, stays inside it.
func IsLocalPath(p string) bool { return p != "" && filepath.IsLocal(p) }

// WriteFileAt replaces the file at path atomically, in path's own folder,
// never through a link at path: for files whose place the user named on the
// command line (plan --out, fmt), where the folder is theirs to choose.
func WriteFileAt(path string, data []byte, perm fs.FileMode) error {
	d, err := Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.WriteFile(filepath.Base(path), data, perm)
}

// OpenCreateAt opens (creating) the folder path the user named, never
// through a link at path. Its parents are the user's choice; the folder
// itself may be a name in a checkout (--preview=preview in CI, report and
// proofs export --out), where a pull request could commit a link: a link
// there is refused, and the folder is opened confined to its parent.
func OpenCreateAt(path string) (*Dir, error) {
	parent, err := OpenCreate(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	base := filepath.Base(path)
	if fi, err := parent.Lstat(base); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s %w", path, ErrSymlink)
	}
	return parent.Sub(base)
}

// ReadFileAt reads the file at path, never through a link at path.
func ReadFileAt(path string) ([]byte, error) {
	d, err := Open(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.ReadFile(filepath.Base(path))
}
