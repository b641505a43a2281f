package cli

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/pdf"
)

// cacheOf is a cache file of tag holding recs in the order given, checked
// by nothing, so that a test can write files the writer never would.
func cacheOf(tag string, recs ...cacheRecord) string {
	w := newCacheWriter(tag, 0)
	for _, r := range recs {
		w.addRaw(r)
	}
	return string(w.bytes())
}

// withCount is file with its record count replaced by n and its checksum
// made again: a file consistent but for its count.
func withCount(file, tag string, n uint32) string {
	b := []byte(file[:len(file)-4])
	binary.LittleEndian.PutUint32(b[len(cacheMagic)+1+len(tag):], n)
	return string(binary.LittleEndian.AppendUint32(b, checksum(string(b))))
}

// A cache file is read only when it is whole, of its tag and in order:
// anything else, cut, flipped, reordered or miscounted, is no cache.
func TestCacheFileIsReadOnlyWhole(t *testing.T) {
	recs := []cacheRecord{{"a", "1234567"}, {"b", "\x00\x00\x00\x00\x00\x00"}, {"c\x00", "\xff\xfe\xff\xfe\xff\xfe"}}
	file := cacheOf("t", recs...)
	if got := parseCacheFile(file, "t"); !reflect.DeepEqual(got, recs) {
		t.Fatalf("read back as %q, want %q", got, recs)
	}
	if got := parseCacheFile(cacheOf("t"), "t"); got == nil || len(got) != 0 {
		t.Errorf("an empty cache read as %q", got)
	}
	for n := range len(file) {
		if got := parseCacheFile(file[:n], "t"); got != nil {
			t.Errorf("cut to %d bytes: %q read", n, got)
		}
	}
	for i := range len(file) {
		for _, bit := range []byte{0x01, 0x80} {
			b := []byte(file)
			b[i] ^= bit
			if got := parseCacheFile(string(b), "t"); got != nil {
				t.Errorf("byte %d flipped by %#x: %q read", i, bit, got)
			}
		}
	}
	for name, f := range map[string]string{
		"another tag":         cacheOf("u", recs...),
		"a tag it starts":     cacheOf("tt", recs...),
		"keys out of order":   cacheOf("t", recs[1], recs[0], recs[2]),
		"a key twice":         cacheOf("t", recs[0], recs[0], recs[2]),
		"fewer than counted":  withCount(file, "t", 4),
		"more than counted":   withCount(file, "t", 2),
		"a huge count":        withCount(file, "t", math.MaxUint32),
		"records too small":   cacheOf("t", cacheRecord{"a", "1234"}),
		"another version":     "postform cache\x001\n" + file[len(cacheMagic):],
		"the JSON of before":  `{"a.pdf":{"size":1,"mtime":"2026-12-01T08:49:46Z","sha256":"00","pages":1}}`,
		"extra after the sum": file + "\x00",
		"empty":               "",
	} {
		if got := parseCacheFile(f, "t"); got != nil {
			t.Errorf("%s: %q read", name, got)
		}
	}
}

// A cache file's reader is total: whatever the bytes, it reads records in
// order or none, and the values it gives decode or fail, never panic;
// what decodes encodes back to what decodes the same. The fuzzer writes a
// file's body; its checksum is added, or little would pass it.
func FuzzParseCacheFile(f *testing.F) {
	r := &pdf.Recipient{Lines: []string{"Zoë", "75002 PARIS"}, Postcode: "75002", City: "PARIS", Page: 1, Pages: 3,
		Problems: []pdf.Problem{{Kind: "crossing", Line: "x", Box: pdf.Rect{Left: 1, Top: 2, Right: 3, Bottom: math.NaN()}, Message: "m"}}}
	he := encodeHashEntry(nil, hashEntry{Size: 771, ModTime: time.Unix(1764578986, 370285196), SHA256: fmt.Sprintf("%064x", 5), Pages: 1})
	for _, file := range []string{
		cacheOf("t", cacheRecord{"a", string(he)}, cacheRecord{"b", string(encodeRecipient(nil, r))}),
		cacheOf("t"),
		cacheOf("t", cacheRecord{"a", string(encodeHashEntry(nil, hashEntry{SHA256: "not hex"}))}),
	} {
		f.Add(file[:len(file)-4])
	}
	f.Fuzz(func(t *testing.T, body string) {
		file := string(binary.LittleEndian.AppendUint32([]byte(body), checksum(body)))
		recs := parseCacheFile(file, "t")
		for i, rec := range recs {
			if i > 0 && rec.key <= recs[i-1].key {
				t.Fatalf("keys out of order: %q after %q", rec.key, recs[i-1].key)
			}
			hashEntryMatches(rec.val, 771, time.Unix(1764578986, 370285196), nil)
			if d, ok := decodeRecipient(rec.val, nil); ok {
				once := encodeRecipient(nil, d)
				again, ok := decodeRecipient(string(once), nil)
				if !ok || string(encodeRecipient(nil, again)) != string(once) {
					t.Fatalf("%q decodes to %+v, which does not read back as itself", rec.val, d)
				}
			}
		}
		if recs != nil && !reflect.DeepEqual(parseCacheFile(cacheOf("t", recs...), "t"), recs) {
			t.Fatalf("%q does not read back", recs)
		}
	})
}

