package config

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/safefs"
)

// Pruned is what PruneRendered did.
type Pruned struct {
	// Removed are the file names taken out of .postform/rendered, sorted.
	Removed []string
	Bytes   int64
	// Kept is how many renderings stay.
	Kept int
}

// PruneRendered removes from the working directory's .postform/rendered
// the renderings no letter needs: every <sha256>.pdf that is neither a
// document of cfg (what plan shows and apply uploads) nor in keep (the
// sha256 of documents of letters the state has not seen posted: pending
// or refused). Other files are left alone.
//
// A rendering is a cache: the same letter renders to the same bytes, so a
// letter of the configuration whose rendering is gone is rendered again by
// the next Load, and a saved plan is checked against that new Load, never
// uploaded from a file of its own. Only a letter no longer configured
// cannot be rendered again, and nothing uploads such a letter. The caller
// holds the state lock, so no apply of this working directory is between
// its Load and its upload.
func PruneRendered(cfg *Config, keep []string) (Pruned, error) {
	var out Pruned
	wanted := map[string]bool{}
	for _, s := range keep {
		wanted[s+".pdf"] = true
	}
	for _, m := range cfg.Mailings {
		for _, d := range m.Documents {
			if d.SHA256 != "" {
				wanted[d.SHA256+".pdf"] = true
			}
		}
	}
	wd, err := safefs.Open(cfg.Dir)
	if err != nil {
		return out, err
	}
	defer wd.Close()
	if !wd.Exists(layout.Rendered) {
		return out, nil
	}
	dir, err := wd.Sub(layout.Rendered)
	if err != nil {
		return out, err
	}
	defer dir.Close()
	entries, err := os.ReadDir(dir.Path()) // sorted by name
	if err != nil {
		return out, err
	}
	for _, e := range entries {
		name := e.Name()
		if !isRenderingName(name) || !e.Type().IsRegular() {
			continue
		}
		if wanted[name] {
			out.Kept++
			continue
		}
		fi, err := dir.Lstat(name)
		if err != nil {
			continue
		}
		if err := dir.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, err
		}
		out.Removed = append(out.Removed, filepath.ToSlash(filepath.Join(layout.Rendered, name)))
		out.Bytes += fi.Size()
	}
	return out, nil
}

// isRenderingName reports whether name is one renderLetters writes:
// 64 hex digits and .pdf.
func isRenderingName(name string) bool {
	h, ok := strings.CutSuffix(name, ".pdf")
	if !ok || len(h) != 64 || strings.ToLower(h) != h {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}
