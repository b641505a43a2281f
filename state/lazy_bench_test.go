package state

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// benchState100000 is bench/run.sh's state of 100,000 terminal letters
// (tracking events, proofs), read in place and never written.
var benchState100000 = filepath.Join("..", "bench", "out", "we100000", DefaultPath)

// BenchmarkLoadForPlan100000 is the local backend's plan-only load of a
// real 100,000-letter snapshot, streamed from the file as LoadForPlan
// streams it (the file is opened read-only; nothing is copied or written).
// user-s/op and sys-s/op are the CPU time per load (both cores, the
// collector's too) in user space and in the kernel;
// live-B/letter is what the plan keeps of each letter: the heap after a
// collection with the result alive, less the heap before the load.
func BenchmarkLoadForPlan100000(b *testing.B) {
	path := benchState100000
	if p := os.Getenv("POSTFORM_BENCH_STATE"); p != "" {
		path = p
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Skipf("no state to load: %v", err)
	}
	load := func() *State {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		res, ok := decodeForPlanStream(f, &source{positioned: true})
		if !ok {
			b.Fatal("the streamed load refused the state")
		}
		return res.s
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	var s *State
	user, sys := processCPU()
	for b.Loop() {
		s = load()
	}
	b.StopTimer()
	user2, sys2 := processCPU()
	b.ReportMetric((user2-user).Seconds()/float64(b.N), "user-s/op")
	b.ReportMetric((sys2-sys).Seconds()/float64(b.N), "sys-s/op")
	s = nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s = load()
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := len(s.Mailings)
	runtime.KeepAlive(s)
	live := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	b.ReportMetric(live/float64(n), "live-B/letter")
	b.ReportMetric(live/(1<<20), "live-MiB")
}