// The hash cache answers as a map of what was stored would: an entry only
// under the path, size and instant it was stored with, whatever the zone,
// through saves and reads, with lookups in path order or not.
func TestHashCacheAgreesWithAModel(t *testing.T) {
	type stored struct {
		size  int64
		mtime time.Time
		sha   string
		pages int
	}
	zones := []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("odd", -12345)}
	for seed := range uint64(20) {
		rnd := rand.New(rand.NewPCG(seed, 18))
		dir := t.TempDir()
		paths := []string{filepath.Join(dir, "a.pdf"), filepath.Join(dir, "a.pdf0"), filepath.Join(dir, "b", "c.pdf"), "rel.pdf", "zoë.pdf", "", "\x00"}
		instant := func() time.Time {
			return time.Unix(rnd.Int64N(1<<40)-1<<39, rnd.Int64N(3)*int64(rnd.IntN(1e9))).In(zones[rnd.IntN(len(zones))])
		}
		shaOf := func() string {
			switch rnd.IntN(4) {
			case 0:
				return fmt.Sprintf("%064x", rnd.Uint64())
			case 1:
				return fmt.Sprintf("%064X", rnd.Uint64()) // hex, but not as hex.Encode writes it
			case 2:
				return ""
			}
			return fmt.Sprintf("sha-%d", rnd.IntN(100))
		}
		model := map[string]stored{}
		c := openHashCache(dir)
		for step := range 300 {
			p := paths[rnd.IntN(len(paths))]
			switch rnd.IntN(6) {
			case 0:
				s := stored{rnd.Int64N(5) - 1, instant(), shaOf(), rnd.IntN(3)}
				if rnd.IntN(4) == 0 {
					s.pages = math.MaxInt
				}
				c.Store(p, s.size, s.mtime, s.sha, s.pages)
				model[p] = s
			case 1:
				c.save()
				c = openHashCache(dir)
			default:
				size, mtime := rnd.Int64N(5)-1, instant()
				if s, ok := model[p]; ok && rnd.IntN(4) > 0 {
					size, mtime = s.size, s.mtime.In(zones[rnd.IntN(len(zones))])
					switch rnd.IntN(4) {
					case 0:
						mtime = mtime.Add(time.Nanosecond)
					case 1:
						size++
					}
				}
				sha, pages, ok := c.Lookup(p, size, mtime)
				s, want := model[p]
				want = want && s.size == size && s.mtime.Equal(mtime)
				if ok != want || ok && (sha != s.sha || pages != s.pages) {
					t.Fatalf("seed %d step %d: Lookup(%q, %d, %v) = %q, %d, %v; stored %+v (found %v)", seed, step, p, size, mtime, sha, pages, ok, s, want)
				}
			}
		}
	}
}

