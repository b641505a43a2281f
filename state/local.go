package state

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/uuid"

	"github.com/postform/postform/internal/safefs"
)

// DefaultPath is the local backend's state file when the configuration
// names none.
const DefaultPath = "postform.state.json"

// WorkspaceDir holds the local state of workspaces other than "default":
// postform.state.d/<workspace>/postform.state.json.
const WorkspaceDir = "postform.state.d"

// Open returns the backend cfg selects: "local" (the default) or "pg".
func Open(cfg Config) (Backend, error) {
	if cfg.Workspace == "" {
		cfg.Workspace = DefaultWorkspace
	}
	if err := ValidateWorkspaceName(cfg.Workspace); err != nil {
		return nil, err
	}
	switch cfg.Type {
	case "", "local":
		return openLocal(cfg)
	case "pg":
		return openPG(cfg)
	default:
		return nil, fmt.Errorf("unknown state backend %q: postform knows \"local\" and \"pg\"", cfg.Type)
	}
}

// Warner is implemented by backends that noticed something worth telling the
// user while loading, such as a torn last journal record they ignored.
type Warner interface {
	Warnings() []string
}

// Local keeps the state in a file: a snapshot written atomically (temporary
// file, fsync, rename, fsync of the directory; the previous snapshot kept as
// <path>.backup), a journal <path>.journal of records appended since the
// snapshot, and a lock file <path>.lock.
type Local struct {
	root      string // the working directory
	base      string // the default workspace's state file, absolute
	path      string // this workspace's state file, absolute
	workspace string
	// fs is the working directory; every file the backend touches is
	// opened through it by rel, its path inside, never through a link.
	fs  *safefs.Dir
	rel string

	mu      sync.Mutex
	scanned bool // the files were read at least once
	written
	warnings    []string
	snapWritten int64
	// snap is the snapshot file as last read or written, and sinceSnapshot
	// the addresses recorded in the journal since: a fold copies every
	// other letter's line from that file (mergeSource). lazySrc is the
	// source of a plan-only load's details, which must keep the old
	// file's bytes once the file is replaced.
	snap          snapshotID
	snapLines     bool // snap is known to hold one letter a line
	sinceSnapshot map[string]struct{}
	lazySrc       *source
	// journalRefreshes: every record of the journal only refreshes a
	// letter the snapshot holds (refreshedOnly), so the snapshot file
	// alone, copied without its journal, still holds every letter posted
	// and every job: only what a refresh learns again is missing.
	journalRefreshes bool

	jw *journalWriter
}

func openLocal(cfg Config) (*Local, error) {
	root := cfg.Dir
	if root == "" {
		root = "."
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	base := cfg.Path
	if base == "" {
		base = DefaultPath
	}
	if !filepath.IsAbs(base) {
		base = filepath.Join(root, base)
	}
	b := &Local{root: root, base: base, workspace: cfg.Workspace}
	b.path = localStatePath(root, base, cfg.Workspace)
	rel, err := filepath.Rel(root, b.path)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("the local backend's path %q is outside the working directory %s: postform keeps a local state inside its working directory, so that a checkout cannot make it write elsewhere; give a relative path, or use the pg backend", cfg.Path, root)
	}
	b.rel = rel
	if b.fs, err = safefs.OpenCreate(root); err != nil {
		return nil, fmt.Errorf("opening the working directory %s: %w", root, err)
	}
	b.jw = newJournalWriter(b.fs, b.journalRel(), b.journalPath())
	return b, nil
}

func localStatePath(root, base, workspace string) string {
	if workspace == DefaultWorkspace {
		return base
	}
	return filepath.Join(root, WorkspaceDir, workspace, filepath.Base(base))
}

// Path is the state file of the backend's workspace.
func (b *Local) Path() string        { return b.path }
func (b *Local) journalPath() string { return b.path + ".journal" }
func (b *Local) backupPath() string  { return b.path + ".backup" }
func (b *Local) lockPath() string    { return b.path + ".lock" }
func (b *Local) journalRel() string  { return b.rel + ".journal" }
func (b *Local) backupRel() string   { return b.rel + ".backup" }
func (b *Local) lockRel() string     { return b.rel + ".lock" }

// journalSource names the journal in replay's messages.
func (b *Local) journalSource() journalSource {
	return journalSource{name: "the state journal " + b.journalPath(), unit: "line"}
}

