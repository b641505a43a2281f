package state

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// planScanner decodes the members of a mailing that a plan reads, in
// place, from the bytes Encode wrote: one pass, no reflection, the
// strings that repeat from letter to letter (statuses, services, proof
// names) shared. It is a fast path, never a second definition of the
// format: it accepts only what it is sure encoding/json decodes the same
// way (the names exactly as Encode writes them, each once; plain
// integers; strings without invalid UTF-8 or surrogate escapes), and
// anything else (ok false) goes to the general path, unmarshalFast and
// then Decode. FuzzPlanScanner compares it with encoding/json.
type planScanner struct {
	b       []byte
	scratch []byte // unescaped strings
	addr    string // the address the caller already holds
	// addrLit is the string literal addr was read from, when the caller
	// read it from a state file's key (nil otherwise): an "address"
	// member of the same bytes holds the same string.
	addrLit []byte
	// recent holds, for each member that repeats from letter to letter,
	// the last string made for it (see same).
	recent [nSlots]string
	// proofs is the last letter's requested proofs, which the next one
	// mostly asks for too (see sameList).
	proofs []string

	// What the letters are made of is allocated in blocks (take): a
	// letter's own strings, structs and small slices are then a few
	// allocations per hundred letters rather than twenty per letter, and
	// the garbage collector has that much less to do.
	arena         strings.Builder
	mailingSlab   []Mailing
	detailSlab    []detail
	recipientSlab []Recipient
	documentSlab  []Document
	stringSlab    []string
}

// Slots of planScanner.recent.
const (
	noSlot = iota - 1
	sPhase
	sService
	sServiceID
	sOwner
	sJobStatus
	sBox
	sPostcode
	sCity
	sCountry
	sChannel
	sStatus
	sReasons
	sProblems
	sProofs                // sProofs..sProofs+3: requested proofs by position
	sOptions = sProofs + 4 // sOptions..sOptions+3: name, value, name, value
	nSlots   = sOptions + 4
)

const (
	slabLen    = 256      // elements of a block of take
	arenaBlock = 32 << 10 // bytes of a block of letters' strings
)

func newPlanScanner() *planScanner { return &planScanner{} }

// string returns s as a string kept in the scanner's current block of
// strings: a strings.Builder only ever appends, so what its String gave
// stays as it was while the block fills up.
func (p *planScanner) string(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	if p.arena.Cap()-p.arena.Len() < len(s) {
		if len(s) > arenaBlock/16 {
			return string(s)
		}
		p.arena.Reset()
		p.arena.Grow(arenaBlock)
	}
	n := p.arena.Len()
	p.arena.Write(s)
	return p.arena.String()[n:]
}

// same is string for a member that mostly holds what it held in the
// previous letter (a status, a service, a proof's name): that letter's
// string is shared.
func (p *planScanner) same(slot int, s []byte) string {
	if slot < 0 {
		return p.string(s)
	}
	if r := p.recent[slot]; r == string(s) {
		return r
	}
	v := p.string(s)
	p.recent[slot] = v
	return v
}

// extend adds a zeroed element to the run of *slab that starts at
// *start and returns it; when the block is full, the run moves to the
// start of a new one. With run, it makes a slice of elements decoded one
// at a time, in place, where take needs their number first.
func extend[T any](slab *[]T, start *int) *T {
	if len(*slab) == cap(*slab) {
		old := (*slab)[*start:]
		*slab = append(make([]T, 0, max(slabLen, 2*len(old))), old...)
		*start = 0
	}
	var zero T
	*slab = append(*slab, zero)
	return &(*slab)[len(*slab)-1]
}

// run returns the elements extend added to slab from start, with the
// capacity of its length (see take).
func run[T any](slab []T, start int) []T {
	if len(slab) == start {
		return make([]T, 0) // empty, not nil, as encoding/json makes it
	}
	return slab[start:len(slab):len(slab)]
}

