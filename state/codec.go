package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
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
	version := s.Version
	if version == 0 {
		version = FormatVersion
	}
	var buf bytes.Buffer
	buf.Grow(256 + 1024*len(s.Mailings))
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	value := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encoding state: %w", err)
		}
		buf.Truncate(buf.Len() - 1) // Encode ends each value with a newline
		return nil
	}
	fmt.Fprintf(&buf, "{\n  \"version\": %d,\n  \"lineage\": ", version)
	if err := value(s.Lineage); err != nil {
		return nil, err
	}
	fmt.Fprintf(&buf, ",\n  \"serial\": %d,\n", serial)
	if s.PostformVersion != "" {
		buf.WriteString("  \"postform_version\": ")
		if err := value(s.PostformVersion); err != nil {
			return nil, err
		}
		buf.WriteString(",\n")
	}
	buf.WriteString("  \"mailings\": {")
	if err := encodeLines(&buf, s.Mailings, value, func(m *Mailing) error { return appendMailing(&buf, enc, m) }); err != nil {
		return nil, err
	}
	buf.WriteString("}\n}\n")
	return buf.Bytes(), nil
}

// encodeLines writes a map's entries one per line, sorted by key, each key
// by key and each value by val.
func encodeLines[V any](buf *bytes.Buffer, m map[string]V, key func(any) error, val func(V) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := key(k); err != nil {
			return err
		}
		buf.WriteString(": ")
		if err := val(m[k]); err != nil {
			return err
		}
	}
	if len(keys) > 0 {
		buf.WriteString("\n  ")
	}
	return nil
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
	enc, err := encodeWithSerial(s, 0)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return digest(enc), nil
}

var serialLine = regexp.MustCompile(`\n  "serial": [0-9]+,\n`)

// withSerial turns an encoding made with serial 0 into the encoding with
// serial, without encoding the state again. The top-level "serial" is the
// first line starting with `  "serial": ` (JSON strings hold no raw
// newlines, so no value can fake it).
func withSerial(enc []byte, serial uint64) []byte {
	const zero = "\n  \"serial\": 0,\n"
	i := bytes.Index(enc, []byte(zero))
	if i < 0 {
		panic("state encoding without a top-level serial")
	}
	out := make([]byte, 0, len(enc)+20)
	out = append(out, enc[:i]...)
	out = fmt.Appendf(out, "\n  \"serial\": %d,\n", serial)
	return append(out, enc[i+len(zero):]...)
}

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
