package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// A plan-only load (DecodeForPlan, LoadForPlan) leaves the detail of each
// terminal letter — its deliveries with their shipments and tracking events,
// its proofs, the jobs it superseded and their proofs — as the JSON it was
// read from: a plan never looks at it, and at 100,000 letters decoding it
// was most of the time and memory of a plan.
//
// The caller chooses the mode: plan and state pull read no detail; a
// refresh (postform refresh, or a plan's or an apply's) reads only
// unfinished letters', which are never lazy, and of a terminal letter only
// the jobs it replaced (SupersededJobs); an apply loads a letter's detail
// when it replaces it, and every letter's when it waits. Status, report
// and the other commands load in full and see every field. A lazily
// loaded mailing is otherwise an ordinary Mailing:
//   - its Deliveries, Proofs and Superseded are nil until LoadDetail fills
//     them (DetailLoaded says which case holds); everything else, pack
//     groups included (a plan reads them), is decoded;
//   - encoding it (Encode, EncodeMailing, a journal record) writes the
//     detail back byte for byte where the full encoding would put it, so
//     the state file does not change and the local backend's digest of it
//     still matches;
//   - a change to its other fields keeps the detail; setting one of the
//     three detail fields without LoadDetail first is refused when it is
//     encoded, and by LoadDetail (the old and the new detail cannot both be
//     kept, and neither may be lost);
//   - the local backend keeps no copy of the file (LoadForPlan streams
//     it): a detail needed later is read from the file again, and refused
//     if the file changed since; so is the file's digest, which only a
//     Persist needs. The pg backend keeps its rows' bytes, and digests
//     them only when a Persist needs it.
//
// The fields a plan reads are decoded by a hand-written scanner
// (lazy_scan.go) that takes only what encoding/json reads the same way and
// hands the rest to go-json-experiment, then to Decode; FuzzPlanScanner
// compares them.
//
// Corruption is found as follows. Anything that breaks the layout (an
// unterminated string, unbalanced brackets, a bad separator) or is wrong
// in the decoded fields makes the plan-only load fall back to Decode, which
// reports it at once, with today's error. A detail that delimits but does
// not decode (a bad literal, a wrong type) is a *CorruptError, naming the
// letter and its line, from LoadDetail (an encoding writes it back as it
// was); the plan-only load itself does not see it, and every full load
// (any other command) reports it as today.

// detail is a lazily loaded mailing's `,"deliveries":…,"proofs":…` members,
// as they stand in its source.
type detail struct {
	src        *source
	start, end int // the members' bytes, from the comma before the first
}

// source is the state file (or row) lazily loaded mailings were read from.
// The local backend does not keep a file's bytes once its plan-only load
// is done (they were most of its memory): it reads the file again, the
// first time a detail is needed, and refuses a file that changed.
type source struct {
	mu         sync.Mutex
	data       []byte
	reread     func() ([]byte, error) // when data is nil
	positioned bool                   // a whole state file: errors give a line
}

func (s *source) bytes() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		data, err := s.reread()
		if err != nil {
			return nil, err
		}
		s.data = data
	}
	return s.data, nil
}

// held is the bytes when they are in memory, else nil.
func (s *source) held() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// drop forgets the bytes; reread gives them back, the same or an error.
func (s *source) drop(reread func() ([]byte, error)) {
	s.mu.Lock()
	s.data, s.reread = nil, reread
	s.mu.Unlock()
}

func (d *detail) raw() ([]byte, error) {
	data, err := d.src.bytes()
	if err != nil {
		return nil, err
	}
	return data[d.start:d.end], nil
}

// detailFields are the fields a plan-only load leaves undecoded. They
// follow each other in Mailing, so their JSON is one run of members.
type detailFields struct {
	Deliveries []Delivery      `json:"deliveries,omitempty"`
	Proofs     []Proof         `json:"proofs,omitempty"`
	Superseded []SupersededJob `json:"superseded,omitempty"`
}

func isDetailKey(k string) bool { return k == "deliveries" || k == "proofs" || k == "superseded" }

// foldsToDetailKey reports a key spelled otherwise that encoding/json (and
// unmarshalFast) still match to a detail field, as strings.EqualFold does.
func foldsToDetailKey(k string) bool {
	return !isDetailKey(k) && (strings.EqualFold(k, "deliveries") || strings.EqualFold(k, "proofs") || strings.EqualFold(k, "superseded"))
}