// Describe names the state file.
func (b *Local) Describe() string {
	if rel, err := filepath.Rel(b.root, b.path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return b.path
}

// Warnings returns what the last Load noticed and tolerated.
func (b *Local) Warnings() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.warnings...)
}

// BytesWritten is how many bytes this backend wrote to snapshots and the
// journal, to measure write amplification.
func (b *Local) BytesWritten() int64 {
	b.mu.Lock()
	n := b.snapWritten
	b.mu.Unlock()
	return n + b.jw.written.Load()
}

// Close releases the journal file.
func (b *Local) Close() error {
	err := b.jw.idle(b.jw.closeFile)
	b.jw.mu.Lock()
	defer b.jw.mu.Unlock()
	if cerr := b.jw.closeFile(); err == nil {
		err = cerr
	}
	return err
}

// Load reads the snapshot and replays the journal.
func (b *Local) Load(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, _, err := b.loadLocked(b.readSnapshot)
	return s, err
}

// LoadForPlan is Load leaving terminal letters' deliveries and proofs
// undecoded (DecodeForPlan), and not even in memory: the snapshot is read
// line by line, and a detail needed later is read from the file again,
// only if the file did not change.
func (b *Local) LoadForPlan(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var read snapshotRead
	reread := func() ([]byte, error) {
		data, err := b.fs.ReadFile(b.rel)
		if err != nil {
			return nil, fmt.Errorf("reading the deliveries and proofs of the state %s again: %w", b.path, err)
		}
		if idOf(data) != read.id {
			return nil, fmt.Errorf("the state %s changed while this run was using it (another postform wrote it?): run the command again; nothing was written", b.path)
		}
		return data, nil
	}
	src := &source{positioned: true, reread: reread}
	s, _, err := b.loadLocked(func() (*State, *snapshotDigest, error) {
		f, err := b.fs.Open(b.rel)
		if err != nil {
			return b.readSnapshot()
		}
		var ok bool
		read, ok = decodeForPlanStream(f, src)
		f.Close()
		if !ok {
			// Another layout, or an error to report: the whole file, as
			// DecodeForPlan reads it.
			data, err := b.fs.ReadFile(b.rel)
			if err != nil {
				return nil, nil, fmt.Errorf("reading the state %s: %w", b.path, err)
			}
			s, from, err := decodeForPlanFrom(data)
			digest := &snapshotDigest{now: func() [sha256.Size]byte { return fileDigest(data) }, id: idOf(data)}
			if err != nil || from == nil {
				return s, digest, err
			}
			src = from
			read = snapshotRead{s: s, id: digest.id}
			return s, digest, nil
		}
		// The file's digest is needed only by a Persist, which a plan does
		// not make: the file is read again then (and refused if it
		// changed) rather than hashed now. Not kept in src: its details
		// are read again only if they are asked for.
		return read.s, &snapshotDigest{later: func() ([sha256.Size]byte, error) {
			data, err := reread()
			if err != nil {
				return [sha256.Size]byte{}, err
			}
			return fileDigest(data), nil
		}, id: read.id, lines: true}, nil
	})
	if err != nil || read.s == nil {
		return s, err
	}
	src.drop(reread)
	b.lazySrc = src
	return s, nil
}

// rereadSeed seeds the hash that tells a state file read again from the
// one a plan-only load read: a check against accidents, not attackers (who
// could write the file anyway).
var rereadSeed = maphash.MakeSeed()

// snapshotDigest is how a load learns fileDigest of the snapshot it read:
// now, from the bytes in hand, or later, only if a Persist needs it.
type snapshotDigest struct {
	now   func() [sha256.Size]byte
	later func() ([sha256.Size]byte, error)
	id    snapshotID
	// lines: the load checked the file holds one letter a line.
	lines bool
}

// snapshotID tells a snapshot file read again from the one read or
// written before: its size and its maphash with rereadSeed.
type snapshotID struct {
	known bool
	size  int64
	sum   uint64
}

func idOf(data []byte) snapshotID {
	return snapshotID{known: true, size: int64(len(data)), sum: maphash.Bytes(rereadSeed, data)}
}

