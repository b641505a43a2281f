package cli

import (
	"io"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/postform/postform/pdf"
)

// The caches were JSON before cachefile.go. A run that finds one reads it
// once, as it was read then, and saves it in the compact form: at 100,000
// letters, rebuilding would hash and preflight every PDF again and read
// every address window with the PDF engine (minutes), and the entries are
// checked as they always were (path, size and mtime; sha256 and window).
// Remove once no cache of before is left to migrate.

// readLegacyHashCache is the entries of a JSON hash cache; nil when the
// file is not one.
func readLegacyHashCache(dir, path string) map[string]hashEntry {
	f, err := openInWorkDir(dir, path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var entries map[string]struct {
		Size    int64     `json:"size"`
		ModTime time.Time `json:"mtime"`
		SHA256  string    `json:"sha256"`
		Pages   int       `json:"pages,omitempty"`
	}
	// Bounded as a cache file is (maxCacheFile): a bigger one, cut short,
	// is no JSON.
	if jsonv2.UnmarshalRead(io.LimitReader(f, maxCacheFile), &entries) != nil || len(entries) == 0 {
		return nil
	}
	out := make(map[string]hashEntry, len(entries))
	for p, e := range entries {
		out[p] = hashEntry{Size: e.Size, ModTime: e.ModTime, SHA256: e.SHA256, Pages: e.Pages}
	}
	return out
}

// readLegacyRecipientCache is the entries of a JSON recipient cache of
// this version; nil when the file is not one.
func readLegacyRecipientCache(dir, path string) map[string]*pdf.Recipient {
	f, err := openInWorkDir(dir, path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var file struct {
		Version string                    `json:"version"`
		Entries map[string]*pdf.Recipient `json:"entries"`
	}
	if jsonv2.UnmarshalRead(io.LimitReader(f, maxCacheFile), &file) != nil || file.Version != Version || len(file.Entries) == 0 {
		return nil
	}
	return file.Entries
}
