package cli

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/pdf"
)

// hashCache remembers each document's sha256 and page count by path, size
// and modification time in .postform/filehashes.json (named so for its
// history: it is a cache file of cachefile.go), so a plan of thousands of
// letters re-reads only the PDFs that changed. It is only a cache: losing
// it costs time, never correctness (the content hash is recomputed from
// the file whenever size or mtime differ).
type hashCache struct {
	dir  string // the working directory
	path string // inside dir
	mu   sync.Mutex
	// entries are the file's, by path (values: encodeHashEntry); stored
	// are this run's, which win over them.
	entries []cacheRecord
	next    int // the entry after the one last found
	stored  map[string]hashEntry
	dirty   bool
	// sums holds the sha256s Lookup answers, which the configuration keeps.
	sums stringArena
	// loading is done once entries hold the file's: it is read on another
	// goroutine while the configuration is evaluated, and the first lookup
	// waits for it.
	loading sync.WaitGroup
}

type hashEntry struct {
	Size    int64
	ModTime time.Time
	SHA256  string
	Pages   int
}

// sizeOfHashRecord and sizeOfRecipientRecord are about the bytes of an
// entry in its file, so that a save's buffer is made about that big at once.
const sizeOfHashRecord, sizeOfRecipientRecord = 140, 160

// hashCacheTag marks a cache file as a hash cache.
const hashCacheTag = "filehashes"

func openHashCache(dir string) *hashCache {
	c := &hashCache{dir: dir, path: layout.FileHashes}
	c.loading.Go(func() {
		if c.entries = readCacheFile(dir, c.path, hashCacheTag); c.entries == nil {
			// A cache of before is migrated (cachelegacy.go).
			c.stored = readLegacyHashCache(dir, c.path)
			c.dirty = c.stored != nil
		}
	})
	return c
}

// encodeHashEntry appends e's value: size, mtime as seconds and
// nanoseconds (an instant exactly, whatever its zone), pages, and the
// sha256 in its 32 bytes when it is lowercase hex, as it always is.
func encodeHashEntry(b []byte, e hashEntry) []byte {
	b = binary.AppendVarint(b, e.Size)
	b = binary.AppendVarint(b, e.ModTime.Unix())
	b = binary.AppendUvarint(b, uint64(e.ModTime.Nanosecond()))
	b = binary.AppendVarint(b, int64(e.Pages))
	if isLowerHex(e.SHA256) && len(e.SHA256) == 64 {
		b, _ = hex.AppendDecode(append(b, 0), []byte(e.SHA256))
		return b
	}
	return appendCacheString(append(b, 1), e.SHA256)
}

// isLowerHex reports whether s is hex that hex.Encode writes back as it is.
func isLowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// hashEntryMatches is the sha256 and pages of the value v when it was
// stored for size and mtime, the sha256 copied into sums (nil: a string
// of its own).
func hashEntryMatches(v string, size int64, mtime time.Time, sums *stringArena) (string, int, bool) {
	r := cacheReader{s: v}
	sz, sec, nsec, pages := r.varint(), r.varint(), r.uvarint(), r.varint()
	if r.bad || sz != size || sec != mtime.Unix() || nsec != uint64(mtime.Nanosecond()) || int64(int(pages)) != pages {
		return "", 0, false
	}
	var sha string
	switch r.byte() {
	case 0:
		if len(r.s) != 32 {
			return "", 0, false
		}
		var buf [64]byte
		hex.Encode(buf[:], []byte(r.s))
		if sums == nil {
			sha = string(buf[:])
		} else {
			sha = arenaCopy(sums, buf[:])
		}
	case 1:
		if sha = r.str(); r.bad || len(r.s) != 0 {
			return "", 0, false
		}
		sha = cloneInto(sums, sha)
	default:
		return "", 0, false
	}
	return sha, int(pages), true
}

// cloneInto is a copy of s in a, or of its own when a is nil.
func cloneInto(a *stringArena, s string) string {
	if a == nil {
		return strings.Clone(s)
	}
	return a.clone(s)
}