// readSnapshot reads and decodes the snapshot: nil when there is none. The
// digest is fileDigest's, computed when asked.
func (b *Local) readSnapshot() (*State, *snapshotDigest, error) {
	data, err := b.fs.ReadFile(b.rel)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("reading the state %s: %w", b.path, err)
	}
	s, err := Decode(data)
	return s, &snapshotDigest{now: func() [sha256.Size]byte { return fileDigest(data) }, id: idOf(data)}, err
}

// loadLocked reads the files, the snapshot through read, and resets what
// the backend knows of them. It reports whether anything was on disk.
func (b *Local) loadLocked(read func() (*State, *snapshotDigest, error)) (*State, bool, error) {
	s, digest, err := read()
	if err != nil {
		if s == nil && digest == nil { // the file could not be read
			return nil, false, err
		}
		hint := ""
		if b.fs.Exists(b.backupRel()) {
			hint = fmt.Sprintf("; the previous snapshot is kept in %s", b.backupPath())
		}
		return nil, false, fmt.Errorf("reading the state %s: %w%s; the state was not changed", b.path, err, hint)
	}
	js, err := scanJournal(b.fs, b.journalRel(), b.journalPath())
	if err != nil {
		return nil, false, err
	}
	refreshes := journalRefreshesOnly(s, js.lines) // before replay changes s
	existed := s != nil || len(js.lines) > 0
	s, replayed, err := replay(s, js.lines, b.journalSource(), uuid.NewString)
	if err != nil {
		return nil, false, err
	}
	b.warnings = nil
	if js.warning != "" {
		b.warnings = append(b.warnings, js.warning)
	}
	switch {
	case digest == nil:
		sum, err := baselineOf(s)
		if err != nil {
			return nil, false, err
		}
		b.setBaseline(sum)
	case replayed:
		b.baseline, b.baselineLater = [sha256.Size]byte{}, b.replayedBaseline(js.valid)
	case digest.later != nil:
		b.baseline, b.baselineLater = [sha256.Size]byte{}, digest.later
	default:
		// The snapshot as read is the baseline: no need to encode it again.
		b.setBaseline(digest.now())
	}
	b.scanned = true
	b.snap, b.snapLines, b.lazySrc = snapshotID{}, false, nil
	if digest != nil {
		b.snap, b.snapLines = digest.id, digest.lines
	}
	b.journalRefreshes = refreshes
	b.sinceSnapshot = map[string]struct{}{}
	for _, l := range js.lines {
		for _, r := range l.Records {
			b.sinceSnapshot[r.Address] = struct{}{}
		}
	}
	b.lineage = ""
	if existed {
		b.lineage = s.Lineage
	}
	b.journalDirty = js.size > 0
	b.lastSerial = s.Serial
	cut := int64(-1)
	if js.valid < js.size {
		cut = js.valid
	}
	if err := b.jw.reset(cut); err != nil {
		return nil, false, err
	}
	b.freshLineage = ""
	if !existed {
		b.freshLineage = s.Lineage
	}
	return s, existed, nil
}

// replayedBaseline gives, when a Persist asks for it, the baseline of a
// load that replayed a journal on its snapshot: that of the state the load
// returned, before anything changed it. Encoding the whole state at every
// load that found a journal cost a plan of 100,000 letters two seconds,
// and a journal is kept between runs (PersistChanged). The files are read
// again as that load read them: only a Persist replaces the snapshot (and
// it asks for the baseline first), and the journal only grows past valid,
// the well-formed part the load replayed.
func (b *Local) replayedBaseline(valid int64) func() ([sha256.Size]byte, error) {
	return func() ([sha256.Size]byte, error) {
		var sum [sha256.Size]byte
		again := func(err error) ([sha256.Size]byte, error) {
			return sum, fmt.Errorf("reading the state %s and its journal again: %w", b.path, err)
		}
		data, err := b.fs.ReadFile(b.rel)
		if err != nil {
			return again(err)
		}
		s, err := DecodeForPlan(data)
		if err != nil {
			return again(err)
		}
		jdata, err := b.fs.ReadFile(b.journalRel())
		if err != nil {
			return again(err)
		}
		if int64(len(jdata)) < valid {
			return again(fmt.Errorf("the journal is shorter (%d bytes) than when it was read (%d): another postform changed it? nothing was written", len(jdata), valid))
		}
		js, err := parseJournal(jdata[:valid], b.journalPath())
		if err != nil {
			return again(err)
		}
		if s, _, err = replay(s, js.lines, b.journalSource(), uuid.NewString); err != nil {
			return again(err)
		}
		return baselineOf(s)
	}
}

