package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
)

// stateFile is the on-disk shape of a State: the same fields, without the
// State's mutex, so that a snapshot can be encoded with another serial
// without touching the State.
type stateFile struct {
	Version         int                 `json:"version"`
	Lineage         string              `json:"lineage"`
	Serial          uint64              `json:"serial"`
	PostformVersion string              `json:"postform_version,omitempty"`
	Mailings        map[string]*Mailing `json:"mailings"`
}

// Encode returns the state file for s: deterministic JSON ending with a
// newline, one mailing per line (sorted by address), so that a state of
// ten thousand letters stays small, quick to write, and readable with grep.
func Encode(s *State) ([]byte, error) {
	return encodeWithSerial(s, s.Serial)
}

// encodeWithSerial encodes s as if its serial were serial. The caller holds
// s.mu or otherwise owns s.
func encodeWithSerial(s *State, serial uint64) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(256 + 1024*len(s.Mailings))
	e := newStateEncoder()
	out.Write(e.head(s, serial))
	if err := e.body(s, &out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// stateEncoder writes a state file in two pieces, the head (up to the
// mailings, with the serial) and the body, through one reused buffer: a
// snapshot of 100,000 letters is streamed to its file and its digest, never
// held whole (issue 18).
type stateEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder // of buf, without HTML escaping
}