// A hash cache lookup allocates nothing of its own: the sha256s it
// answers share blocks (stringArena), one for hundreds of lookups.
func TestHashCacheLookupAllocatesOnlyTheSum(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2026, 12, 1, 8, 49, 3, 123456789, time.UTC)
	c := openHashCache(dir)
	var paths []string
	for i := range 100 {
		paths = append(paths, fmt.Sprintf("%s/c%03d.pdf", dir, i))
		c.Store(paths[i], 771, mtime, fmt.Sprintf("%064x", i), 1)
	}
	c.save()
	c = loaded(openHashCache(dir))
	i := 0
	if n := testing.AllocsPerRun(200, func() {
		if _, _, ok := c.Lookup(paths[i%100], 771, mtime); !ok {
			t.Fatal("not found")
		}
		i += 37
	}); n != 0 {
		t.Errorf("%v allocations a lookup", n)
	}
}

// Recipients read back exactly, lists empty or absent, problems and all;
// a run keeps only the entries it used when it used any.
func TestRecipientCacheKeepsWhatItWasGiven(t *testing.T) {
	t.Setenv("POSTFORM_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	recipients := []*pdf.Recipient{
		{},
		{Lines: []string{}, Problems: []pdf.Problem{}},
		{Lines: []string{"", "\xff invalid", "Zoë <Œuvre>"}, Postcode: "75002", City: "PARIS", Country: "ALLEMAGNE", Crossing: true, Page: -1, Pages: math.MaxInt},
		{Lines: []string{"x"}, Problems: []pdf.Problem{
			{Kind: "crossing", Line: "long line", Box: pdf.Rect{Left: -0.5, Top: math.Inf(1), Right: 1e300, Bottom: 5e-324}, Message: "It crosses."},
			{Kind: "empty"},
		}},
	}
	c := openRecipientCache(dir)
	for i, r := range recipients {
		c.StoreRecipient(fmt.Sprint(i), pdf.DefaultWindow, r)
	}
	c.save()
	c = openRecipientCache(dir)
	for i, want := range recipients {
		if got, ok := c.LookupRecipient(fmt.Sprint(i), pdf.DefaultWindow); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%d: read back as %#v (found %v), want %#v", i, got, ok, want)
		}
	}
	c.save() // every entry used: nothing to write
	if _, ok := openRecipientCache(dir).LookupRecipient("3", pdf.DefaultWindow); !ok {
		t.Fatal("an entry used is gone")
	}

	c = openRecipientCache(dir)
	c.save() // none used, none read: all kept
	c = openRecipientCache(dir)
	c.LookupRecipient("2", pdf.DefaultWindow)
	c.StoreRecipient("9", pdf.DefaultWindow, recipients[3])
	c.save()
	c = loadedRecipients(openRecipientCache(dir))
	if keys := recordKeys(c.entries); !slices.Equal(keys, []string{recipientKey("2", pdf.DefaultWindow), recipientKey("9", pdf.DefaultWindow)}) {
		t.Errorf("after a run that used one entry and read one, the cache holds %q", keys)
	}
}

// An entry whose value does not decode is not found, and not kept.
func TestRecipientCacheDropsAnUndecodableEntry(t *testing.T) {
	t.Setenv("POSTFORM_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	c := openRecipientCache(dir)
	good := string(encodeRecipient(nil, &pdf.Recipient{Lines: []string{"ACME"}}))
	k := recipientKey("a", pdf.DefaultWindow)
	file := cacheOf(recipientCacheTag(), cacheRecord{k, good[:len(good)-1]}, cacheRecord{k + "x", good + "\x00"}, cacheRecord{k + "y", good})
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, c.path), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	c = openRecipientCache(dir)
	for _, key := range []string{k, k + "x"} {
		if _, ok := searchRecords(loadedRecipients(c).entries, key); !ok {
			t.Fatalf("%q not in the file", key)
		}
	}
	if r, ok := c.LookupRecipient("a", pdf.DefaultWindow); ok {
		t.Errorf("a cut value decoded as %+v", r)
	}
	if r, ok := decodeRecipient(good+"\x00", nil); ok {
		t.Errorf("a value with a byte more decoded as %+v", r)
	}
	c.StoreRecipient("b", pdf.DefaultWindow, &pdf.Recipient{Lines: []string{"B"}})
	c.save()
	if keys := recordKeys(loadedRecipients(openRecipientCache(dir)).entries); !slices.Equal(keys, []string{recipientKey("b", pdf.DefaultWindow)}) {
		t.Errorf("the cache holds %q", keys)
	}
}

