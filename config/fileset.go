package config

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// fileSet returns the regular files under root whose slash-separated path
// relative to root matches pattern, sorted. The pattern is matched one path
// segment at a time with path.Match; a "**" segment matches zero or more
// directories, like Terraform's fileset.
func fileSet(root, pattern string) ([]string, error) {
	pattern = path.Clean(filepath.ToSlash(pattern))
	if strings.HasPrefix(pattern, "../") || pattern == ".." || path.IsAbs(pattern) {
		return nil, fmt.Errorf("pattern %q must stay inside the directory", pattern)
	}
	segs := strings.Split(pattern, "/")
	for _, s := range segs {
		if _, err := path.Match(s, ""); err != nil {
			return nil, fmt.Errorf("invalid pattern %q: %w", pattern, err)
		}
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // unreadable entries below root are skipped
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if matchSegments(segs, strings.Split(rel, "/")) {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list %q: %w", root, unwrapPathError(err))
	}
	sort.Strings(out)
	return out, nil
}

// matchSegments reports whether the path segments match the pattern
// segments, where "**" stands for any number of segments.
func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			// Collapse runs of ** and try every split point.
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