func newStateEncoder() *stateEncoder {
	e := &stateEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// value appends v's JSON to e.buf.
func (e *stateEncoder) value(v any) error {
	if err := e.enc.Encode(v); err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	e.buf.Truncate(e.buf.Len() - 1) // Encode ends each value with a newline
	return nil
}

// head returns the state file's first lines, up to the mailings' opening
// brace, with serial; valid until e's next call. Strings always encode.
func (e *stateEncoder) head(s *State, serial uint64) []byte {
	version := s.Version
	if version == 0 {
		version = FormatVersion
	}
	e.buf.Reset()
	fmt.Fprintf(&e.buf, "{\n  \"version\": %d,\n  \"lineage\": ", version)
	e.value(s.Lineage)
	fmt.Fprintf(&e.buf, ",\n  \"serial\": %d,\n", serial)
	if s.PostformVersion != "" {
		e.buf.WriteString("  \"postform_version\": ")
		e.value(s.PostformVersion)
		e.buf.WriteString(",\n")
	}
	e.buf.WriteString("  \"mailings\": {")
	return e.buf.Bytes()
}

// flushAt is how much of the body e.buf gathers before writing it out.
const flushAt = 64 << 10

// body writes the rest of the file, the mailings one per line sorted by
// address, to w.
func (e *stateEncoder) body(s *State, w io.Writer) error {
	e.buf.Reset()
	flush := func() error {
		_, err := w.Write(e.buf.Bytes())
		e.buf.Reset()
		return err
	}
	keys := make([]string, 0, len(s.Mailings))
	for k := range s.Mailings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.WriteString("\n    ")
		if err := e.value(k); err != nil {
			return err
		}
		e.buf.WriteString(": ")
		if err := appendMailing(&e.buf, e.enc, s.Mailings[k]); err != nil {
			return err
		}
		if e.buf.Len() >= flushAt {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(keys) > 0 {
		e.buf.WriteString("\n  ")
	}
	e.buf.WriteString("}\n}\n")
	return flush()
}

// digest identifies an encoding without keeping it: a backend remembers
// what it last loaded or wrote to tell whether a Persist changes anything.
func digest(enc []byte) [sha256.Size]byte { return sha256.Sum256(enc) }

// fileDigest is the digest of a snapshot file's encoding with serial 0,
// computed from the file's bytes without decoding and encoding it again.
// A file laid out otherwise (an older postform) gives a digest no encoding
// matches: the next Persist then rewrites it, which is harmless.
func fileDigest(data []byte) [sha256.Size]byte {
	loc := serialLine.FindIndex(data[:min(len(data), 512)])
	if loc == nil {
		return digest(data)
	}
	h := sha256.New()
	h.Write(data[:loc[0]])
	h.Write([]byte("\n  \"serial\": 0,\n"))
	h.Write(data[loc[1]:])
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// baselineOf is the digest of s encoded with serial 0.
func baselineOf(s *State) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	h := sha256.New()
	e := newStateEncoder()
	h.Write(e.head(s, 0))
	if err := e.body(s, h); err != nil {
		return out, err
	}
	h.Sum(out[:0])
	return out, nil
}

var serialLine = regexp.MustCompile(`\n  "serial": [0-9]+,\n`)

func newerVersion(v int) error {
	return fmt.Errorf("%w: state was written by postform format version %d; this postform understands up to %d — upgrade postform; the state was not changed",
		ErrNewerVersion, v, FormatVersion)
}

// CorruptError reports a state that cannot be read.
type CorruptError struct {
	// Offset is the 0-based byte offset of the problem, -1 when unknown.
	Offset int64
	Line   int
	Column int
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("state is corrupt: %s at line %d, column %d (byte %d)", e.Reason, e.Line, e.Column, e.Offset)
	}
	return "state is corrupt: " + e.Reason
}

// Decode parses a state file. It refuses invalid JSON (a *CorruptError with
// the position), a state of a newer format version (wrapping
// ErrNewerVersion) and a state without lineage.
func Decode(b []byte) (*State, error) {
	var f struct {
		stateFile
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		// A newer format may not parse as this one: say so rather than
		// calling it corrupt.
		var head struct {
			Version int `json:"version"`
		}
		if json.Unmarshal(b, &head) == nil && head.Version > FormatVersion {
			return nil, newerVersion(head.Version)
		}
		return nil, corrupt(b, err)
	}
	if f.Version == nil {
		return nil, &CorruptError{Offset: -1, Reason: `no "version" field; this is not a postform state`}
	}
	if v := *f.Version; v > FormatVersion {
		return nil, newerVersion(v)
	} else if v < 1 {
		return nil, &CorruptError{Offset: -1, Reason: fmt.Sprintf("unknown format version %d", v)}
	}
	if f.Lineage == "" {
		return nil, &CorruptError{Offset: -1, Reason: `no "lineage"; a state without lineage cannot be told apart from another one`}
	}
	s := &State{
		Version:         *f.Version,
		Lineage:         f.Lineage,
		Serial:          f.Serial,
		PostformVersion: f.PostformVersion,
		Mailings:        f.Mailings,
	}
	if err := normalizeMailings(s.Mailings); err != nil {
		return nil, err
	}
	if s.Mailings == nil {
		s.Mailings = map[string]*Mailing{}
	}
	return s, nil
}

// normalizeMailings drops null entries and fills a missing address from the
// key; an address that disagrees with its key is corruption.
func normalizeMailings(ms map[string]*Mailing) error {
	for k, m := range ms {
		if m == nil {
			delete(ms, k)
		} else if err := normalizeMailing(k, m); err != nil {
			return err
		}
	}
	return nil
}

// normalizeMailing is normalizeMailings for the mailing m stored under k.
func normalizeMailing(k string, m *Mailing) error {
	switch {
	case m.Address == "":
		m.Address = k
	case m.Address != k:
		return &CorruptError{Offset: -1, Reason: fmt.Sprintf("mailing stored under %q says its address is %q", k, m.Address)}
	}
	return nil
}

// corrupt turns a JSON error into a *CorruptError with a position.
func corrupt(b []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	off := int64(-1)
	reason := err.Error()
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1 // Offset counts the bytes read, the bad one included
		if off < 0 {
			off = 0
		}
		reason = "invalid JSON: " + syn.Error()
	case errors.As(err, &typ):
		off = typ.Offset
		reason = fmt.Sprintf("invalid value for %s: %s", typ.Field, typ.Error())
	case len(bytes.TrimSpace(b)) == 0:
		reason = "the file is empty"
	}
	e := &CorruptError{Offset: off, Reason: reason}
	if off >= 0 {
		e.Line, e.Column = position(b, off)
	}
	return e
}

// position gives the 1-based line and column of byte offset off.
func position(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	line, col = 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// EncodeMailing returns one mailing's JSON exactly as it stands on its line
// of a state file (no trailing newline). A backend that stores a row per
// letter (pg) writes these bytes, so both backends share one encoding. A
// mailing of a plan-only load keeps its undecoded detail byte for byte.
func EncodeMailing(m *Mailing) ([]byte, error) {
	return m.MarshalJSON()
}

// DecodeMailing parses what EncodeMailing wrote for the letter at address.
// A missing address is filled from address; one that disagrees is corruption.
func DecodeMailing(address string, b []byte) (*Mailing, error) {
	var m Mailing
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &CorruptError{Offset: -1, Reason: fmt.Sprintf("mailing %s: %v", address, err)}
	}
	if err := normalizeMailing(address, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
