package state

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/postform/postform/internal/safefs"
)

// The local journal is a file of JSON lines, one per Record call:
//
//	{"lineage":"…","serial":12,"records":[{"address":"…","mailing":{…}}],"crc32":"1a2b3c4d"}
//
// A mailing of null records its removal. crc32 (Castagnoli) covers the whole
// line with its own 8 hex digits written as "00000000", so a line is checked
// without re-encoding it. One line per call makes a Record all-or-nothing: a
// crash mid-write leaves a torn last line, which Load ignores with a warning.
//
// A mailing recorded again while the journal file is open (a posted letter
// after its pending record) is written as a patch, "patches":[{"address":
// "…","fields":{"phase":"posted","job_id":"…",…}}]: the top-level fields
// that differ from its previous record in the same file, null for a field
// it no longer has. That keeps the journal of an apply near one record per
// letter instead of two (issue 18: bytes written ≤ 3 × the state). A
// postform that predates patches ignores them and sees such a letter as
// still pending: it looks its job up by name, never posts it again.

// journalLineOf is a line whose records hold mailings as M: decoded
// (journalLine) or, as the writer makes them, already encoded (rawLine).
type journalLineOf[M any] struct {
	Lineage string               `json:"lineage"`
	Serial  uint64               `json:"serial"`
	Records []journalRecordOf[M] `json:"records"`
	Patches []journalPatch       `json:"patches,omitempty"`
	CRC     string               `json:"crc32"` // must stay the last field
}

type journalRecordOf[M any] struct {
	Address string `json:"address"`
	Mailing M      `json:"mailing"`
}

type (
	journalLine   = journalLineOf[*Mailing]
	journalRecord = journalRecordOf[*Mailing]
	// rawLine is journalLine with its mailings already encoded (the writer
	// encodes each once, for the line and as the base of a later patch).
	rawLine   = journalLineOf[json.RawMessage]
	rawRecord = journalRecordOf[json.RawMessage]
)

// journalPatch changes the top-level fields of the mailing at Address as the
// latest earlier line of the same file holds it.
type journalPatch struct {
	Address string                     `json:"address"`
	Fields  map[string]json.RawMessage `json:"fields"`
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const crcPlaceholder = "00000000"

// crcTail starts the checksum that ends every line; crcSuffixLen is the
// length of `"crc32":"xxxxxxxx"}`.
var crcTail = []byte(`"crc32":"`)

const crcSuffixLen = len(`"crc32":"`) + 8 + len(`"}`)

// encodeJournalLine returns the line for one Record call, newline included.
func encodeJournalLine(lineage string, serial uint64, recs []journalRecord) ([]byte, error) {
	return encodeLine(journalLine{Lineage: lineage, Serial: serial, Records: recs})
}

// encodeLine encodes and seals l, newline included.
func encodeLine[M any](l journalLineOf[M]) ([]byte, error) {
	l.CRC = crcPlaceholder
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encoding journal record: %w", err)
	}
	return sealLine(b), nil
}

// sealLine writes the checksum into b, a line encoded with crcPlaceholder,
// and appends the newline.
func sealLine(b []byte) []byte {
	sum := crc32.Checksum(b, crcTable)
	var digits [4]byte
	digits[0], digits[1], digits[2], digits[3] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
	hex.Encode(b[len(b)-10:len(b)-2], digits[:])
	return append(b, '\n')
}

// decodeJournalLine checks and parses one line (without its newline).
func decodeJournalLine(line []byte) (*journalLine, error) {
	n := len(line)
	if n < crcSuffixLen || !bytes.Equal(line[n-crcSuffixLen:n-10], crcTail) || line[n-2] != '"' || line[n-1] != '}' {
		return nil, fmt.Errorf("no checksum at the end of the line")
	}
	var want [4]byte
	if _, err := hex.Decode(want[:], line[n-10:n-2]); err != nil {
		return nil, fmt.Errorf("bad checksum digits")
	}
	c := bytes.Clone(line)
	copy(c[n-10:n-2], crcPlaceholder)
	sum := crc32.Checksum(c, crcTable)
	if byte(sum>>24) != want[0] || byte(sum>>16) != want[1] || byte(sum>>8) != want[2] || byte(sum) != want[3] {
		return nil, fmt.Errorf("checksum mismatch")
	}
	var l journalLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return &l, nil
}

// resolvePatches turns l's patches into full records, against latest, and
// brings latest up to date with l.
func resolvePatches(l *journalLine, latest map[string]*Mailing) error {
	for _, r := range l.Records {
		latest[r.Address] = r.Mailing
	}
	for _, p := range l.Patches {
		base := latest[p.Address]
		if base == nil {
			return fmt.Errorf("a patch of %s, which no earlier line holds", p.Address)
		}
		m, err := patchMailing(base, p.Fields)
		if err != nil {
			return fmt.Errorf("the patch of %s: %v", p.Address, err)
		}
		latest[p.Address] = m
		l.Records = append(l.Records, journalRecord{Address: p.Address, Mailing: m})
	}
	l.Patches = nil
	return nil
}

