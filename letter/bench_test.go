package letter

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// BenchmarkThousandLetters renders 1,000 distinct one-page letters on all
// cores, as config does for a mail merge (target: under 5 s on 2 cores).
func BenchmarkThousandLetters(b *testing.B) {
	for b.Loop() {
		work := make(chan int)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					l := sample()
					l.To.Name = fmt.Sprintf("Client nº %d", i)
					if _, err := Render(l); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for i := range 1000 {
			work <- i
		}
		close(work)
		wg.Wait()
	}
}

func BenchmarkRender(b *testing.B) {
	l := sample()
	for b.Loop() {
		if _, err := Render(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderUpright is BenchmarkRender without italics: the oblique
// face is not added to the document.
func BenchmarkRenderUpright(b *testing.B) {
	l := sample()
	l.Body = strings.ReplaceAll(l.Body, "*impayée*", "impayée")
	for b.Loop() {
		if _, err := Render(l); err != nil {
			b.Fatal(err)
		}
	}
}
