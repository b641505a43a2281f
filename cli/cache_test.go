package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/pdf"
)

// The hash cache saved is the one read again; a corrupt one, or one a
// checkout links elsewhere, is not read.
func TestHashCacheIsReadBackAndNothingElse(t *testing.T) {
	dir := t.TempDir()
	paris := time.FixedZone("CET", 3600)
	mtime := time.Date(2026, 12, 1, 9, 49, 3, 123456789, paris)
	c := openHashCache(dir)
	for i, name := range []string{"a.pdf", "letters/<b>&\u2028.pdf", "zoë.pdf"} {
		c.Store(name, int64(100+i), mtime.Add(time.Duration(i)), "sha-"+name, i)
	}
	c.save()
	again := openHashCache(dir)
	for i, name := range []string{"a.pdf", "letters/<b>&\u2028.pdf", "zoë.pdf"} {
		sha, pages, ok := again.Lookup(name, int64(100+i), mtime.Add(time.Duration(i)).UTC())
		if !ok || sha != "sha-"+name || pages != i {
			t.Errorf("%s: read back as %q, %d pages, found %v", name, sha, pages, ok)
		}
	}
	if _, _, ok := again.Lookup("a.pdf", 100, mtime.Add(time.Second)); ok {
		t.Error("found under another modification time")
	}
	if len(again.entries) != 3 {
		t.Errorf("%d entries read back, want 3", len(again.entries))
	}

	cache := filepath.Join(dir, layout.FileHashes)
	saved, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cache, saved[:len(saved)-1], 0o644)
	if n := len(loaded(openHashCache(dir)).entries); n != 0 {
		t.Errorf("a truncated cache gave %d entries", n)
	}
	outside := filepath.Join(t.TempDir(), "planted.json")
	os.WriteFile(outside, saved, 0o644)
	os.Remove(cache)
	if err := os.Symlink(outside, cache); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if n := len(loaded(openHashCache(dir)).entries); n != 0 {
		t.Errorf("a cache linked out of the checkout gave %d entries", n)
	}
}

// The recipient cache saved is the one read again; one of another version,
// a corrupt one or one without entries is dropped.
func TestRecipientCacheIsReadBack(t *testing.T) {
	t.Setenv("POSTFORM_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	c := openRecipientCache(dir)
	want := &pdf.Recipient{Lines: []string{"Zoë <Œuvre> & Cie", "12 rue de la Paix", "75002 PARIS"}, Postcode: "75002", City: "PARIS", Page: 1, Pages: 2}
	c.StoreRecipient("abc", pdf.DefaultWindow, want)
	c.save()
	got, ok := openRecipientCache(dir).LookupRecipient("abc", pdf.DefaultWindow)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("read back as %+v (found %v), want %+v", got, ok, want)
	}
	file := filepath.Join(c.dir, c.path)
	for name, body := range map[string]string{
		"another version": `{"version":"0.0.0-other","entries":{"abc 110,55,85,33":{"Lines":["x"]}}}`,
		"corrupt":         `{"version":"` + Version + `","entries":{"abc 110,55,85,33":{"Lines":["x"]}`,
		"null entries":    `{"version":"` + Version + `","entries":null}`,
	} {
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if n := len(loadedRecipients(openRecipientCache(dir)).entries); n != 0 {
			t.Errorf("%s: %d entries read", name, n)
		}
	}
}

// loaded is c once its file is read.
func loaded(c *hashCache) *hashCache {
	c.loading.Wait()
	return c
}

// loadedRecipients is c once its file is read.
func loadedRecipients(c *recipientCache) *recipientCache {
	c.loading.Wait()
	return c
}