// patchMailing returns base with its top-level fields replaced by fields
// (a null value removes the field).
func patchMailing(base *Mailing, fields map[string]json.RawMessage) (*Mailing, error) {
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range fields {
		if bytes.Equal(v, []byte("null")) {
			delete(all, k)
		} else {
			all[k] = v
		}
	}
	if b, err = json.Marshal(all); err != nil {
		return nil, err
	}
	m := &Mailing{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, err
	}
	return m, nil
}

// journalScan is the result of reading a journal file.
type journalScan struct {
	lines []*journalLine
	// valid is the length of the well-formed prefix; bytes after it are a
	// torn last line to cut before appending.
	valid   int64
	size    int64
	warning string
}

// scanJournal reads the journal at path. A missing file is an empty journal.
// A bad line followed by good ones is corruption and refused; a bad last line
// is a torn write and reported as a warning.
func scanJournal(fsys *safefs.Dir, name, path string) (*journalScan, error) {
	data, err := fsys.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &journalScan{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the state journal: %w", err)
	}
	return parseJournal(data, path)
}

// parseJournal is scanJournal of the journal's bytes, data.
func parseJournal(data []byte, path string) (*journalScan, error) {
	js := &journalScan{size: int64(len(data))}
	// latest holds each address's mailing as the lines so far leave it, for
	// the patches of later lines.
	latest := map[string]*Mailing{}
	off := 0
	lineNo := 0
	for off < len(data) {
		lineNo++
		end := bytes.IndexByte(data[off:], '\n')
		last := end < 0
		var line []byte
		if last {
			line = data[off:]
		} else {
			line = data[off : off+end]
			last = len(bytes.TrimRight(data[off+end+1:], "\x00\n")) == 0
		}
		l, lerr := decodeJournalLine(line)
		if lerr == nil {
			lerr = resolvePatches(l, latest)
		}
		if lerr != nil {
			if last {
				js.warning = fmt.Sprintf("ignored a torn last record in the state journal %s (line %d, %d bytes: %v); it was being written when a previous run stopped, and that run did not report it as recorded",
					path, lineNo, len(data)-off, lerr)
				return js, nil
			}
			return nil, fmt.Errorf("the state journal %s is corrupt at line %d (%v) and later records follow it; refusing to guess. Nothing was changed; inspect or restore it by hand", path, lineNo, lerr)
		}
		js.lines = append(js.lines, l)
		off += end + 1
		js.valid = int64(off)
	}
	return js, nil
}

// journalWriter appends lines to the journal with group commit: callers
// queue their line; one of them (the leader) writes everything queued in one
// write and one fsync while the others wait; each returns once its own bytes
// are on disk.
type journalWriter struct {
	fs   *safefs.Dir
	name string // inside fs
	path string // for messages

	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	pending []byte
	// spare is the buffer of the last batch written, the next batch's
	// (issue 18: a buffer grown anew per batch was a tenth of what an apply
	// allocated per letter).
	spare    []byte
	queued   uint64 // batch number the pending bytes belong to
	done     uint64 // last batch written (successfully or not)
	flushing bool
	// err is sticky: after a failed write or fsync nothing is known about
	// what reached the disk, so that batch and every later one fail.
	err      error
	errBatch uint64
	// written counts bytes written to the journal and syncs the fsyncs (for
	// tests and benchmarks).
	// Atomic: the leader writes them outside mu.
	written atomic.Int64
	syncs   atomic.Int64
	// truncateTo, when >= 0, cuts a torn tail before the first append.
	truncateTo int64

	// bases are the encodings of the mailings this writer recorded in full
	// since the file was opened (or since Load read it), by address: a later
	// record of one of them is written as a patch. An address leaves once
	// patched, so they are only the letters in flight. encode is called
	// in journal order (Local.Record holds its lock from encode to enqueue).
	basesMu sync.Mutex
	bases   map[string][]byte
	le      *lineEncoder // under basesMu
}

