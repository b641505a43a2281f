package state

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkPersist is the end of an apply: a snapshot of n letters written
// after a record in the journal (one letter changed per op).
func BenchmarkPersist(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			be, err := Open(Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			s, err := be.Load(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				s.Mailings[addrOf(0)] = testMailing(addrOf(0), n+i)
				if err := be.Record(ctx, s, addrOf(0)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := be.Persist(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