func (c *hashCache) Lookup(path string, size int64, mtime time.Time) (string, int, bool) {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.stored[path]; ok {
		if e.Size != size || !e.ModTime.Equal(mtime) {
			return "", 0, false
		}
		return e.SHA256, e.Pages, true
	}
	// A plan looks its documents up in path order, the file's order: the
	// entry after the last one found is tried before a search.
	i, ok := c.next, c.next < len(c.entries) && c.entries[c.next].key == path
	if !ok {
		if i, ok = searchRecords(c.entries, path); !ok {
			return "", 0, false
		}
	}
	c.next = i + 1
	// The sha256 is a copy: nothing a plan keeps holds the file's string.
	return hashEntryMatches(c.entries[i].val, size, mtime, &c.sums)
}

func (c *hashCache) Store(path string, size int64, mtime time.Time, sha string, pages int) {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stored == nil {
		c.stored = map[string]hashEntry{}
	}
	c.stored[path] = hashEntry{Size: size, ModTime: mtime, SHA256: sha, Pages: pages}
	c.dirty = true
}

// save writes the cache atomically; failures only cost speed next time.
func (c *hashCache) save() {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return
	}
	// The file's entries and this run's, merged in path order; an entry of
	// the file is copied as it is.
	paths := slices.Sorted(maps.Keys(c.stored))
	w := newCacheWriter(hashCacheTag, (len(c.entries)+len(c.stored))*sizeOfHashRecord)
	var val []byte
	old := c.entries
	for _, p := range paths {
		for len(old) > 0 && old[0].key < p {
			w.addRaw(old[0])
			old = old[1:]
		}
		if len(old) > 0 && old[0].key == p {
			old = old[1:]
		}
		val = encodeHashEntry(val[:0], c.stored[p])
		w.add(p, val)
	}
	for _, r := range old {
		w.addRaw(r)
	}
	// Two runs may save at once: each writes its own temporary file, the
	// last rename wins and either cache is valid.
	writeInWorkDir(c.dir, c.path, w.bytes())
	c.dirty = false
}

// recipientCache remembers what each PDF's address window holds, by sha256
// and window, in the user cache folder, so that a plan of unchanged
// letters never starts the PDF engine. Like the hash cache it only saves
// time: an entry is found only under the exact bytes it was read from.
// Entries are dropped when the postform version changes (the reading may
// have improved) and when a run that read recipients did not use them.
type recipientCache struct {
	dir  string // the cache's folder, outside the working directory ("" = none)
	path string // inside dir
	mu   sync.Mutex
	// entries are the file's, keyed by "sha256 left,top,width,height"
	// (window in mm, recipientKey; values: encodeRecipient), and used
	// tells which of them this run looked up; stored are this run's.
	entries []cacheRecord
	index   map[string]int32 // entries' by key
	used    []bool
	stored  map[string]*pdf.Recipient
	dirty   bool
	// alloc hands out what LookupRecipient decodes.
	alloc recipientAlloc
	// loading is done once entries hold the file's, read as the hash
	// cache's are.
	loading sync.WaitGroup
	// window and windowKey are the window last looked up and its part of
	// the key: the letters of a mail merge share one.
	window    pdf.Window
	windowKey []byte
}

// recipientCacheTag marks a cache file as the recipient cache of this
// postform version.
func recipientCacheTag() string { return "recipients " + Version }

// openRecipientCache opens the recipient cache of the working directory
// workDir. It lives in the user's cache folder, never in the working
// directory: a checkout could commit a cache whose entries (keyed by a
// sha256 anyone can compute) make the plan show, and the saved-plan check
// accept, a recipient the letter does not carry.
func openRecipientCache(workDir string) *recipientCache {
	c := &recipientCache{}
	root := layout.UserCache()
	abs, err := filepath.Abs(workDir)
	if root == "" || err != nil {
		return c // no cache: every recipient is read
	}
	sum := sha256.Sum256([]byte(abs))
	c.dir, c.path = filepath.Join(root, "recipients"), hex.EncodeToString(sum[:8])+".json"
	c.loading.Go(func() {
		c.entries = readCacheFile(c.dir, c.path, recipientCacheTag())
		c.used = make([]bool, len(c.entries))
		// A plan looks its letters up in no order of their sha256: a
		// binary search of 100,000 entries was 17 cache misses a letter.
		c.index = make(map[string]int32, len(c.entries))
		for i, r := range c.entries {
			c.index[r.key] = int32(i)
		}
		if c.entries == nil {
			// A cache of before is migrated (cachelegacy.go): its entries
			// are kept whole this once.
			c.stored = readLegacyRecipientCache(c.dir, c.path)
			c.dirty = c.stored != nil
		}
	})
	return c
}