// take returns n elements of *slab, starting a new slab when it has no
// room. The result's capacity is its length: appending to it copies it
// rather than write over another letter's elements.
func take[T any](slab *[]T, n int) []T {
	if n == 0 {
		return make([]T, 0) // empty, not nil, as encoding/json makes it
	}
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(slabLen, n))
	}
	l := len(*slab)
	*slab = (*slab)[:l+n]
	return (*slab)[l : l+n : l+n]
}

func (p *planScanner) newMailing() *Mailing { return &take(&p.mailingSlab, 1)[0] }

// A mailing's members, in the order Encode writes them (Mailing's
// fields). Bit 1<<f of a member refuses its name given twice:
// encoding/json would merge or overwrite, and the general path says which.
const (
	fAddress = iota
	fPhase
	fContentHash
	fInputHash
	fJobName
	fService
	fServiceID
	fDocuments
	fOptions
	fOwner
	fRequestedProofs
	fRecipient
	fAttemptedAt
	fJobID
	fSubmittedAt
	fJobStatus
	fPackGroups
	fDeliveries
	fProofs
	fSuperseded
	fLastRefreshed
	fTerminal
	fProblems
)

// mailingNames start each member of a mailing as Encode writes it.
var mailingNames = [...]string{
	fAddress:         `"address":`,
	fPhase:           `"phase":`,
	fContentHash:     `"content_hash":`,
	fInputHash:       `"input_hash":`,
	fJobName:         `"job_name":`,
	fService:         `"service":`,
	fServiceID:       `"service_id":`,
	fDocuments:       `"documents":`,
	fOptions:         `"options":`,
	fOwner:           `"owner":`,
	fRequestedProofs: `"requested_proofs":`,
	fRecipient:       `"recipient":`,
	fAttemptedAt:     `"attempted_at":`,
	fJobID:           `"job_id":`,
	fSubmittedAt:     `"submitted_at":`,
	fJobStatus:       `"job_status":`,
	fPackGroups:      `"pack_groups":`,
	fDeliveries:      `"deliveries":`,
	fProofs:          `"proofs":`,
	fSuperseded:      `"superseded":`,
	fLastRefreshed:   `"last_refreshed":`,
	fTerminal:        `"terminal":`,
	fProblems:        `"problems":`,
}

// Members of a document, a recipient and a pack group, in Encode's order.
var (
	documentNames  = [...]string{`"box":`, `"file":`, `"sha256":`, `"size":`, `"pages":`}
	recipientNames = [...]string{`"lines":`, `"postcode":`, `"city":`, `"country":`}
	packGroupNames = [...]string{`"id":`, `"channel":`, `"status":`, `"eligible":`, `"reasons":`, `"raw":`}
)

// member reads the name of the member at b[i], one of names (each as it
// starts a member: `"name":`), and returns its index and where its value
// starts; -1 for another name or a member this path does not read. The
// member is compared byte for byte (a key literal that starts with one of
// them holds that name and nothing else), first with the ones Encode
// writes next (from next, past a few it omits when empty), then with all;
// a name written otherwise (a space, an escape) is read as a string.
func (p *planScanner) member(i int, names []string, next int) (int, int) {
	b := p.b[i:]
	for k := next; k < len(names) && k < next+3; k++ {
		if n := names[k]; len(b) >= len(n) && b[1] == n[1] && string(b[:len(n)]) == n {
			return k, skipSpace(p.b, i+len(n))
		}
	}
	for k, n := range names {
		if len(b) >= len(n) && b[1] == n[1] && string(b[:len(n)]) == n {
			return k, skipSpace(p.b, i+len(n))
		}
	}
	key, vs := p.key(i)
	if vs < 0 {
		return -1, -1
	}
	for k, n := range names {
		if string(key) == n[1:len(n)-2] {
			return k, vs
		}
	}
	return -1, -1
}