func newJournalWriter(fsys *safefs.Dir, name, path string) *journalWriter {
	w := &journalWriter{fs: fsys, name: name, path: path, queued: 1, truncateTo: -1, bases: map[string][]byte{}}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// encode returns the line for one Record call, writing as a patch each
// mailing this writer recorded in full before in the same file. The line is
// valid until the next encode: the caller enqueues it first.
func (w *journalWriter) encode(lineage string, serial uint64, recs []journalRecord) ([]byte, error) {
	w.basesMu.Lock()
	defer w.basesMu.Unlock()
	if w.le == nil {
		w.le = newLineEncoder()
	}
	e := w.le
	records, fresh := e.records[:0], e.fresh[:0]
	var patches []patchOf
	for _, r := range recs {
		if r.Mailing == nil {
			delete(w.bases, r.Address)
			records = append(records, rawRecord{Address: r.Address, Mailing: json.RawMessage("null")})
			continue
		}
		next, err := e.mailing(r.Mailing)
		if err != nil {
			return nil, fmt.Errorf("encoding journal record: %w", err)
		}
		if prev, ok := w.bases[r.Address]; ok && r.Mailing.Address == r.Address {
			if f, ok := e.patchFields(prev, next); ok {
				// f holds slices of next, which the next mailing
				// overwrites: copy them, into one allocation.
				n := 0
				for _, x := range f {
					n += len(x.name) + len(x.value)
				}
				own := make([]byte, 0, n)
				for i, x := range f {
					own = append(own, x.name...)
					f[i].name = own[len(own)-len(x.name):]
					own = append(own, x.value...)
					f[i].value = own[len(own)-len(x.value):]
				}
				patches = append(patches, patchOf{address: r.Address, fields: f})
				delete(w.bases, r.Address)
				continue
			}
		}
		// Kept as the base of a later patch: a copy of e's buffer.
		next = bytes.Clone(next)
		records = append(records, rawRecord{Address: r.Address, Mailing: next})
		fresh = append(fresh, rawRecord{Address: r.Address, Mailing: next})
	}
	line := e.line(lineage, serial, records, patches)
	for _, r := range fresh {
		w.bases[r.Address] = r.Mailing
	}
	// Kept for the next line, emptied so as not to keep mailings alive.
	clear(records)
	clear(fresh)
	e.records, e.fresh = records[:0], fresh[:0]
	return line, nil
}

// forgetBases makes every later record a full one: the file they were in is
// gone, or nothing is known of what reached it.
func (w *journalWriter) forgetBases() {
	w.basesMu.Lock()
	clear(w.bases)
	w.basesMu.Unlock()
}

// enqueue queues line and returns the batch to wait for. Lines are written in
// the order they are enqueued.
func (w *journalWriter) enqueue(line []byte) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending == nil {
		w.pending, w.spare = w.spare, nil
	}
	w.pending = append(w.pending, line...)
	return w.queued
}

// wait returns once batch is on disk, writing it if nobody else is.
func (w *journalWriter) wait(batch uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.done < batch {
		if w.flushing {
			w.cond.Wait()
			continue
		}
		// Become the leader for everything queued so far.
		buf := w.pending
		b := w.queued
		w.pending = nil
		w.queued++
		w.flushing = true
		w.mu.Unlock()
		err := w.write(buf)
		w.mu.Lock()
		w.flushing = false
		if cap(buf) <= maxKeptLine {
			// Written: nothing refers to it any more.
			w.spare = buf[:0]
		}
		w.finish(b, err)
	}
	if w.err != nil && batch >= w.errBatch {
		return w.err
	}
	return nil
}

// finish marks batch b written; the caller holds w.mu.
func (w *journalWriter) finish(b uint64, err error) {
	w.done = b
	if err != nil && w.err == nil {
		w.err, w.errBatch = err, b
	}
	w.cond.Broadcast()
}

// write appends buf and fsyncs. Only the leader calls it.
func (w *journalWriter) write(buf []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.f == nil {
		f, err := w.fs.OpenFile(w.name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("opening the state journal: %w", err)
		}
		if w.truncateTo >= 0 {
			if err := f.Truncate(w.truncateTo); err != nil {
				f.Close()
				return fmt.Errorf("cutting the torn record off the state journal: %w", err)
			}
		}
		if _, err := f.Seek(0, 2); err != nil {
			f.Close()
			return fmt.Errorf("opening the state journal: %w", err)
		}
		w.truncateTo = -1
		w.f = f
		// A new journal file's directory entry must be durable too.
		if err := w.fs.SyncDir(w.name); err != nil {
			return err
		}
	}
	n, err := w.f.Write(buf)
	w.written.Add(int64(n))
	if err != nil {
		return fmt.Errorf("appending to the state journal %s: %w", w.path, err)
	}
	w.syncs.Add(1)
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("syncing the state journal %s: %w", w.path, err)
	}
	return nil
}

// idle waits until no batch is being written and nothing is queued, then
// runs fn with the writer locked (used to fold the journal away). After a
// failed write it returns that error instead.
func (w *journalWriter) idle(fn func() error) error {
	return w.quiesce(fn, false)
}

// reset forgets the file and any failure, to start again from what Load
// found on disk: the journal is cut at truncateTo (when >= 0) before the
// next append.
func (w *journalWriter) reset(truncateTo int64) error {
	return w.quiesce(func() error {
		err := w.closeFile()
		w.err, w.errBatch = nil, 0
		w.truncateTo = truncateTo
		return err
	}, true)
}

func (w *journalWriter) quiesce(fn func() error, evenAfterFailure bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.flushing || len(w.pending) > 0 {
		if !w.flushing {
			// Queued bytes nobody waits for cannot exist: every enqueue is
			// followed by wait. Still, write them rather than drop them.
			buf, b := w.pending, w.queued
			w.pending = nil
			w.queued++
			w.flushing = true
			w.mu.Unlock()
			err := w.write(buf)
			w.mu.Lock()
			w.flushing = false
			w.finish(b, err)
			continue
		}
		w.cond.Wait()
	}
	if w.err != nil && !evenAfterFailure {
		return w.err
	}
	return fn()
}

// closeFile closes the journal file; the caller holds w.mu (inside idle) or
// owns w.
func (w *journalWriter) closeFile() error {
	w.forgetBases()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
