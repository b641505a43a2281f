package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	FileHashes      map[string]FileHash `json:"file_hashes,omitempty"`
}

// Encode returns the state file for s: indented JSON, deterministic (mailings
// and file hashes sorted by key), ending with a newline.
func Encode(s *State) ([]byte, error) {
	return encodeWithSerial(s, s.Serial)
}

// encodeWithSerial encodes s as if its serial were serial. The caller holds
// s.mu or otherwise owns s.
func encodeWithSerial(s *State, serial uint64) ([]byte, error) {
	f := stateFile{
		Version:         s.Version,
		Lineage:         s.Lineage,
		Serial:          serial,
		PostformVersion: s.PostformVersion,
		Mailings:        s.Mailings,
		FileHashes:      s.FileHashes,
	}
	if f.Version == 0 {
		f.Version = FormatVersion
	}
	if f.Mailings == nil {
		f.Mailings = map[string]*Mailing{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil { // Encode ends with a newline
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	return buf.Bytes(), nil
}

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
	var head struct {
		Version *int   `json:"version"`
		Lineage string `json:"lineage"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, corrupt(b, err)
	}
	if head.Version == nil {
		return nil, &CorruptError{Offset: -1, Reason: `no "version" field; this is not a postform state`}
	}
	if v := *head.Version; v > FormatVersion {
		return nil, fmt.Errorf("%w: state was written by postform format version %d; this postform understands up to %d — upgrade postform; the state was not changed",
			ErrNewerVersion, v, FormatVersion)
	} else if v < 1 {
		return nil, &CorruptError{Offset: -1, Reason: fmt.Sprintf("unknown format version %d", v)}
	}
	if head.Lineage == "" {
		return nil, &CorruptError{Offset: -1, Reason: `no "lineage"; a state without lineage cannot be told apart from another one`}
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, corrupt(b, err)
	}
	s := &State{
		Version:         f.Version,
		Lineage:         f.Lineage,
		Serial:          f.Serial,
		PostformVersion: f.PostformVersion,
		Mailings:        f.Mailings,
		FileHashes:      f.FileHashes,
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
		switch {
		case m == nil:
			delete(ms, k)
		case m.Address == "":
			m.Address = k
		case m.Address != k:
			return &CorruptError{Offset: -1, Reason: fmt.Sprintf("mailing stored under %q says its address is %q", k, m.Address)}
		}
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