// encodeRecipient appends r's value. A list is written as its length plus
// one, zero for none, so that an empty list and none read back as they
// were; floats as their bits.
func encodeRecipient(b []byte, r *pdf.Recipient) []byte {
	b = appendCacheList(b, r.Lines)
	for _, s := range r.Lines {
		b = appendCacheString(b, s)
	}
	b = appendCacheString(appendCacheString(appendCacheString(b, r.Postcode), r.City), r.Country)
	crossing := byte(0)
	if r.Crossing {
		crossing = 1
	}
	b = binary.AppendVarint(binary.AppendVarint(append(b, crossing), int64(r.Page)), int64(r.Pages))
	b = appendCacheList(b, r.Problems)
	for _, p := range r.Problems {
		b = appendCacheString(appendCacheString(b, string(p.Kind)), p.Line)
		for _, f := range [...]float64{p.Box.Left, p.Box.Top, p.Box.Right, p.Box.Bottom} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
		b = appendCacheString(b, p.Message)
	}
	return b
}

func appendCacheList[T any](b []byte, l []T) []byte {
	if l == nil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(len(l))+1)
}

// recipientAlloc hands out the recipients a cache decodes, their lines and
// their text from blocks of many: a plan of 100,000 letters decoded each
// in three allocations of its own. The configuration copies the recipients
// and their lines and keeps their text: the blocks of text live as long as
// it, the others are dropped together after the load.
type recipientAlloc struct {
	text  stringArena
	recs  []pdf.Recipient
	lines []string
}

func (a *recipientAlloc) recipient() *pdf.Recipient {
	if a == nil {
		return &pdf.Recipient{}
	}
	if len(a.recs) == 0 {
		a.recs = make([]pdf.Recipient, 256)
	}
	r := &a.recs[0]
	a.recs = a.recs[1:]
	return r
}

// lineList is a list of n lines, never nil, clipped so that an append to
// it copies it rather than writing over the next recipient's.
func (a *recipientAlloc) lineList(n int) []string {
	if a == nil || n > 64 {
		return make([]string, n)
	}
	if n > len(a.lines) || a.lines == nil {
		a.lines = make([]string, 1024)
	}
	l := a.lines[:n:n]
	a.lines = a.lines[n:]
	return l
}

// decodeRecipient is the recipient of the value v; false when v is not
// one encodeRecipient wrote. Its strings share one copy of v, made in a
// (nil: each recipient in allocations of its own).
func decodeRecipient(v string, a *recipientAlloc) (*pdf.Recipient, bool) {
	var text *stringArena
	if a != nil {
		text = &a.text
	}
	r := cacheReader{s: cloneInto(text, v)}
	rec := a.recipient()
	// A list cannot be longer than the bytes left: each item is at least one.
	list := func() (int, bool) {
		n := r.uvarint()
		return int(n) - 1, n > 0 && n-1 <= uint64(len(r.s))
	}
	if n, ok := list(); ok {
		rec.Lines = a.lineList(n)
		for i := range rec.Lines {
			rec.Lines[i] = r.str()
		}
	}
	rec.Postcode, rec.City, rec.Country = r.str(), r.str(), r.str()
	switch r.byte() {
	case 0:
	case 1:
		rec.Crossing = true
	default:
		return nil, false
	}
	page, pages := r.varint(), r.varint()
	rec.Page, rec.Pages = int(page), int(pages)
	if int64(rec.Page) != page || int64(rec.Pages) != pages {
		return nil, false
	}
	if n, ok := list(); ok {
		rec.Problems = make([]pdf.Problem, n)
		for i := range rec.Problems {
			p := &rec.Problems[i]
			p.Kind, p.Line = pdf.ProblemKind(r.str()), r.str()
			p.Box.Left, p.Box.Top = math.Float64frombits(r.uint64()), math.Float64frombits(r.uint64())
			p.Box.Right, p.Box.Bottom = math.Float64frombits(r.uint64()), math.Float64frombits(r.uint64())
			p.Message = r.str()
		}
	}
	if r.bad || len(r.s) != 0 {
		return nil, false
	}
	return rec, true
}

