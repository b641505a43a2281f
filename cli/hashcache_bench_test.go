package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/postform/postform/pdf"
)

// benchCaches is a working directory whose hash cache and recipient cache
// hold 100,000 letters each, as the caches of a 100,000-letter mail merge.
func benchCaches(b *testing.B) (dir string, paths, shas []string, mtime time.Time) {
	dir = b.TempDir()
	b.Setenv("POSTFORM_CACHE_DIR", b.TempDir())
	mtime = time.Date(2026, 12, 1, 8, 49, 3, 123456789, time.UTC)
	hc, rc := loaded(openHashCache(dir)), loadedRecipients(openRecipientCache(dir))
	for i := range 100000 {
		sum := sha256.Sum256(fmt.Append(nil, i))
		shas = append(shas, hex.EncodeToString(sum[:]))
		paths = append(paths, fmt.Sprintf("%s/letters/c%06d.pdf", dir, i))
		hc.Store(paths[i], 1800+int64(i%7), mtime, shas[i], 1)
		rc.StoreRecipient(shas[i], pdf.DefaultWindow, &pdf.Recipient{Lines: []string{fmt.Sprintf("Customer %06d", i), "1 rue de la Paix", "75001 PARIS"},
			Postcode: "75001", City: "PARIS", Page: 1, Pages: 1})
	}
	hc.save()
	rc.save()
	return dir, paths, shas, mtime
}

// BenchmarkOpenCaches reads a hash cache and a recipient cache of 100,000
// letters each and looks every letter up, as a plan of a 100,000-letter
// mail merge does. retained-B is what the cache holds once read.
func BenchmarkOpenCaches(b *testing.B) {
	dir, paths, shas, mtime := benchCaches(b)
	b.Run("hashes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := loaded(openHashCache(dir))
			if len(c.entries) != len(paths) {
				b.Fatalf("%d entries", len(c.entries))
			}
			for i, p := range paths {
				if _, _, ok := c.Lookup(p, 1800+int64(i%7), mtime); !ok {
					b.Fatalf("%s not found", p)
				}
			}
		}
		b.ReportMetric(retained(func() any { return loaded(openHashCache(dir)) }), "retained-B")
	})
	// A plan looks its documents up in path order and their recipients in
	// no order of their sha256.
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(shas))
	b.Run("recipients", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := loadedRecipients(openRecipientCache(dir))
			if len(c.entries) != len(shas) {
				b.Fatalf("%d entries", len(c.entries))
			}
			for _, i := range order {
				if _, ok := c.LookupRecipient(shas[i], pdf.DefaultWindow); !ok {
					b.Fatalf("%s not found", shas[i])
				}
			}
		}
		b.ReportMetric(retained(func() any { return loadedRecipients(openRecipientCache(dir)) }), "retained-B")
	})
}

// retained is how many bytes of heap what open returns holds.
func retained(open func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := open()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}
