package pdf

import (
	"sync"
	"testing"
)

// Engine start without a compilation cache: wazero compiles PDFium. Slow;
// run with -benchtime=1x.
func BenchmarkStartCold(b *testing.B) {
	for b.Loop() {
		e := Open(Options{CacheDir: b.TempDir()})
		if err := e.Start(); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}

// Engine start from a warm compilation cache (the tests' cache directory).
func BenchmarkStartWarm(b *testing.B) {
	warm(b)
	for b.Loop() {
		e := Open(Options{CacheDir: testCacheDir})
		if err := e.Start(); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}

func warm(b *testing.B) {
	e := Open(Options{CacheDir: testCacheDir})
	if err := e.Start(); err != nil {
		b.Fatal(err)
	}
	e.Close()
}

// One recipient reading (open, page 1's text, window, close) of the
// LibreOffice letter, one at a time.
func BenchmarkRecipient(b *testing.B) {
	f := fixture(b, "letter.pdf")
	if err := engine.Start(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := engine.Recipient(f, DefaultWindow); err != nil {
			b.Fatal(err)
		}
	}
}

// The target: 1,000 new letters read, engine start (warm cache) included,
// on every core.
func BenchmarkThousandLetters(b *testing.B) {
	f := fixture(b, "letter.pdf")
	warm(b)
	for b.Loop() {
		e := Open(Options{CacheDir: testCacheDir})
		work := make(chan struct{})
		var wg sync.WaitGroup
		for range e.opts.Workers {
			wg.Go(func() {
				for range work {
					r, err := e.Recipient(f, DefaultWindow)
					if err != nil || len(r.Lines) != 4 {
						b.Error(r, err)
					}
				}
			})
		}
		for range 1000 {
			work <- struct{}{}
		}
		close(work)
		wg.Wait()
		e.Close()
	}
}