// ensureScannedLocked reads the files once so that Record and Persist know the
// lineage on disk and where the journal's well-formed part ends. The caller
// holds b.mu.
func (b *Local) ensureScannedLocked() error {
	if b.scanned {
		return nil
	}
	_, _, err := b.loadLocked(b.readSnapshot)
	return err
}

// Record appends one journal line holding every address and fsyncs it,
// sharing the fsync with concurrent callers. Recording no address does
// nothing.
func (b *Local) Record(ctx context.Context, s *State, addrs ...string) error {
	return b.record(ctx, s, false, addrs)
}

// record is Record; refreshes says the letters recorded only refresh what
// the backend holds (PersistChanged), which keeps journalRefreshes.
func (b *Local) record(ctx context.Context, s *State, refreshes bool, addrs []string) error {
	if err := ctx.Err(); err != nil || len(addrs) == 0 {
		return err
	}
	addrs = distinct(addrs)
	b.mu.Lock()
	err := b.ensureScannedLocked()
	if err == nil {
		err = b.checkLineage(s, b.path)
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	s.mu.Lock()
	recs := make([]journalRecord, len(addrs))
	for i, a := range addrs {
		recs[i] = journalRecord{Address: a, Mailing: s.Mailings[a]}
	}
	// Serial and enqueue under one lock: the journal's order is then the
	// order of its serials, however many goroutines record at once.
	b.mu.Lock()
	serial := b.nextSerial(s)
	line, err := b.jw.encode(s.Lineage, serial, recs)
	if err != nil {
		b.mu.Unlock()
		s.mu.Unlock()
		return err
	}
	batch := b.jw.enqueue(line)
	b.journalDirty = true
	b.journalRefreshes = b.journalRefreshes && refreshes
	for _, a := range addrs {
		b.sinceSnapshot[a] = struct{}{}
	}
	b.mu.Unlock()
	s.Serial = serial
	s.mu.Unlock()
	return b.jw.wait(batch)
}

// Persist writes s as the snapshot and removes the journal. The snapshot
// is streamed to its temporary file and to its digest, one mailing at a
// time (issue 18: never the whole state in memory).
func (b *Local) Persist(ctx context.Context, s *State) error {
	return b.persist(ctx, s, nil)
}

// changeSet is PersistChanged's promise: s differs from what is stored
// only at addrs (none: only in what the journal already holds).
type changeSet struct{ addrs []string }

// persist is Persist; promise, when not nil, is PersistChanged's. Then the
// snapshot is written by copying every other letter's line from the old
// one (mergeSource), and, when letters are named, the serial is bumped
// without comparing s with the baseline, which a load that replayed a
// journal left to compute (replayedBaseline: reading and encoding the
// whole state once more).
func (b *Local) persist(ctx context.Context, s *State, promise *changeSet) error {
	changed := promise != nil && len(promise.addrs) > 0
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.ensureScannedLocked(); err != nil {
		return err
	}
	if err := b.checkLineage(s, b.path); err != nil {
		return err
	}
	if later := b.baselineLater; later != nil && !changed {
		sum, err := later()
		if err != nil {
			return err
		}
		b.setBaseline(sum)
	}
	// The serial is bumped only when the content changed, which only its
	// digest tells. With records in the journal it almost always did: the
	// file is written with the bumped serial as the digest is computed,
	// and written again in the rare case it did not. Without, the digest
	// comes first, so that a Persist of nothing new writes nothing.
	serial := max(s.Serial, b.lastSerial)
	e := newStateEncoder()
	var sum [sha256.Size]byte
	if !b.journalDirty && !changed {
		var err error
		if sum, err = baselineOf(s); err != nil {
			return err
		}
		if sum == b.baseline {
			return nil
		}
		if err := b.writeSnapshotLocked(func(w io.Writer) error {
			return writeSnapshot(e, s, serial+1, w, nil)
		}); err != nil {
			return err
		}
		serial++
	} else {
		merge := b.mergeSourceLocked(s, promise)
		err := b.writeSnapshotLocked(func(w io.Writer) error {
			h := sha256.New()
			if err := merge.write(e, s, serial+1, w, h); err != nil {
				return err
			}
			h.Sum(sum[:0])
			if changed = changed || sum != b.baseline; changed {
				return nil
			}
			return errRewrite
		})
		if errors.Is(err, errRewrite) {
			err = b.writeSnapshotLocked(func(w io.Writer) error {
				return writeSnapshot(e, s, serial, w, nil)
			})
		}
		if err != nil {
			return err
		}
		if changed {
			serial++
		}
	}
	b.snapshotWritten(s, serial, sum)
	b.journalDirty = true // until the journal file is gone
	return b.dropJournalLocked()
}

// Folding the journal into the snapshot rewrites the whole state file: at
// 100,000 letters, 175 MB for a refresh that changed 1,000 of them (issue
// 18). PersistChanged appends a refresh's letters to the journal instead
// while the journal stays under 1/foldRatio of a snapshot of foldFloor
// bytes or more: each load replays at most that much. Only a refresh's
// answers stay in the journal: a run that recorded anything (a letter
// posted, adopted, removed, moved), or a journal that holds such a record
// (a crash), is folded, so that the state file alone, copied without its
// journal, never lacks a letter posted. A smaller snapshot is folded
// every time, as Persist does: rewriting it is cheap, and it keeps the
// state in one file.
var (
	foldFloor int64 = 8 << 20
	foldRatio int64 = 16
)

// PersistChanged is Persist for a state that differs from what the backend
// holds (snapshot and journal, as last loaded, recorded or persisted) only
// at the addresses in changed: when only a refresh's answers changed
// (refreshedOnly, and a journal of nothing else) and the journal is under
// the fold threshold, it records them as one journal line and leaves the
// snapshot as it is; otherwise it folds everything into a new snapshot
// (Persist, copying the unchanged letters' lines). A Load gives the same
// state either way.
func (b *Local) PersistChanged(ctx context.Context, s *State, changed []string, refreshedOnly bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	keep, err := b.keepJournalLocked(s, len(changed))
	keep = keep && refreshedOnly && b.journalRefreshes
	b.mu.Unlock()
	switch {
	case err != nil:
		return err
	case !keep:
		return b.persist(ctx, s, &changeSet{addrs: changed})
	}
	return b.record(ctx, s, true, changed)
}

// keepJournalLocked says whether n more letters of s fit in the journal
// without folding it (see foldFloor). The caller holds b.mu.
func (b *Local) keepJournalLocked(s *State, n int) (bool, error) {
	if err := b.ensureScannedLocked(); err != nil {
		return false, err
	}
	snap, err := b.fs.Lstat(b.rel)
	if err != nil || !snap.Mode().IsRegular() || snap.Size() < foldFloor || len(s.Mailings) == 0 {
		return false, nil // no snapshot to keep (or a small one): Persist writes it
	}
	var journal int64
	if fi, err := b.fs.Lstat(b.journalRel()); err == nil {
		journal = fi.Size()
	}
	// The letters to record, at the snapshot's average size per letter.
	adding := int64(n) * snap.Size() / int64(len(s.Mailings))
	return (journal+adding)*foldRatio <= snap.Size(), nil
}

// errRewrite is how Persist's first write asks for the file to be written
// again (with the serial not bumped): the temporary file is dropped.
var errRewrite = errors.New("snapshot to write again")

// writeSnapshot writes s's encoding with serial to w and, when h is not
// nil, its encoding with serial 0 (what the digest covers) to h.
func writeSnapshot(e *stateEncoder, s *State, serial uint64, w io.Writer, h io.Writer) error {
	if _, err := w.Write(e.head(s, serial)); err != nil {
		return err
	}
	if h == nil {
		return e.body(s, w)
	}
	h.Write(e.head(s, 0))
	return e.body(s, io.MultiWriter(w, h))
}

// push replaces the snapshot with s as it is (its serial included).
func (b *Local) push(ctx context.Context, s *State, force bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, existed, err := b.loadLocked(b.readSnapshot)
	if err != nil && !force {
		return err
	}
	if err == nil && existed && !force {
		if err := checkPush(cur, s, b.Describe()); err != nil {
			return err
		}
	}
	if err := b.writeSnapshotLocked(func(w io.Writer) error {
		return writeSnapshot(newStateEncoder(), s, s.Serial, w, nil)
	}); err != nil {
		return err
	}
	b.scanned = true
	b.lineage = s.Lineage
	b.lastSerial = s.Serial
	sum, err := baselineOf(s)
	if err != nil {
		return err
	}
	b.setBaseline(sum)
	b.journalDirty = true
	return b.dropJournalLocked()
}

// dropJournalLocked removes the journal once its records are in the
// snapshot. A crash before the removal is harmless: Load skips records whose
// serial the snapshot already has.
func (b *Local) dropJournalLocked() error {
	if !b.journalDirty {
		return nil
	}
	err := b.jw.idle(func() error {
		if err := b.jw.closeFile(); err != nil {
			return err
		}
		b.jw.truncateTo = -1
		if err := b.fs.Remove(b.journalRel()); err != nil {
			return fmt.Errorf("removing the folded state journal: %w", err)
		}
		return b.fs.SyncDir(b.journalRel())
	})
	if err != nil {
		return err
	}
	b.journalDirty = false
	return nil
}

// writeSnapshotLocked replaces the state file atomically with what write
// writes, keeping the old one as <path>.backup. Nothing is replaced when
// write fails; its error is returned as it is.
func (b *Local) writeSnapshotLocked(write func(io.Writer) error) error {
	tmp, tmpName, err := b.fs.CreateTemp(b.rel)
	if err != nil {
		return fmt.Errorf("writing the state: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			b.fs.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing the state: %w", err)
	}
	cw := newIDWriter(tmp)
	err = write(cw)
	if errors.Is(err, errRewrite) {
		return err
	}
	b.snapWritten += cw.n
	if err != nil {
		return fmt.Errorf("writing the state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing the state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the state: %w", err)
	}
	if b.fs.Exists(b.rel) {
		if err := b.keepBackupLocked(); err != nil {
			return err
		}
	}
	if err := b.fs.Rename(tmpName, b.rel); err != nil {
		return fmt.Errorf("replacing the state: %w", err)
	}
	ok = true
	// Every record of the journal is in the new snapshot: the next fold
	// copies from it.
	b.snap, b.snapLines, b.sinceSnapshot, b.journalRefreshes = cw.id(), true, map[string]struct{}{}, true
	return b.fs.SyncDir(b.rel)
}

// keepBackupLocked makes the current snapshot <path>.backup: a hard link
// (no bytes copied) where the file system allows, a copy otherwise.
func (b *Local) keepBackupLocked() error {
	bak := b.backupRel()
	f, tmp, err := b.fs.CreateTemp(bak)
	if err != nil {
		return fmt.Errorf("keeping the previous state as %s: %w", b.backupPath(), err)
	}
	f.Close()
	b.fs.Remove(tmp)
	if err := b.fs.Link(b.rel, tmp); err != nil {
		if errors.Is(err, safefs.ErrSymlink) {
			return fmt.Errorf("keeping the previous state as %s: %w", b.backupPath(), err)
		}
		n, cerr := b.copyFile(b.rel, tmp)
		b.snapWritten += n
		if cerr != nil {
			b.fs.Remove(tmp)
			return fmt.Errorf("keeping the previous state as %s: %w", b.backupPath(), cerr)
		}
	}
	if err := b.fs.Rename(tmp, bak); err != nil {
		b.fs.Remove(tmp)
		return fmt.Errorf("keeping the previous state as %s: %w", b.backupPath(), err)
	}
	return nil
}

func (b *Local) copyFile(from, to string) (int64, error) {
	in, err := b.fs.Open(from)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := b.fs.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// idWriter counts and hashes the bytes written through it: a new
// snapshot's size and its snapshotID.
type idWriter struct {
	w io.Writer
	h maphash.Hash
	n int64
}

func newIDWriter(w io.Writer) *idWriter {
	iw := &idWriter{w: w}
	iw.h.SetSeed(rereadSeed)
	return iw
}

func (iw *idWriter) Write(p []byte) (int, error) {
	n, err := iw.w.Write(p)
	iw.h.Write(p[:n])
	iw.n += int64(n)
	return n, err
}

// id is the snapshotID of what was written (maphash gives the same sum
// however the bytes were cut).
func (iw *idWriter) id() snapshotID { return snapshotID{known: true, size: iw.n, sum: iw.h.Sum64()} }