// mailing decodes the mailing object at b[i] into m and returns its end;
// -1: not for this path. The detail members are not decoded: hasDetail
// says whether there are any, ds, de are their bytes (from the comma
// before the first), and contiguous says whether they are one run of
// members after another member, as Encode writes them.
func (p *planScanner) mailing(i int, m *Mailing) (end int, hasDetail bool, ds, de int, contiguous bool) {
	b := p.b
	ds, de, contiguous = -1, -1, true
	seen, next := 0, 0
	i, done := p.open(i, '{')
	prev := -1 // the end of the previous member's value
	for !done {
		if i < 0 {
			return -1, false, 0, 0, false
		}
		f, vs := p.member(i, mailingNames[:], next)
		if f < 0 {
			return -1, false, 0, 0, false
		}
		var ve int
		switch f {
		case fAddress:
			ve = p.address(vs, &m.Address)
		case fPhase:
			ve = p.str(vs, (*string)(&m.Phase), sPhase)
		case fContentHash:
			ve = p.str(vs, &m.ContentHash, noSlot)
		case fInputHash:
			ve = p.str(vs, &m.InputHash, noSlot)
		case fJobName:
			ve = p.str(vs, &m.JobName, noSlot)
		case fService:
			ve = p.str(vs, &m.Service, sService)
		case fServiceID:
			ve = p.str(vs, &m.ServiceID, sServiceID)
		case fDocuments:
			ve = p.documents(vs, &m.Documents)
		case fOptions:
			ve = p.options(vs, &m.Options)
		case fOwner:
			ve = p.str(vs, &m.Owner, sOwner)
		case fRequestedProofs:
			start := len(p.stringSlab)
			if ve = p.strs(vs, &m.RequestedProofs, sProofs, 4); ve >= 0 {
				m.RequestedProofs = p.sameList(m.RequestedProofs, start)
			}
		case fRecipient:
			ve = p.recipient(vs, &m.Recipient)
		case fAttemptedAt:
			ve = p.time(vs, &m.AttemptedAt)
		case fJobID:
			ve = p.str(vs, &m.JobID, noSlot)
		case fSubmittedAt:
			ve = p.time(vs, &m.SubmittedAt)
		case fJobStatus:
			ve = p.str(vs, &m.JobStatus, sJobStatus)
		case fPackGroups:
			ve = p.packGroups(vs, &m.PackGroups)
		case fDeliveries, fProofs, fSuperseded:
			ve = skipValue(b, vs)
			if prev < 0 {
				contiguous = false // no comma before it to cut at
			}
			if ds < 0 {
				ds = prev
			} else if de != prev {
				contiguous = false
			}
			de = ve
		case fLastRefreshed:
			ve = p.time(vs, &m.LastRefreshed)
		case fTerminal:
			ve = p.bool(vs, &m.Terminal)
		case fProblems:
			ve = p.strs(vs, &m.Problems, sProblems, 1)
		}
		if ve < 0 || seen&(1<<f) != 0 {
			return -1, false, 0, 0, false
		}
		seen |= 1 << f
		next = f + 1
		prev = ve
		i, done = p.next(ve, '}')
	}
	return i, seen&(1<<fDeliveries|1<<fProofs|1<<fSuperseded) != 0, ds, de, contiguous
}

