package state

import (
	"context"
	"runtime"
	"testing"
)

// TestRecordAllocatesAboutItsLine: a Record of a batch of new letters (an
// apply's pending records) allocates about one copy of its line, the bases
// its patches will need, and not also a line buffer and a batch buffer of
// its own each time (issue 18: they were garbage at once, a fifth of what
// posting a letter allocated).
func TestRecordAllocatesAboutItsLine(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's own allocations are counted too")
	}
	ctx := context.Background()
	b := open(t, Config{Dir: t.TempDir()})
	s := load(t, b)
	const batch, warm, rounds = 64, 3, 20
	batches := make([][]string, warm+rounds)
	for r := range batches {
		for i := range batch {
			a := addrOf(r*batch + i)
			s.Mailings[a] = testMailing(a, r*batch+i)
			batches[r] = append(batches[r], a)
		}
	}
	l := b.(*Local)
	for _, addrs := range batches[:warm] {
		if err := b.Record(ctx, s, addrs...); err != nil {
			t.Fatal(err)
		}
	}
	written := l.jw.written.Load()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for _, addrs := range batches[warm:] {
		if err := b.Record(ctx, s, addrs...); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&m1)
	line := (l.jw.written.Load() - written) / rounds
	alloc := int64(m1.TotalAlloc-m0.TotalAlloc) / rounds
	if alloc > 2*line {
		t.Errorf("a Record of %d new letters allocated %d bytes for a line of %d bytes (want at most twice the line)", batch, alloc, line)
	}
	t.Logf("%d bytes allocated per line of %d bytes", alloc, line)
}
