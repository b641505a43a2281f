package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// The journal's line used to be json.Marshal of a rawLine: encoding/json
// re-validated and compacted each mailing's MarshalJSON output, and escaped
// <, > and & in it; fieldsPatch decoded both encodings into maps. Those two
// were most of an apply's CPU at 100,000 letters (issue 18). lineEncoder
// writes the same bytes directly: each mailing through an encoder that
// escapes HTML (what json.Marshal's compaction of the unescaped encoding
// yields), a patch from the top-level members of the two encodings found in
// place. journal_encode_test.go keeps the json.Marshal version and compares.

// lineEncoder builds journal lines; its buffers are reused from one line to
// the next (the writer calls it under basesMu).
type lineEncoder struct {
	buf        bytes.Buffer  // the mailing being encoded
	enc        *json.Encoder // of buf, escaping HTML as json.Marshal does
	str        bytes.Buffer  // a string being encoded
	senc       *json.Encoder
	prev, next []member
	records    []rawRecord // of the line being encoded
	fresh      []rawRecord
	out        []byte // the last line, handed out until the next
}

// maxKeptLine is the largest line buffer kept for the next line, so that one
// record of thousands of letters (a restore, a state mv) does not pin its
// megabytes for the rest of the run.
const maxKeptLine = 1 << 20

func newLineEncoder() *lineEncoder {
	e := &lineEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.senc = json.NewEncoder(&e.str)
	return e
}

// mailing returns m's encoding as json.Marshal(m) gives it, in a buffer
// valid until the next call.
func (e *lineEncoder) mailing(m *Mailing) ([]byte, error) {
	if m.detail != nil {
		// A plan-only load's verbatim detail: let encoding/json compact it.
		return json.Marshal(m)
	}
	e.buf.Reset()
	if err := e.enc.Encode((*mailingFields)(m)); err != nil {
		return nil, fmt.Errorf("encoding mailing %s: %w", m.Address, err)
	}
	b := e.buf.Bytes()
	return b[:len(b)-1], nil // Encode ends each value with a newline
}

// appendString appends s as json.Marshal encodes a string.
func (e *lineEncoder) appendString(dst []byte, s string) []byte {
	if plainString(s) {
		return append(append(append(dst, '"'), s...), '"')
	}
	e.str.Reset()
	e.senc.Encode(s) // a string always encodes
	b := e.str.Bytes()
	return append(dst, b[:len(b)-1]...)
}

// plainString reports whether json.Marshal writes s as it is between
// quotes: printable ASCII without a quote, a backslash or an HTML
// character. Most addresses are; the others take the encoder.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// fieldPatch is one top-level field of a patch: its name and new value.
type fieldPatch struct {
	name, value []byte
}

// patchOf is a journalPatch with its fields in the order json.Marshal
// writes a map: sorted by name.
type patchOf struct {
	address string
	fields  []fieldPatch
}

// line returns the sealed line (newline included) for these records and
// patches, as encodeLine(rawLine{...}) does, in a buffer valid until the
// next call: the writer copies it into its batch at once, so a buffer of
// its own per line was garbage at once (issue 18).
func (e *lineEncoder) line(lineage string, serial uint64, recs []rawRecord, patches []patchOf) []byte {
	n := 64 + len(lineage)
	for _, r := range recs {
		n += len(r.Address) + len(r.Mailing) + 32
	}
	for _, p := range patches {
		n += len(p.address) + 32
		for _, f := range p.fields {
			n += len(f.name) + len(f.value) + 4
		}
	}
	b := e.out[:0]
	if cap(b) < n {
		b = make([]byte, 0, n)
	}
	b = append(b, `{"lineage":`...)
	b = e.appendString(b, lineage)
	b = append(b, `,"serial":`...)
	b = strconv.AppendUint(b, serial, 10)
	b = append(b, `,"records":[`...)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"address":`...)
		b = e.appendString(b, r.Address)
		b = append(b, `,"mailing":`...)
		b = append(b, r.Mailing...)
		b = append(b, '}')
	}
	b = append(b, ']')
	if len(patches) > 0 {
		b = append(b, `,"patches":[`...)
		for i, p := range patches {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"address":`...)
			b = e.appendString(b, p.address)
			b = append(b, `,"fields":{`...)
			for j, f := range p.fields {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '"')
				b = append(b, f.name...)
				b = append(b, `":`...)
				b = append(b, f.value...)
			}
			b = append(b, `}}`...)
		}
		b = append(b, ']')
	}
	b = append(b, `,"crc32":"`+crcPlaceholder+`"}`...)
	b = sealLine(b)
	if cap(b) <= maxKeptLine {
		e.out = b[:0]
	}
	return b
}

// member is a top-level member of an encoded object: its name's text
// between the quotes and its value, both slices of the encoding.
type member struct {
	name, value []byte
}

var null = []byte("null")

// patchFields returns the top-level fields of next that differ from prev
// (null for one next lacks), sorted by name, as fieldsPatch's map encodes;
// ok is false when the encodings are not objects as encoding/json writes
// them (the caller then writes next whole, as for fieldsPatch's nil). The
// values are slices of prev and next.
func (e *lineEncoder) patchFields(prev, next []byte) (fields []fieldPatch, ok bool) {
	if e.prev, ok = members(e.prev[:0], prev); !ok {
		return nil, false
	}
	if e.next, ok = members(e.next[:0], next); !ok {
		return nil, false
	}
	fields = make([]fieldPatch, 0, 8) // a posted letter's patch has 4 or 5
	for _, n := range e.next {
		if p := findName(e.prev, n.name); p == nil || !bytes.Equal(p.value, n.value) {
			fields = append(fields, fieldPatch{name: n.name, value: n.value})
		}
	}
	for _, p := range e.prev {
		if !hasName(e.next, p.name) {
			fields = append(fields, fieldPatch{name: p.name, value: null})
		}
	}
	// members refused a name met twice, so sorted names are distinct keys.
	slices.SortFunc(fields, func(a, b fieldPatch) int { return bytes.Compare(a.name, b.name) })
	return fields, true
}

func findName(ms []member, name []byte) *member {
	for i := range ms {
		if bytes.Equal(ms[i].name, name) {
			return &ms[i]
		}
	}
	return nil
}

func hasName(ms []member, name []byte) bool { return findName(ms, name) != nil }

// members appends the top-level members of b, a compact JSON object, to
// dst. It accepts only what encoding/json writes: no whitespace, names
// without escapes, each name once.
func members(dst []member, b []byte) ([]member, bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return dst, false
	}
	i := 1
	if b[i] == '}' {
		return dst, i+1 == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return dst, false
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return dst, false
		}
		name := b[i+1 : i+1+end]
		if bytes.IndexByte(name, '\\') >= 0 {
			return dst, false
		}
		i += end + 2
		if i >= len(b) || b[i] != ':' {
			return dst, false
		}
		i++
		vend := skipValue(b, i) // lazy.go's
		if vend <= i {
			return dst, false
		}
		if hasName(dst, name) {
			return dst, false
		}
		dst = append(dst, member{name: name, value: b[i:vend]})
		i = vend
		if i >= len(b) {
			return dst, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return dst, i+1 == len(b)
		default:
			return dst, false
		}
	}
}