// open reads the '{' or '[' at b[i] and returns the start of the first
// member or element, or the end of an empty one (done).
func (p *planScanner) open(i int, c byte) (int, bool) {
	b := p.b
	if i >= len(b) || b[i] != c {
		return -1, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == c+2 { // '{'+2 == '}', '['+2 == ']'
		return i + 1, true
	}
	return i, false
}

// next reads what follows a value ending at b[i]: a comma (the next
// member or element starts at the result) or the closing bracket (done,
// the result is past it).
func (p *planScanner) next(i int, closing byte) (int, bool) {
	b := p.b
	i = skipSpace(b, i)
	if i >= len(b) {
		return -1, false
	}
	switch b[i] {
	case ',':
		return skipSpace(b, i+1), false
	case closing:
		return i + 1, true
	}
	return -1, false
}

// key reads `"name":` at b[i] and returns the name (valid until the next
// string is read) and where its value starts.
func (p *planScanner) key(i int) ([]byte, int) {
	k, end := p.rawString(i)
	if end < 0 {
		return nil, -1
	}
	end = skipSpace(p.b, end)
	if end >= len(p.b) || p.b[end] != ':' {
		return nil, -1
	}
	return k, skipSpace(p.b, end+1)
}

// null reports whether b[i] starts the literal null. encoding/json leaves
// a field it decodes null into at its zero value, here a field never set
// before (a member given twice is refused), so null is skipped.
func (p *planScanner) null(i int) bool {
	return len(p.b)-i >= 4 && string(p.b[i:i+4]) == "null"
}

// rawString reads the string literal at b[i] and returns what it holds
// (the source bytes, or p.scratch when it has escapes) and its end; end
// -1 when it is not one this path takes.
func (p *planScanner) rawString(i int) ([]byte, int) {
	b := p.b
	if i >= len(b) || b[i] != '"' {
		return nil, -1
	}
	i++
	start := i
	ascii := true
	for {
		i += plainLen(b[i:])
		if i >= len(b) {
			return nil, -1
		}
		switch c := b[i]; {
		case c == '"':
			s := b[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, -1 // encoding/json replaces the bad bytes
			}
			return s, i + 1
		case c == '\\':
			return p.unescape(start, i)
		case c < 0x20:
			return nil, -1
		}
		ascii = false
		i++
	}
}

// Eight bytes at a time: most of a state's bytes are in strings, and
// most strings are hashes, ids and names of plain ASCII.
const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasByte reports whether one of the bytes of x is c ("determine if a word
// has a byte equal to n", Bit Twiddling Hacks: exact for "any").
func hasByte(x uint64, c byte) bool {
	v := x ^ lows*uint64(c)
	return (v-lows)&^v&highs != 0
}

// plainLen returns how many bytes at the start of b are plainByte,
// eight at a time: each word's first other byte is the lowest of a mask
// of quotes, backslashes, control bytes and high bits, exact there (a
// borrow of these formulas runs upwards only, past a byte they flag).
func plainLen(b []byte) int {
	n := 0
	for ; len(b)-n >= 8; n += 8 {
		x := binary.LittleEndian.Uint64(b[n:])
		q, bs := x^lows*'"', x^lows*'\\'
		if m := ((q-lows)&^q | (bs-lows)&^bs | (x-lows*0x20)&^x | x) & highs; m != 0 {
			return n + bits.TrailingZeros64(m)/8
		}
	}
	for n < len(b) && plainByte[b[n]] {
		n++
	}
	return n
}

// quoteRun is for skipString: how many bytes, a multiple of eight, hold
// neither a quote nor a backslash.
func quoteRun(b []byte) int {
	n := 0
	for ; len(b)-n >= 8; n += 8 {
		x := binary.LittleEndian.Uint64(b[n:])
		if hasByte(x, '"') || hasByte(x, '\\') {
			break
		}
	}
	return n
}

// plainByte marks the bytes a string literal holds as they are: not a
// quote, a backslash, a control character or part of a multi-byte
// character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape is rawString for a string that has an escape at b[i].
func (p *planScanner) unescape(start, i int) ([]byte, int) {
	b := p.b
	out := append(p.scratch[:0], b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.scratch = out
			// The whole string, the part before the first escape too
			// (escaped strings are few and short: addresses).
			if !utf8.Valid(out) {
				return nil, -1
			}
			return out, i + 1
		case c < 0x20:
			return nil, -1
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, -1
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(b[i+2:])
			if r < 0 || utf16.IsSurrogate(r) {
				return nil, -1 // pairs and lone halves: the general path
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return nil, -1
		}
		i += 2
	}
	return nil, -1
}

// hex4 reads the four hex digits of a \u escape; -1 when they are not.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// str decodes the string at b[i] into dst, shared with the previous
// letter's through slot (see same).
func (p *planScanner) str(i int, dst *string, slot int) int {
	if p.null(i) {
		return i + 4
	}
	s, end := p.rawString(i)
	if end < 0 {
		return -1
	}
	*dst = p.same(slot, s)
	return end
}

// sameList returns the previous letter's requested proofs when list, just
// decoded into the string block from start, holds the same names: the
// letters of a mail merge ask for the same proofs, and a list is 16 bytes
// a name. The list given back to the block, not kept. A shared list's
// capacity is its length (an append copies it); nothing may change one
// in place, nor decode JSON into a loaded letter (encoding/json would
// fill the list's array, every sharer's): state.Clone copies the list,
// and journal patches decode into a new Mailing.
func (p *planScanner) sameList(list []string, start int) []string {
	if len(list) == 0 || !slices.Equal(list, p.proofs) {
		p.proofs = list
		return list
	}
	if n := len(p.stringSlab) - start; n == len(list) && &p.stringSlab[start] == &list[0] {
		clear(p.stringSlab[start:])
		p.stringSlab = p.stringSlab[:start]
	}
	return p.proofs
}

// address is str for the mailing's address, which the caller may already
// hold as its key.
func (p *planScanner) address(i int, dst *string) int {
	if p.null(i) {
		return i + 4
	}
	if l := p.addrLit; len(l) > 0 && len(p.b)-i >= len(l) && string(p.b[i:i+len(l)]) == string(l) {
		*dst = p.addr
		return i + len(l)
	}
	s, end := p.rawString(i)
	if end < 0 {
		return -1
	}
	if string(s) == p.addr {
		*dst = p.addr
	} else {
		*dst = p.string(s)
	}
	return end
}

// strs decodes an array of strings, the k-th through slot+min(k,
// width-1) (noSlot: none). An empty array is an empty slice, not nil, as
// encoding/json makes it.
func (p *planScanner) strs(i int, dst *[]string, slot, width int) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '[')
	start := len(p.stringSlab)
	for !done {
		if i < 0 {
			return -1
		}
		sl := noSlot
		if slot != noSlot {
			sl = slot + min(len(p.stringSlab)-start, width-1)
		}
		var s string
		if i = p.str(i, &s, sl); i < 0 {
			return -1
		}
		*extend(&p.stringSlab, &start) = s
		i, done = p.next(i, ']')
	}
	if i < 0 {
		return -1
	}
	*dst = run(p.stringSlab, start)
	return i
}