func recordKeys(recs []cacheRecord) []string {
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.key)
	}
	return keys
}

// A JSON cache of before is read once, under the same checks as then, and
// saved in the compact form; one of another version or corrupt is not.
func TestJSONCachesAreMigrated(t *testing.T) {
	t.Setenv("POSTFORM_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	mtime := time.Date(2026, 12, 1, 8, 49, 46, 5, time.UTC)
	os.MkdirAll(filepath.Join(dir, filepath.Dir(layout.FileHashes)), 0o755)
	hashes := filepath.Join(dir, layout.FileHashes)
	os.WriteFile(hashes, []byte(`{"a.pdf":{"size":1,"mtime":"2026-12-01T09:49:46.000000005+01:00","sha256":"`+fmt.Sprintf("%064x", 1)+`","pages":1}}`), 0o644)
	c := openHashCache(dir)
	if _, _, ok := c.Lookup("a.pdf", 1, mtime.Add(1)); ok {
		t.Error("an entry of the JSON cache was found under another mtime")
	}
	if sha, pages, ok := c.Lookup("a.pdf", 1, mtime); !ok || sha != fmt.Sprintf("%064x", 1) || pages != 1 {
		t.Fatalf("the JSON cache's entry read as %q, %d, %v", sha, pages, ok)
	}
	c.save()
	if b, _ := os.ReadFile(hashes); !strings.HasPrefix(string(b), cacheMagic) {
		t.Fatalf("the migrated cache is %q", b)
	}
	if _, _, ok := openHashCache(dir).Lookup("a.pdf", 1, mtime); !ok {
		t.Fatal("the migrated cache is not read")
	}

	rc := openRecipientCache(dir)
	file := filepath.Join(rc.dir, rc.path)
	os.MkdirAll(rc.dir, 0o755)
	key := recipientKey("abc", pdf.DefaultWindow)
	for name, body := range map[string]string{
		"another version": `{"version":"0.0.0-other","entries":{"` + key + `":{"Lines":["x"]}}}`,
		"corrupt":         `{"version":"` + Version + `","entries":{"` + key + `":{"Lines":["x"]}`,
	} {
		os.WriteFile(file, []byte(body), 0o644)
		if r, ok := openRecipientCache(dir).LookupRecipient("abc", pdf.DefaultWindow); ok {
			t.Errorf("%s: %+v read", name, r)
		}
	}
	os.WriteFile(file, []byte(`{"version":"`+Version+`","entries":{"`+key+`":{"Lines":["x"],"Page":1}}}`), 0o644)
	rc = openRecipientCache(dir)
	if r, ok := rc.LookupRecipient("abc", pdf.DefaultWindow); !ok || !reflect.DeepEqual(r, &pdf.Recipient{Lines: []string{"x"}, Page: 1}) {
		t.Fatalf("the JSON cache's entry read as %+v, %v", r, ok)
	}
	rc.save()
	if r, ok := openRecipientCache(dir).LookupRecipient("abc", pdf.DefaultWindow); !ok || r.Lines[0] != "x" {
		t.Fatalf("the migrated cache's entry read as %+v, %v", r, ok)
	}
	if b, _ := os.ReadFile(file); !strings.HasPrefix(string(b), cacheMagic) {
		t.Fatalf("the migrated cache is %q", b)
	}
}

// The smallest entry a cache can hold is read back: minCacheRecord is no
// more than it takes.
func TestSmallestEntriesAreReadBack(t *testing.T) {
	t.Setenv("POSTFORM_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	c := openHashCache(dir)
	c.Store("", 0, time.Unix(0, 0), "", 0)
	c.save()
	if _, _, ok := openHashCache(dir).Lookup("", 0, time.Unix(0, 0)); !ok {
		t.Error("the smallest hash entry is not read back")
	}
	rc := openRecipientCache(dir)
	rc.StoreRecipient("", pdf.Window{}, &pdf.Recipient{})
	rc.save()
	if _, ok := openRecipientCache(dir).LookupRecipient("", pdf.Window{}); !ok {
		t.Error("the smallest recipient entry is not read back")
	}
}
