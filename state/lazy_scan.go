package state

import (
	"encoding/binary"
	"encoding/json"
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
	// recent holds, for each member that repeats from letter to letter,
	// the last string made for it (see same).
	recent [nSlots]string

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
	tmpStrs       []string
	tmpDocs       []Document
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

// Member bits of a mailing, to refuse a name given twice: encoding/json
// would merge or overwrite, and the general path says which.
const (
	mAddress = 1 << iota
	mPhase
	mContentHash
	mInputHash
	mJobName
	mService
	mServiceID
	mDocuments
	mOptions
	mOwner
	mRequestedProofs
	mRecipient
	mAttemptedAt
	mJobID
	mSubmittedAt
	mJobStatus
	mPackGroups
	mDeliveries
	mProofs
	mSuperseded
	mLastRefreshed
	mTerminal
	mProblems
)

// mailing decodes the mailing object at b[i] into m and returns its end;
// -1: not for this path. The detail members are not decoded: hasDetail
// says whether there are any, ds, de are their bytes (from the comma
// before the first), and contiguous says whether they are one run of
// members after another member, as Encode writes them.
func (p *planScanner) mailing(i int, m *Mailing) (end int, hasDetail bool, ds, de int, contiguous bool) {
	b := p.b
	ds, de, contiguous = -1, -1, true
	seen := 0
	i, done := p.open(i, '{')
	prev := -1 // the end of the previous member's value
	for !done {
		if i < 0 {
			return -1, false, 0, 0, false
		}
		key, vs := p.key(i)
		if vs < 0 {
			return -1, false, 0, 0, false
		}
		var bit int
		var ve int
		switch string(key) {
		case "address":
			bit, ve = mAddress, p.address(vs, &m.Address)
		case "phase":
			bit, ve = mPhase, p.str(vs, (*string)(&m.Phase), sPhase)
		case "content_hash":
			bit, ve = mContentHash, p.str(vs, &m.ContentHash, noSlot)
		case "input_hash":
			bit, ve = mInputHash, p.str(vs, &m.InputHash, noSlot)
		case "job_name":
			bit, ve = mJobName, p.str(vs, &m.JobName, noSlot)
		case "service":
			bit, ve = mService, p.str(vs, &m.Service, sService)
		case "service_id":
			bit, ve = mServiceID, p.str(vs, &m.ServiceID, sServiceID)
		case "documents":
			bit, ve = mDocuments, p.documents(vs, &m.Documents)
		case "options":
			bit, ve = mOptions, p.options(vs, &m.Options)
		case "owner":
			bit, ve = mOwner, p.str(vs, &m.Owner, sOwner)
		case "requested_proofs":
			bit, ve = mRequestedProofs, p.strs(vs, &m.RequestedProofs, sProofs, 4)
		case "recipient":
			bit, ve = mRecipient, p.recipient(vs, &m.Recipient)
		case "attempted_at":
			bit, ve = mAttemptedAt, p.time(vs, &m.AttemptedAt)
		case "job_id":
			bit, ve = mJobID, p.str(vs, &m.JobID, noSlot)
		case "submitted_at":
			bit, ve = mSubmittedAt, p.time(vs, &m.SubmittedAt)
		case "job_status":
			bit, ve = mJobStatus, p.str(vs, &m.JobStatus, sJobStatus)
		case "pack_groups":
			bit, ve = mPackGroups, p.packGroups(vs, &m.PackGroups)
		case "deliveries", "proofs", "superseded":
			switch key[0] {
			case 'd':
				bit = mDeliveries
			case 'p':
				bit = mProofs
			default:
				bit = mSuperseded
			}
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
		case "last_refreshed":
			bit, ve = mLastRefreshed, p.time(vs, &m.LastRefreshed)
		case "terminal":
			bit, ve = mTerminal, p.bool(vs, &m.Terminal)
		case "problems":
			bit, ve = mProblems, p.strs(vs, &m.Problems, sProblems, 1)
		default:
			return -1, false, 0, 0, false
		}
		if ve < 0 || seen&bit != 0 {
			return -1, false, 0, 0, false
		}
		seen |= bit
		prev = ve
		i, done = p.next(ve, '}')
	}
	return i, seen&(mDeliveries|mProofs|mSuperseded) != 0, ds, de, contiguous
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
		i += plainRun(b[i:])
		for i < len(b) && plainByte[b[i]] {
			i++
		}
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

// plainRun returns how many bytes at the start of b are plainByte, a
// multiple of eight: the caller goes on a byte at a time.
func plainRun(b []byte) int {
	n := 0
	for ; len(b)-n >= 8; n += 8 {
		x := binary.LittleEndian.Uint64(b[n:])
		if x&highs != 0 || (x-lows*0x20)&^x&highs != 0 || hasByte(x, '"') || hasByte(x, '\\') {
			break
		}
	}
	return n
}

// quoteRun is plainRun for skipString: how many bytes, a multiple of
// eight, hold neither a quote nor a backslash.
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

// address is str for the mailing's address, which the caller may already
// hold as its key.
func (p *planScanner) address(i int, dst *string) int {
	if p.null(i) {
		return i + 4
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
	tmp := p.tmpStrs[:0]
	for !done {
		if i < 0 {
			return -1
		}
		sl := noSlot
		if slot != noSlot {
			sl = slot + min(len(tmp), width-1)
		}
		var s string
		if i = p.str(i, &s, sl); i < 0 {
			return -1
		}
		tmp = append(tmp, s)
		i, done = p.next(i, ']')
	}
	p.tmpStrs = tmp[:0]
	if i < 0 {
		return -1
	}
	*dst = take(&p.stringSlab, len(tmp))
	copy(*dst, tmp)
	return i
}

// time decodes a timestamp with time.Time's own UnmarshalJSON, which is
// what encoding/json calls with the same bytes.
func (p *planScanner) time(i int, dst *time.Time) int {
	if p.null(i) {
		return i + 4
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
	tmp := p.tmpDocs[:0]
	for !done {
		if i < 0 {
			return -1
		}
		tmp = append(tmp, Document{})
		if i = p.document(i, &tmp[len(tmp)-1]); i < 0 {
			return -1
		}
		i, done = p.next(i, ']')
	}
	p.tmpDocs = tmp[:0]
	if i < 0 {
		return -1
	}
	*dst = take(&p.documentSlab, len(tmp))
	copy(*dst, tmp)
	return i
}

func (p *planScanner) document(i int, d *Document) int {
	if p.null(i) {
		return i + 4
	}
	i, done := p.open(i, '{')
	seen := 0
	for !done {
		if i < 0 {
			return -1
		}
		key, vs := p.key(i)
		if vs < 0 {
			return -1
		}
		var bit, ve int
		switch string(key) {
		case "box":
			bit, ve = 1, p.str(vs, &d.Box, sBox)
		case "file":
			bit, ve = 2, p.str(vs, &d.File, noSlot)
		case "sha256":
			bit, ve = 4, p.str(vs, &d.SHA256, noSlot)
		case "size":
			bit, ve = 8, p.int(vs, &d.Size)
		case "pages":
			var n int64
			bit, ve = 16, p.int(vs, &n)
			d.Pages = int(n)
		default:
			return -1
		}
		if ve < 0 || seen&bit != 0 {
			return -1
		}
		seen |= bit
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
	seen := 0
	for !done {
		if i < 0 {
			return -1
		}
		key, vs := p.key(i)
		if vs < 0 {
			return -1
		}
		var bit, ve int
		switch string(key) {
		case "lines":
			bit, ve = 1, p.strs(vs, &r.Lines, noSlot, 0)
		case "postcode":
			bit, ve = 2, p.str(vs, &r.Postcode, sPostcode)
		case "city":
			bit, ve = 4, p.str(vs, &r.City, sCity)
		case "country":
			bit, ve = 8, p.str(vs, &r.Country, sCountry)
		default:
			return -1
		}
		if ve < 0 || seen&bit != 0 {
			return -1
		}
		seen |= bit
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
	seen := 0
	for !done {
		if i < 0 {
			return -1
		}
		key, vs := p.key(i)
		if vs < 0 {
			return -1
		}
		var bit, ve int
		switch string(key) {
		case "id":
			bit, ve = 1, p.str(vs, &g.ID, noSlot)
		case "channel":
			bit, ve = 2, p.str(vs, &g.Channel, sChannel)
		case "status":
			bit, ve = 4, p.str(vs, &g.Status, sStatus)
		case "eligible":
			bit, ve = 8, p.bool(vs, &g.Eligible)
		case "reasons":
			bit, ve = 16, p.strs(vs, &g.Reasons, sReasons, 1)
		case "raw":
			// The platform's own fields, any JSON: decoded by
			// encoding/json itself, which is what Decode does with them.
			bit, ve = 32, skipValue(p.b, vs)
			if ve >= 0 && json.Unmarshal(p.b[vs:ve], &g.Raw) != nil {
				ve = -1
			}
		default:
			return -1
		}
		if ve < 0 || seen&bit != 0 {
			return -1
		}
		seen |= bit
		i, done = p.next(ve, '}')
	}
	return i
}

// unquote is the package's unquote, sparing encoding/json the escapes of
// an address (mailing.x["key"]) when it can.
func (p *planScanner) unquote(q []byte) (string, bool) {
	b := p.b
	p.b = q
	s, end := p.rawString(0)
	p.b = b
	if end != len(q) {
		return unquote(q)
	}
	return string(s), true
}