// DetailLoaded reports whether m's deliveries, proofs and superseded jobs are
// Go values; false only for a terminal letter of a plan-only load, until
// LoadDetail.
func (m *Mailing) DetailLoaded() bool { return m.detail == nil }

// LoadDetail decodes the deliveries, proofs and superseded jobs a plan-only
// load left as JSON. It does nothing for a mailing loaded in full. A detail
// that is not valid is a *CorruptError naming the letter, and m is left as
// it was.
func (m *Mailing) LoadDetail() error {
	d := m.detail
	if d == nil {
		return nil
	}
	if m.Deliveries != nil || m.Proofs != nil || m.Superseded != nil {
		return detailConflict(m.Address)
	}
	raw, err := d.raw()
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(raw)+1)
	buf = append(buf, '{')
	buf = append(buf, raw[1:]...) // raw starts with the comma of its first member
	buf = append(buf, '}')
	var f detailFields
	if err := json.Unmarshal(buf, &f); err != nil {
		return d.corrupt(m.Address, err)
	}
	m.Deliveries, m.Proofs, m.Superseded = f.Deliveries, f.Proofs, f.Superseded
	m.detail = nil
	return nil
}

// SupersededJobs is m's Superseded, read from the JSON a plan-only load
// left without decoding the rest of it (deliveries and proofs). It changes
// nothing in m. A detail that is not valid is a *CorruptError.
func (m *Mailing) SupersededJobs() ([]SupersededJob, error) {
	d := m.detail
	if d == nil {
		return m.Superseded, nil
	}
	raw, err := d.raw()
	if err != nil {
		return nil, err
	}
	// A detail's keys are the exact names, perhaps with \u escapes (a name
	// in another case decodes the letter in full): without either, there
	// is no superseded member, and the job index of a refresh asks this of
	// every letter.
	if !bytes.Contains(raw, []byte("superseded")) && !bytes.Contains(raw, []byte(`\u`)) {
		return nil, nil
	}
	// raw is `,"deliveries":…,"proofs":…`: its members, from a comma.
	obj := make([]byte, 0, len(raw)+1)
	obj = append(append(append(obj, '{'), raw[1:]...), '}')
	var value []byte // the last "superseded", as encoding/json takes it
	_, ok := eachMember(obj, 0, func(key string, vs, ve int) bool {
		if key == "superseded" {
			value = obj[vs:ve]
		}
		return true
	})
	var out []SupersededJob
	switch {
	case ok && value == nil:
		return nil, nil
	case ok && json.Unmarshal(value, &out) == nil:
		return out, nil
	}
	// Escaped keys, or a bad value: encoding/json reads the whole detail,
	// or says where it is wrong.
	var f detailFields
	if err := json.Unmarshal(obj, &f); err != nil {
		return nil, d.corrupt(m.Address, err)
	}
	return f.Superseded, nil
}

// corrupt places a JSON error in the detail at its byte in the state file.
func (d *detail) corrupt(addr string, err error) error {
	reason := err.Error()
	off := int64(-1)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1
		reason = "invalid JSON: " + syn.Error()
	case errors.As(err, &typ):
		off = typ.Offset
		reason = fmt.Sprintf("invalid value for %s: %s", typ.Field, typ.Error())
	}
	e := &CorruptError{Offset: -1, Reason: fmt.Sprintf("the deliveries and proofs of %s: %s", addr, reason)}
	if data, _ := d.src.bytes(); off >= 0 && d.src.positioned {
		// off counts from the '{' LoadDetail put in place of data[d.start].
		e.Offset = min(int64(d.start)+max(off, 0), int64(len(data)))
		e.Line, e.Column = position(data, e.Offset)
	}
	return e
}

func detailConflict(addr string) error {
	return fmt.Errorf("internal error: the deliveries or proofs of %s were set without LoadDetail on a mailing loaded for a plan; its recorded detail would be lost, so nothing was written", addr)
}

// mailingFields is Mailing without its methods, to encode its fields the
// way encoding/json does by default.
type mailingFields Mailing