// recipientKey is an entry's key: "sha256 left,top,width,height", the
// numbers as %g writes them (LookupRecipient builds it in place).
func recipientKey(sha string, w pdf.Window) string {
	return string(appendWindow(append([]byte(sha), ' '), w))
}

// appendWindow is a window as a key writes it: "left,top,width,height",
// without fmt: a plan looks up every letter's, and fmt boxed each number.
func appendWindow(b []byte, w pdf.Window) []byte {
	for i, v := range [...]float64{w.LeftMM, w.TopMM, w.WidthMM, w.HeightMM} {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return b
}

func (c *recipientCache) LookupRecipient(sha string, w pdf.Window) (*pdf.Recipient, bool) {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.windowKey == nil || w != c.window {
		c.window, c.windowKey = w, appendWindow(nil, w)
	}
	var buf [128]byte
	k := append(append(append(buf[:0], sha...), ' '), c.windowKey...)
	if r, ok := c.stored[string(k)]; ok && r != nil {
		return r, true
	}
	i, ok := c.index[string(k)]
	if !ok {
		return nil, false
	}
	r, ok := decodeRecipient(c.entries[i].val, &c.alloc)
	if ok {
		c.used[i] = true
	}
	return r, ok
}

func (c *recipientCache) StoreRecipient(sha string, w pdf.Window, r *pdf.Recipient) {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stored == nil {
		c.stored = map[string]*pdf.Recipient{}
	}
	c.stored[recipientKey(sha, w)], c.dirty = r, true
}

// save writes the cache when it changed, keeping only the entries this run
// used when it used any (a run that reads no recipient keeps them all).
func (c *recipientCache) save() {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := c.used
	if !slices.Contains(keep, true) && len(c.stored) == 0 {
		keep = nil // none used: all kept
	} else if slices.Contains(keep, false) {
		c.dirty = true
	}
	if !c.dirty || c.dir == "" {
		return
	}
	keys := slices.Sorted(maps.Keys(c.stored))
	w := newCacheWriter(recipientCacheTag(), (len(c.entries)+len(c.stored))*sizeOfRecipientRecord)
	var val []byte
	old, i := c.entries, 0
	addOld := func() {
		if keep == nil || keep[i] {
			w.addRaw(old[i])
		}
		i++
	}
	for _, k := range keys {
		for i < len(old) && old[i].key < k {
			addOld()
		}
		if i < len(old) && old[i].key == k {
			i++
		}
		if r := c.stored[k]; r != nil {
			val = encodeRecipient(val[:0], r)
			w.add(k, val)
		}
	}
	for i < len(old) {
		addOld()
	}
	// writeInWorkDir confines to any folder: here the cache's own.
	writeInWorkDir(c.dir, c.path, w.bytes())
	c.dirty = false
}

// processPDF is the process's one PDF engine, made on first use. It starts
// PDFium (0.1 s with a warm compilation cache, several seconds without) only
// when a PDF is actually read. Execute closes it.
var processPDF = sync.OnceValue(func() *pdf.Engine {
	processPDFMade.Store(true)
	return pdf.Open(pdf.Options{CacheDir: layout.PDFiumCache()})
})

// closePDF closes the engine if it was made.
func closePDF() {
	if processPDFMade.Load() {
		processPDF().Close()
	}
}

var processPDFMade atomic.Bool

// addressProblems are the address preflight findings of every mailing.
func addressProblems(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, m := range cfg.Mailings {
		diags = append(diags, m.AddressProblems...)
	}
	return diags
}
