package cli

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"time"
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
}

type hashEntry struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	SHA256  string    `json:"sha256"`
	Pages   int       `json:"pages,omitempty"`
}

func openHashCache(dir string) *hashCache {
	c := &hashCache{dir: dir, path: filepath.Join(".postform", "filehashes.json"), entries: map[string]hashEntry{}}
	if b, err := readInWorkDir(dir, c.path); err == nil {
		// A corrupt cache is dropped: it will be rebuilt from the files.
		if json.Unmarshal(b, &c.entries) != nil {
			c.entries = map[string]hashEntry{}
		}
	}
	return c
}

func (c *hashCache) Lookup(path string, size int64, mtime time.Time) (string, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || e.Size != size || !e.ModTime.Equal(mtime) {
		return "", 0, false
	}
	return e.SHA256, e.Pages, true
}

func (c *hashCache) Store(path string, size int64, mtime time.Time, sha string, pages int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[path] = hashEntry{Size: size, ModTime: mtime, SHA256: sha, Pages: pages}
	c.dirty = true
}

// save writes the cache atomically; failures only cost speed next time.
func (c *hashCache) save() {
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
