package config_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/pdf"
)

// benchDir writes a working directory of n letters the way bench/gen does:
// one PDF each, a letters.json map and one for_each mailing block.
func benchDir(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "letters"), 0o755); err != nil {
		b.Fatal(err)
	}
	letters := map[string]string{}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("c%06d", i)
		file := "letters/" + key + ".pdf"
		pdf, err := pdf.MakePDF(fmt.Sprintf("Customer %06d", i), "1 rue de la Paix", "75002 PARIS")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), pdf, 0o644); err != nil {
			b.Fatal(err)
		}
		letters[key] = file
	}
	js, _ := json.Marshal(letters)
	if err := os.WriteFile(filepath.Join(dir, "letters.json"), js, 0o644); err != nil {
		b.Fatal(err)
	}
	hcl := `provider "nirva" {
  endpoint = "sandbox"
}

mailing "letter" {
  for_each = jsondecode(file("letters.json"))
  service  = "Lettre simple"
  job_name = "bench-${each.key}"
  document {
    file = each.value
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(hcl), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchCache is an in-memory config.HashCache.
type benchCache struct {
	mu sync.Mutex
	m  map[string]benchEntry
}

type benchEntry struct {
	size  int64
	mtime time.Time
	sum   string
	pages int
}

func (c *benchCache) Lookup(path string, size int64, mtime time.Time) (string, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[path]
	if !ok || e.size != size || !e.mtime.Equal(mtime) {
		return "", 0, false
	}
	return e.sum, e.pages, true
}

func (c *benchCache) Store(path string, size int64, mtime time.Time, sum string, pages int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[path] = benchEntry{size, mtime, sum, pages}
}

func load(b *testing.B, dir string, opts config.LoadOptions, want int) {
	cfg, diags := config.Load(dir, opts)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	if len(cfg.Mailings) != want {
		b.Fatalf("%d mailings, want %d", len(cfg.Mailings), want)
	}
}

// BenchmarkLoad1000 evaluates 1,000 for_each mailings: with every PDF's
// hash in the cache (what plan costs on an unchanged directory), without a
// cache but skipping preflight (what refresh costs), and cold (hash and
// preflight every PDF).
func BenchmarkLoad1000(b *testing.B) { benchLoad(b, 1000) }

// BenchmarkLoad10000 is the same at the scale of issue 8's targets.
func BenchmarkLoad10000(b *testing.B) { benchLoad(b, 10000) }

func benchLoad(b *testing.B, n int) {
	dir := benchDir(b, n)
	b.Run("cached", func(b *testing.B) {
		c := &benchCache{m: map[string]benchEntry{}}
		load(b, dir, config.LoadOptions{HashCache: c}, n)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			load(b, dir, config.LoadOptions{HashCache: c}, n)
		}
	})
	b.Run("nocache-skip-preflight", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			load(b, dir, config.LoadOptions{SkipPreflight: true}, n)
		}
	})
	b.Run("nocache", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			load(b, dir, config.LoadOptions{}, n)
		}
	})
}
