package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/pdf"
)

// hashCache remembers each document's sha256 and page count by path, size
// and modification time in .postform/filehashes.json, so a plan of
// thousands of letters re-reads only the PDFs that changed. It is only a
// cache: losing it costs time, never correctness (the content hash is
// recomputed from the file whenever size or mtime differ).
type hashCache struct {
	dir     string // the working directory
	path    string // inside dir
	mu      sync.Mutex
	entries map[string]hashEntry
	dirty   bool
	// loading is done once entries hold the file's: it is read on another
	// goroutine while the configuration is evaluated, and the first lookup
	// waits for it.
	loading sync.WaitGroup
}

type hashEntry struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	SHA256  string    `json:"sha256"`
	Pages   int       `json:"pages,omitempty"`
}

func openHashCache(dir string) *hashCache {
	c := &hashCache{dir: dir, path: layout.FileHashes}
	c.loading.Go(func() { c.entries = readHashCache(dir, c.path) })
	return c
}

// readHashCache is the cache file's entries; none when it cannot be read.
func readHashCache(dir, path string) map[string]hashEntry {
	f, err := openInWorkDir(dir, path)
	if err != nil {
		return map[string]hashEntry{}
	}
	defer f.Close()
	// A corrupt cache is dropped: it will be rebuilt from the files.
	// Decoded with json v2: at 100,000 documents encoding/json took a
	// tenth of a plan; whatever v2 refuses is only a rebuilt cache. An
	// entry is about 190 bytes of the file.
	entries := make(map[string]hashEntry, sizeHint(f, 160))
	if jsonv2.UnmarshalRead(f, &entries) != nil {
		return map[string]hashEntry{}
	}
	return entries
}

// sizeHint is about how many entries a cache file of perEntry bytes an
// entry holds, within a million, so that its map is made that big at once
// rather than grown step by step. The file is decoded as it is read
// (jsonv2.UnmarshalRead), never read whole first: at 100,000 letters the
// growing buffer of the whole file was more memory than the decoding.
func sizeHint(f *os.File, perEntry int64) int {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return int(min(st.Size()/perEntry, 1<<20))
}

func (c *hashCache) Lookup(path string, size int64, mtime time.Time) (string, int, bool) {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || e.Size != size || !e.ModTime.Equal(mtime) {
		return "", 0, false
	}
	return e.SHA256, e.Pages, true
}

func (c *hashCache) Store(path string, size int64, mtime time.Time, sha string, pages int) {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[path] = hashEntry{Size: size, ModTime: mtime, SHA256: sha, Pages: pages}
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
	b, err := json.Marshal(c.entries)
	if err != nil {
		return
	}
	// Two runs may save at once: each writes its own temporary file, the
	// last rename wins and either cache is valid.
	writeInWorkDir(c.dir, c.path, b)
	c.dirty = false
}

// recipientCache remembers what each PDF's address window holds, by sha256
// and window, in the user cache folder, so that a plan of unchanged
// letters never starts the PDF engine. Like the hash cache it only saves
// time: an entry is found only under the exact bytes it was read from.
// Entries are dropped when the postform version changes (the reading may
// have improved) and when a run that read recipients did not use them.
type recipientCache struct {
	dir     string // the cache's folder, outside the working directory ("" = none)
	path    string // inside dir
	mu      sync.Mutex
	entries map[string]*pdf.Recipient
	used    map[string]bool
	dirty   bool
	// loading is done once entries hold the file's, read as the hash
	// cache's are.
	loading sync.WaitGroup
	// window and windowKey are the window last looked up and its part of
	// the key: the letters of a mail merge share one.
	window    pdf.Window
	windowKey []byte
}

// recipientCacheFile is the file's layout.
type recipientCacheFile struct {
	// Version is the postform version that read the entries.
	Version string `json:"version"`
	// Entries are keyed by "sha256 left,top,width,height" (window in mm).
	Entries map[string]*pdf.Recipient `json:"entries"`
}

// openRecipientCache opens the recipient cache of the working directory
// workDir. It lives in the user's cache folder, never in the working
// directory: a checkout could commit a cache whose entries (keyed by a
// sha256 anyone can compute) make the plan show, and the saved-plan check
// accept, a recipient the letter does not carry.
func openRecipientCache(workDir string) *recipientCache {
	c := &recipientCache{entries: map[string]*pdf.Recipient{}, used: map[string]bool{}}
	root := layout.UserCache()
	abs, err := filepath.Abs(workDir)
	if root == "" || err != nil {
		return c // no cache: every recipient is read
	}
	sum := sha256.Sum256([]byte(abs))
	c.dir, c.path = filepath.Join(root, "recipients"), hex.EncodeToString(sum[:8])+".json"
	c.loading.Go(func() {
		if entries := readRecipientCache(c.dir, c.path); entries != nil {
			// A plan looks up every letter's entry.
			c.entries, c.used = entries, make(map[string]bool, len(entries))
		}
	})
	return c
}

// readRecipientCache is the cache file's entries; nil when it cannot be
// read, is corrupt or of another version.
func readRecipientCache(dir, path string) map[string]*pdf.Recipient {
	// openInWorkDir confines to any folder: here the cache's own.
	r, err := openInWorkDir(dir, path)
	if err != nil {
		return nil
	}
	defer r.Close()
	// An entry is about 240 bytes of the file.
	f := recipientCacheFile{Entries: make(map[string]*pdf.Recipient, sizeHint(r, 200))}
	if jsonv2.UnmarshalRead(r, &f) != nil || f.Version != Version {
		return nil
	}
	return f.Entries
}

// recipientKey is an entry's key: "sha256 left,top,width,height", the
// numbers as %g writes them.
func recipientKey(sha string, w pdf.Window) string {
	return string(appendRecipientKey(nil, sha, w))
}

// appendRecipientKey is recipientKey without fmt: a plan looks up every
// letter's, and fmt boxed each number.
func appendRecipientKey(b []byte, sha string, w pdf.Window) []byte {
	return appendWindow(append(append(b, sha...), ' '), w)
}

// appendWindow is a window as a key writes it: "left,top,width,height".
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
	r, ok := c.entries[string(k)]
	if ok && r != nil {
		c.used[string(k)] = true
		return r, true
	}
	return nil, false
}

func (c *recipientCache) StoreRecipient(sha string, w pdf.Window, r *pdf.Recipient) {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	k := recipientKey(sha, w)
	c.entries[k], c.used[k], c.dirty = r, true, true
}

// save writes the cache when it changed, keeping only the entries this run
// used when it used any (a run that reads no recipient keeps them all).
func (c *recipientCache) save() {
	c.loading.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.used) > 0 && len(c.used) < len(c.entries) {
		for k := range c.entries {
			if !c.used[k] {
				delete(c.entries, k)
			}
		}
		c.dirty = true
	}
	if !c.dirty {
		return
	}
	b, err := json.Marshal(recipientCacheFile{Version: Version, Entries: c.entries})
	if err != nil || c.dir == "" {
		return
	}
	// writeInWorkDir confines to any folder: here the cache's own.
	writeInWorkDir(c.dir, c.path, b)
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
