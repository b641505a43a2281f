package cli

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
)

// The hash cache and the recipient cache are kept in one compact form: a
// versioned list of key/value records sorted by key, read whole into one
// string and searched in place, so that reading 100,000 entries is one
// read and one walk, not 100,000 decoded objects (their JSON took a fifth
// of a plan's CPU and 50 MB). A value is decoded only when looked up.
//
//	"postform cache\x00" version "\n"   cacheMagic
//	uvarint length, tag                  what the records are (and for whom)
//	uint32 count, little endian
//	count × (uvarint length, key, uvarint length, value), keys ascending
//	uint32 CRC-32C of every byte before it, little endian
//
// A file that is not exactly this (another version or tag, truncated,
// corrupt, keys out of order) is no cache: it is rebuilt, never trusted.
const cacheMagic = "postform cache\x002\n"

// maxCacheFile bounds what is read (the hash cache is in the checkout,
// which anyone may have written): a cache of a million letters is about
// 80 (hashes) or 150 MB (recipients); anything bigger is not used.
const maxCacheFile = 256 << 20

// minCacheRecord is the fewest bytes a record of either cache takes (its
// two lengths and the smallest value, six bytes of a hash entry), so that
// a count is believed only when the file can hold it, and the records'
// slice is at most four times the file.
const minCacheRecord = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// cacheRecord is one entry of a cache file, both strings inside the file's.
type cacheRecord struct{ key, val string }

// readCacheFile is the records of the cache file rel in the folder dir
// when it is a cache of tag; nil when it cannot be read or is not one.
func readCacheFile(dir, rel, tag string) []cacheRecord {
	// openInWorkDir confines to the folder: no link leads out of it.
	f, err := openInWorkDir(dir, rel)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() > maxCacheFile {
		return nil
	}
	// A Builder grown to the size holds the file in the one string the
	// records are cut from, with no copy made to turn bytes into it.
	var b strings.Builder
	b.Grow(int(st.Size()))
	if _, err := io.Copy(&b, io.LimitReader(f, maxCacheFile+1)); err != nil {
		return nil
	}
	return parseCacheFile(b.String(), tag)
}

// parseCacheFile is the records of data, a whole cache file, when it is a
// cache of tag; nil otherwise.
func parseCacheFile(data, tag string) []cacheRecord {
	if len(data) < len(cacheMagic)+4 || !strings.HasPrefix(data, cacheMagic) {
		return nil
	}
	body := data[:len(data)-4]
	if checksum(body) != le32(data[len(body):]) {
		return nil
	}
	r := cacheReader{s: body[len(cacheMagic):]}
	if r.str() != tag || r.bad || len(r.s) < 4 {
		return nil
	}
	n := uint64(le32(r.s))
	r.s = r.s[4:]
	if n > uint64(len(r.s))/minCacheRecord {
		return nil
	}
	recs := make([]cacheRecord, n)
	for i := range recs {
		recs[i] = cacheRecord{r.str(), r.str()}
		if r.bad || i > 0 && recs[i].key <= recs[i-1].key {
			return nil
		}
	}
	if len(r.s) != 0 {
		return nil
	}
	return recs
}

// searchRecords is where key is, or would be, in recs sorted by key. The
// comparisons of string(key) allocate nothing.
func searchRecords[K string | []byte](recs []cacheRecord, key K) (int, bool) {
	i, j := 0, len(recs)
	for i < j {
		h := int(uint(i+j) >> 1)
		if recs[h].key < string(key) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(recs) && recs[i].key == string(key)
}

// stringArena copies strings into shared blocks, so that a cache whose
// answers a plan keeps (sha256s, recipients' lines) makes one allocation
// for many of them instead of one each. A block lives as long as any
// string in it: only for strings kept as long as one another.
type stringArena struct{ b *strings.Builder }

// arenaBlock is the size of an arena's blocks: a few hundred answers.
const arenaBlock = 32 << 10

// clone is a copy of s in the arena. A Builder never changes the bytes it
// has handed out by String, so each copy stays as it was while the next
// ones are written after it.
func (a *stringArena) clone(s string) string { return arenaCopy(a, s) }

// arenaCopy is clone for bytes too, which string(b) would copy on the heap
// first when they are more than 32.
func arenaCopy[S string | []byte](a *stringArena, s S) string {
	if a.b == nil || a.b.Cap()-a.b.Len() < len(s) {
		a.b = new(strings.Builder)
		a.b.Grow(max(len(s), arenaBlock))
	}
	start := a.b.Len()
	a.b.Write([]byte(s)) // a conversion the compiler makes without a copy
	return a.b.String()[start:]
}

// checksum is the CRC-32C of s, through a buffer: crc32 takes bytes, and
// converting the whole file would copy it.
func checksum(s string) uint32 {
	var buf [8 << 10]byte
	var sum uint32
	for len(s) > 0 {
		n := copy(buf[:], s)
		sum = crc32.Update(sum, castagnoli, buf[:n])
		s = s[n:]
	}
	return sum
}

func le32(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// cacheReader reads the numbers and strings of a cache file or value;
// bad is set, and zeros returned, once one is cut short or malformed.
type cacheReader struct {
	s   string
	bad bool
}

func (r *cacheReader) uvarint() uint64 {
	var v uint64
	for i := 0; i < len(r.s) && i < binary.MaxVarintLen64; i++ {
		c := r.s[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break // more than 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			r.s = r.s[i+1:]
			return v
		}
	}
	r.bad, r.s = true, ""
	return 0
}

func (r *cacheReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *cacheReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.bad, r.s = true, ""
		return ""
	}
	s := r.s[:n]
	r.s = r.s[n:]
	return s
}

func (r *cacheReader) byte() byte {
	if len(r.s) == 0 {
		r.bad = true
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

func (r *cacheReader) uint64() uint64 {
	if len(r.s) < 8 {
		r.bad, r.s = true, ""
		return 0
	}
	v := uint64(le32(r.s)) | uint64(le32(r.s[4:]))<<32
	r.s = r.s[8:]
	return v
}

// cacheWriter writes a cache file, its records added in key order.
type cacheWriter struct {
	b       []byte
	countAt int
	n       uint32
}

func newCacheWriter(tag string, sizeHint int) *cacheWriter {
	w := &cacheWriter{b: make([]byte, 0, sizeHint+len(cacheMagic)+len(tag)+16)}
	w.b = appendCacheString(append(w.b, cacheMagic...), tag)
	w.countAt = len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	return w
}

func (w *cacheWriter) add(key string, val []byte) {
	w.b = appendCacheString(appendCacheString(w.b, key), val)
	w.n++
}

// addRaw adds a record read from a cache file as it was.
func (w *cacheWriter) addRaw(r cacheRecord) {
	w.b = appendCacheString(appendCacheString(w.b, r.key), r.val)
	w.n++
}

// bytes is the whole file.
func (w *cacheWriter) bytes() []byte {
	binary.LittleEndian.PutUint32(w.b[w.countAt:], w.n)
	return binary.LittleEndian.AppendUint32(w.b, crc32.Checksum(w.b, castagnoli))
}

func appendCacheString[S string | []byte](b []byte, s S) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}
