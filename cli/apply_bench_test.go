package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// BenchmarkApplyHeap runs one command in-process like BenchmarkWorkdir and
// keeps the heap profile taken when the live heap was largest, which is what
// sets an apply's peak RSS (the collector lets the heap grow to twice the
// live heap):
//
//	POSTFORM_BENCH_DIR=$PWD/bench/out/wg10000 POSTFORM_BENCH_FRESH_STATE=1 \
//	POSTFORM_BENCH_ARGS="apply --auto-approve --parallelism=16" \
//	POSTFORM_VAR_endpoint=http://ADDR POSTFORM_BENCH_HEAP=/tmp/heap.prof \
//	POSTFORM_CACHE_DIR=$HOME/.cache/postform \
//	go test ./cli -run '^$' -bench ApplyHeap -benchtime 1x
//
// against a `postform sandbox serve --latency 20ms` at ADDR. It reports the
// largest live heap (peak-live-B) and the largest heap in use (peak-heap-B).
func BenchmarkApplyHeap(b *testing.B) {
	out := os.Getenv("POSTFORM_BENCH_HEAP")
	if out == "" {
		b.Skip("POSTFORM_BENCH_HEAP is not set")
	}
	dir, args, fresh := benchWorkdir(b, "apply", "--auto-approve", "--parallelism=16")
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	var peakLive, peakHeap uint64
	var best bytes.Buffer
	for b.Loop() {
		if fresh {
			removeBenchState(b, dir)
		}
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				metrics.Read(s)
				peakHeap = max(peakHeap, s[1].Value.Uint64())
				if live := s[0].Value.Uint64(); live > peakLive {
					peakLive = live
					best.Reset()
					pprof.Lookup("heap").WriteTo(&best, 0)
				}
			}
		}()
		// The plan of 100,000 letters printed into a buffer would be tens
		// of megabytes of the heap measured: it goes nowhere.
		var stderr bytes.Buffer
		code := run(context.Background(), append([]string{"--chdir", dir, "--no-color"}, args...), strings.NewReader(""), io.Discard, &stderr)
		close(stop)
		<-sampled
		if code != ExitOK {
			b.Fatalf("postform %s exited %d:\n%s", strings.Join(args, " "), code, stderr.String())
		}
	}
	b.ReportMetric(float64(peakLive), "peak-live-B")
	b.ReportMetric(float64(peakHeap), "peak-heap-B")
	if err := os.WriteFile(out, best.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}
