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

// BenchmarkFoldLazy is the fold of a refresh at 100,000 letters: the state
// loaded as a refresh loads it (terminal letters' detail left as JSON) and
// written whole as a new snapshot, one letter changed per op
// (PersistChanged's fold: the other letters' lines are copied).
func BenchmarkFoldLazy(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	be, err := Open(Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	if err := be.Persist(ctx, terminalState(100000)); err != nil {
		b.Fatal(err)
	}
	s, err := LoadForPlan(ctx, be)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s.Mailings[addrOf(100000)] = testMailing(addrOf(100000), i)
		if err := be.(*Local).persist(ctx, s, &changeSet{addrs: []string{addrOf(100000)}}); err != nil {
			b.Fatal(err)
		}
	}
}