// time decodes a timestamp as time.Time's own UnmarshalJSON does, which
// is what encoding/json calls with the same bytes: a UTC one by utcTime,
// any other by UnmarshalJSON itself.
func (p *planScanner) time(i int, dst *time.Time) int {
	if p.null(i) {
		return i + 4
	}
	if t, end, ok := utcTime(p.b, i); ok {
		*dst = t
		return end
	}
	_, end := p.rawString(i)
	if end < 0 || dst.UnmarshalJSON(p.b[i:end]) != nil {
		return -1
	}
	return end
}

func (p *planScanner) bool(i int, dst *bool) int {
	b := p.b
	switch {
	case len(b)-i >= 4 && string(b[i:i+4]) == "true":
		*dst = true
		return i + 4
	case len(b)-i >= 5 && string(b[i:i+5]) == "false":
		return i + 5
	case p.null(i):
		return i + 4
	}
	return -1
}

// int decodes an integer written without fraction or exponent (as Encode
// writes every integer) that fits an int64 with room to spare.
func (p *planScanner) int(i int, dst *int64) int {
	b := p.b
	if p.null(i) {
		return i + 4
	}
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var n int64
	for i < len(b) && '0' <= b[i] && b[i] <= '9' && i-start < 18 {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	switch {
	case i == start, b[start] == '0' && i-start > 1:
		return -1
	case i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E' || '0' <= b[i] && b[i] <= '9'):
		return -1 // a fraction, an exponent or too many digits: the general path
	}
	if neg {
		n = -n
	}
	*dst = n
	return i
}

func (p *planScanner) documents(i int, dst *[]Document) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '[')
	start := len(p.documentSlab)
	for !done {
		if i < 0 {
			return -1
		}
		if i = p.document(i, extend(&p.documentSlab, &start)); i < 0 {
			return -1
		}
		i, done = p.next(i, ']')
	}
	if i < 0 {
		return -1
	}
	*dst = run(p.documentSlab, start)
	return i
}