// MarshalJSON encodes m as a line of the state file does: the default
// encoding, with a lazily loaded mailing's detail written back verbatim.
func (m *Mailing) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := appendMailing(&buf, enc, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// appendMailing writes m's JSON (no newline) to buf through enc, an encoder
// of buf that does not escape HTML.
func appendMailing(buf *bytes.Buffer, enc *json.Encoder, m *Mailing) error {
	start := buf.Len()
	if err := enc.Encode((*mailingFields)(m)); err != nil {
		return fmt.Errorf("encoding mailing %s: %w", m.Address, err)
	}
	buf.Truncate(buf.Len() - 1) // Encode ends each value with a newline
	if m.detail == nil {
		return nil
	}
	if m.Deliveries != nil || m.Proofs != nil || m.Superseded != nil {
		return detailConflict(m.Address)
	}
	// The detail goes where the full encoding has it: after pack_groups,
	// before last_refreshed (omitted when zero) and terminal (always there,
	// and the last ,"terminal": of the line: only a list of strings follows
	// it, and a string cannot hold an unescaped quote).
	enc0 := buf.Bytes()[start:]
	at := bytes.LastIndex(enc0, []byte(`,"terminal":`))
	if at >= 0 && !m.LastRefreshed.IsZero() {
		at = bytes.LastIndex(enc0[:at], []byte(`,"last_refreshed":`))
	}
	if at < 0 {
		return fmt.Errorf("internal error: encoding mailing %s: no place for its deliveries and proofs", m.Address)
	}
	raw, err := m.detail.raw()
	if err != nil {
		return fmt.Errorf("encoding mailing %s: %w", m.Address, err)
	}
	tail := bytes.Clone(enc0[at:])
	buf.Truncate(start + at)
	buf.Write(raw)
	buf.Write(tail)
	return nil
}

// PlanLoader is implemented by backends that can load a state for a plan
// (see DecodeForPlan).
type PlanLoader interface {
	LoadForPlan(ctx context.Context) (*State, error)
}

// LoadForPlan loads b's state as a plan needs it: terminal letters' detail
// left undecoded when b can do so (PlanLoader), in full otherwise. For runs
// that neither refresh nor post; see the comment at the top of lazy.go.
func LoadForPlan(ctx context.Context, b Backend) (*State, error) {
	if pl, ok := b.(PlanLoader); ok {
		return pl.LoadForPlan(ctx)
	}
	return b.Load(ctx)
}

// DecodeForPlan parses a state file as Decode does, leaving each terminal
// letter's deliveries, proofs and superseded jobs as JSON (see the top of
// lazy.go). It refuses what Decode refuses, with Decode's error: anything
// it cannot read quickly it hands to Decode.
func DecodeForPlan(b []byte) (*State, error) {
	s, _, err := decodeForPlanFrom(b)
	return s, err
}

// decodeForPlanFrom is DecodeForPlan that also returns the source its lazy
// mailings read (nil when Decode read them all).
func decodeForPlanFrom(b []byte) (*State, *source, error) {
	src := &source{data: b, positioned: true}
	if s := decodeForPlan(b, src); s != nil {
		return s, src, nil
	}
	s, err := Decode(b)
	return s, nil, err
}

// DecodeMailingForPlan is DecodeMailing for a plan-only load: a terminal
// letter's detail is left as JSON, checked by LoadDetail.
func DecodeMailingForPlan(address string, b []byte) (*Mailing, error) {
	return newPlanScanner().decodeMailing(address, b)
}

// decodeMailing is DecodeMailingForPlan with p's shared strings.
func (p *planScanner) decodeMailing(address string, b []byte) (*Mailing, error) {
	start := skipSpace(b, 0)
	p.addr = address
	m, end := decodeMailingForPlan(p, b, start, &source{data: b})
	if end < 0 || skipSpace(b, end) != len(b) {
		return DecodeMailing(address, b)
	}
	if err := normalizeMailing(address, m); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeRow is a rowDecodeFunc for a plan: DecodeMailingForPlan of the
// row src.data[start:end], its detail left in src.
func (p *planScanner) decodeRow(address string, src *source, start, end int) (*Mailing, error) {
	b := src.data[:end]
	p.addr = address
	m, me := decodeMailingForPlan(p, b, skipSpace(b, start), src)
	if me < 0 || skipSpace(b, me) != len(b) {
		return DecodeMailing(address, b[start:])
	}
	if err := normalizeMailing(address, m); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeForPlan is DecodeForPlan's fast path; nil means "ask Decode": the
// file is not valid, or not laid out as this postform writes it.
func decodeForPlan(b []byte, src *source) *State {
	var (
		version  *int
		s        = &State{}
		mailings map[string]*Mailing
		p        = newPlanScanner()
	)
	end, ok := eachMember(b, skipSpace(b, 0), func(key string, vs, ve int) bool {
		v := b[vs:ve]
		switch key {
		case "version":
			version = nil
			return json.Unmarshal(v, &version) == nil
		case "lineage":
			return json.Unmarshal(v, &s.Lineage) == nil
		case "serial":
			return json.Unmarshal(v, &s.Serial) == nil
		case "postform_version":
			return json.Unmarshal(v, &s.PostformVersion) == nil
		case "mailings":
			if string(v) == "null" {
				return true
			}
			if mailings == nil {
				mailings = map[string]*Mailing{}
			}
			_, ok := eachMemberAt(b, vs, func(addr string, ms int) int {
				if bytes.HasPrefix(b[ms:], []byte("null")) {
					delete(mailings, addr)
					return ms + len("null")
				}
				p.addr = addr
				m, me := decodeMailingForPlan(p, b, ms, src)
				mailings[addr] = m
				return me
			})
			return ok
		}
		// Decode ignores fields it does not know, but they must be JSON;
		// one it matches in another case (it takes "Serial" for serial) is
		// left to it.
		return !isStateKey(key) && json.Valid(v)
	})
	if !ok || skipSpace(b, end) != len(b) || version == nil || *version < 1 || *version > FormatVersion || s.Lineage == "" {
		return nil
	}
	s.Version = *version
	if mailings == nil {
		mailings = map[string]*Mailing{}
	}
	s.Mailings = mailings
	if normalizeMailings(s.Mailings) != nil {
		return nil
	}
	return s
}

// isStateKey reports whether encoding/json decodes a member named k into
// a field of the state file.
func isStateKey(k string) bool {
	for _, f := range [...]string{"version", "lineage", "serial", "postform_version", "mailings"} {
		if strings.EqualFold(k, f) {
			return true
		}
	}
	return false
}

// onlyStateKeys reports whether the object b has only members named as
// Encode names them (a member "Mailings" would add letters to Decode's
// state, unseen by a reader of "mailings").
func onlyStateKeys(b []byte) bool {
	_, ok := eachMember(b, skipSpace(b, 0), func(key string, vs, ve int) bool {
		switch key {
		case "version", "lineage", "serial", "postform_version", "mailings":
			return true
		}
		return !isStateKey(key)
	})
	return ok
}

// decodeMailingForPlan decodes the mailing that starts at b[start] and
// returns it and its end (-1: not readable here, ask Decode). A terminal
// letter's detail members are kept as they are when they are one run of
// members on one line (as Encode writes them). The scanner reads what
// Encode writes; anything else, and a letter whose detail must be decoded
// (not terminal), goes through decodeMailingGeneral.
func decodeMailingForPlan(p *planScanner, b []byte, start int, src *source) (*Mailing, int) {
	p.b = b
	m := p.newMailing()
	end, hasDetail, ds, de, contiguous := p.mailing(start, m)
	p.b = nil
	switch {
	case end < 0:
		return decodeMailingGeneral(b, start, src, &p.scratch)
	case !hasDetail:
		return m, end
	case !lazyDetail(b, ds, de, m.Terminal, contiguous):
		*m = Mailing{}
		if unmarshalFast(b[start:end], m) != nil {
			return nil, -1
		}
		return m, end
	}
	m.detail = &take(&p.detailSlab, 1)[0]
	*m.detail = detail{src: src, start: ds, end: de}
	return m, end
}

// lazyDetail says whether the detail members b[ds:de] can be left as they
// are: a terminal letter's, one run of members from a comma, on one line.
func lazyDetail(b []byte, ds, de int, terminal, contiguous bool) bool {
	return terminal && ds >= 0 && contiguous && bytes.HasPrefix(b[ds:de], []byte(`,"`)) && bytes.IndexByte(b[ds:de], '\n') < 0
}

// decodeMailingGeneral is decodeMailingForPlan for what the scanner does
// not take: the members are found by eachMember and decoded by
// unmarshalFast. light is scratch space.
func decodeMailingGeneral(b []byte, start int, src *source, light *[]byte) (*Mailing, int) {
	var m Mailing
	ds, de, prev := -1, -1, -1
	terminal, contiguous, first, otherwise := false, true, true, false
	end, ok := eachMember(b, start, func(key string, vs, ve int) bool {
		switch {
		case foldsToDetailKey(key):
			// "Superseded": unmarshalFast would decode it into the field
			// the detail leaves empty; the letter is decoded in full.
			otherwise = true
		case isDetailKey(key):
			if first {
				contiguous = false // no comma before it to cut at
			}
			if ds < 0 {
				ds = prev
			} else if de != prev {
				contiguous = false
			}
			de = ve
		case key == "terminal":
			terminal = string(b[vs:ve]) == "true"
		}
		first = false
		prev = ve
		return true
	})
	if !ok {
		return nil, -1
	}
	if otherwise || !lazyDetail(b, ds, de, terminal, contiguous) {
		if unmarshalFast(b[start:end], &m) != nil {
			return nil, -1
		}
		return &m, end
	}
	*light = append(append((*light)[:0], b[start:ds]...), b[de:end]...)
	if unmarshalFast(*light, &m) != nil {
		return nil, -1
	}
	m.detail = &detail{src: src, start: ds, end: de}
	return &m, end
}

// unmarshalFast decodes one mailing with go-json-experiment/json, which
// does it in a fraction of encoding/json's time and allocations: what the
// scanner does not take. Names match case-insensitively as encoding/json
// matches them (strings.EqualFold: v2's own folding also ignores
// underscores, and took "contenthash" for content_hash); what it refuses
// (duplicate names, invalid UTF-8, …) sends the whole file to Decode, so
// errors and edge cases stay encoding/json's.
func unmarshalFast(b []byte, m *Mailing) error {
	return jsonv2.Unmarshal(b, (*mailingFields)(m), jsonv2.MatchCaseInsensitiveNames(true), jsonv1.MatchCaseSensitiveDelimiter(true))
}

// eachMember calls fn with each member of the JSON object at b[i] (its key
// and its value's bytes b[vs:ve]) and returns the object's end. It checks
// only what it needs to find the members; fn or a later json.Unmarshal
// checks the values.
func eachMember(b []byte, i int, fn func(key string, vs, ve int) bool) (int, bool) {
	return eachMemberAt(b, i, func(key string, vs int) int {
		ve := skipValue(b, vs)
		if ve < 0 || !fn(key, vs, ve) {
			return -1
		}
		return ve
	})
}

// eachMemberAt is eachMember for an fn that finds the value's end itself
// (-1: stop, the object is not readable).
func eachMemberAt(b []byte, i int, fn func(key string, vs int) int) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		ke := skipString(b, i)
		if ke < 0 {
			return 0, false
		}
		key, ok := unquote(b[i:ke])
		if !ok {
			return 0, false
		}
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		ve := fn(key, skipSpace(b, i+1))
		if ve < 0 {
			return 0, false
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// unquote returns the string a JSON string literal holds.
// Only plain ASCII is taken as it is: a control character, a bad byte or
// an escape is left to encoding/json, which refuses or replaces them as
// Decode does.
func unquote(q []byte) (string, bool) {
	in := q[1 : len(q)-1]
	plain := true
	for _, c := range in {
		plain = plain && plainByte[c]
	}
	if plain {
		return string(in), true
	}
	var s string
	return s, json.Unmarshal(q, &s) == nil
}

// skipValue returns the end of the JSON value starting at b[i], -1 when it
// has none. Brackets are counted, not matched: a mismatch is found by the
// json.Unmarshal that decodes the value.
func skipValue(b []byte, i int) int {
	if i < len(b) && (b[i] == '{' || b[i] == '[') {
		if end, ok := skipComposite(b, i); ok {
			return end
		}
	}
	return skipValueBytes(b, i)
}

// skipValueBytes is skipValue a byte at a time: what skipComposite leaves.
func skipValueBytes(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
	case ' ', '\t', '\n', '\r', ',', ':', '}', ']':
		return -1
	default: // a number, true, false or null
		j := i
		for j < len(b) && !isDelimiter(b[j]) {
			j++
		}
		return j
	}
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			if i = skipString(b, i); i < 0 {
				return -1
			}
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
			i++
		}
		// The bytes between (numbers, literals, separators): what a
		// terminal letter's detail, skipped whole, is made of besides
		// its strings.
		for i < len(b) && !structural[b[i]] {
			i++
		}
	}
	return -1
}

// structural marks the bytes skipValue looks at inside a value.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// skipString returns the end of the JSON string starting at b[i] (a quote),
// -1 when it is not terminated. A byte at a time: the strings of a state
// are short, shorter than what makes bytes.IndexByte worth its call.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		i += quoteRun(b[i:])
		for i < len(b) && !stringStop[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		if b[i] == '"' {
			return i + 1
		}
		i++ // past the backslash: the escaped byte is skipped by the loop
	}
	return -1
}

var stringStop = [256]bool{'"': true, '\\': true}

func isDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', ']', '}':
		return true
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}