func (p *planScanner) document(i int, d *Document) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '{')
	seen, next := 0, 0
	for !done {
		if i < 0 {
			return -1
		}
		f, vs := p.member(i, documentNames[:], next)
		var ve int
		switch f {
		case 0:
			ve = p.str(vs, &d.Box, sBox)
		case 1:
			ve = p.str(vs, &d.File, noSlot)
		case 2:
			ve = p.str(vs, &d.SHA256, noSlot)
		case 3:
			ve = p.int(vs, &d.Size)
		case 4:
			var n int64
			ve = p.int(vs, &n)
			d.Pages = int(n)
		default:
			return -1
		}
		if ve < 0 || seen&(1<<f) != 0 {
			return -1
		}
		seen |= 1 << f
		next = f + 1
		i, done = p.next(ve, '}')
	}
	return i
}

// options decodes a map of strings. A name given twice keeps its last
// value, as encoding/json keeps it.
func (p *planScanner) options(i int, dst *map[string]string) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '{')
	out := make(map[string]string, 1)
	for !done {
		if i < 0 {
			return -1
		}
		key, vs := p.key(i)
		if vs < 0 {
			return -1
		}
		n := sOptions + min(2*len(out), 2)
		k := p.same(n, key)
		var v string
		if vs = p.str(vs, &v, n+1); vs < 0 {
			return -1
		}
		out[k] = v
		i, done = p.next(vs, '}')
	}
	if i < 0 {
		return -1
	}
	*dst = out
	return i
}

func (p *planScanner) recipient(i int, dst **Recipient) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '{')
	r := &take(&p.recipientSlab, 1)[0]
	seen, next := 0, 0
	for !done {
		if i < 0 {
			return -1
		}
		f, vs := p.member(i, recipientNames[:], next)
		var ve int
		switch f {
		case 0:
			ve = p.strs(vs, &r.Lines, noSlot, 0)
		case 1:
			ve = p.str(vs, &r.Postcode, sPostcode)
		case 2:
			ve = p.str(vs, &r.City, sCity)
		case 3:
			ve = p.str(vs, &r.Country, sCountry)
		default:
			return -1
		}
		if ve < 0 || seen&(1<<f) != 0 {
			return -1
		}
		seen |= 1 << f
		next = f + 1
		i, done = p.next(ve, '}')
	}
	if i < 0 {
		return -1
	}
	*dst = r
	return i
}

func (p *planScanner) packGroups(i int, dst *[]PackGroup) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '[')
	out := make([]PackGroup, 0, 1)
	for !done {
		if i < 0 {
			return -1
		}
		out = append(out, PackGroup{})
		if i = p.packGroup(i, &out[len(out)-1]); i < 0 {
			return -1
		}
		i, done = p.next(i, ']')
	}
	if i < 0 {
		return -1
	}
	*dst = out
	return i
}

func (p *planScanner) packGroup(i int, g *PackGroup) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '{')
	seen, next := 0, 0
	for !done {
		if i < 0 {
			return -1
		}
		f, vs := p.member(i, packGroupNames[:], next)
		var ve int
		switch f {
		case 0:
			ve = p.str(vs, &g.ID, noSlot)
		case 1:
			ve = p.str(vs, &g.Channel, sChannel)
		case 2:
			ve = p.str(vs, &g.Status, sStatus)
		case 3:
			ve = p.bool(vs, &g.Eligible)
		case 4:
			ve = p.strs(vs, &g.Reasons, sReasons, 1)
		case 5:
			// The platform's own fields, any JSON: decoded by
			// encoding/json itself, which is what Decode does with them.
			ve = skipValue(p.b, vs)
			if ve >= 0 && json.Unmarshal(p.b[vs:ve], &g.Raw) != nil {
				ve = -1
			}
		default:
			return -1
		}
		if ve < 0 || seen&(1<<f) != 0 {
			return -1
		}
		seen |= 1 << f
		next = f + 1
		i, done = p.next(ve, '}')
	}
	return i
}

// unquote is the package's unquote, sparing encoding/json the escapes of
// an address (mailing.x["key"]) when it can, and keeping the string with
// the letters' others (see string).
func (p *planScanner) unquote(q []byte) (string, bool) {
	b := p.b
	p.b = q
	s, end := p.rawString(0)
	p.b = b
	if end != len(q) {
		return unquote(q)
	}
	return p.string(s), true
}
