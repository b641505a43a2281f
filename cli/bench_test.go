package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
)

// BenchmarkWorkdir runs one postform command in-process on the working
// directory named by POSTFORM_BENCH_DIR, so that it can be profiled:
//
//	POSTFORM_BENCH_DIR=$PWD/bench/out/wb10000 go test ./cli -run '^$' -bench Workdir -benchtime 5x -cpuprofile cpu.prof
//
// POSTFORM_BENCH_ARGS is the command (default "plan --refresh=false": every
// letter recorded, nothing to do; bench/run.sh leaves such directories in
// bench/out/wb1000 and wb10000). POSTFORM_BENCH_FRESH_STATE=1 removes the
// state before each run (to profile "apply --auto-approve" creating every
// letter); point the directory at a `sandbox serve` with
// POSTFORM_VAR_endpoint=http://ADDR.
func BenchmarkWorkdir(b *testing.B) {
	dir, args, fresh := benchWorkdir(b, "plan", "--refresh=false")
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	b.ReportAllocs()
	for b.Loop() {
		if fresh {
			removeBenchState(b, dir)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"--chdir", dir, "--no-color"}, args...), strings.NewReader(""), &stdout, &stderr)
		if code != ExitOK {
			b.Fatalf("postform %s exited %d:\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
	}
}

// BenchmarkWorkdirHeap is BenchmarkWorkdir writing, once, a heap profile
// (inuse_space after a collection) at the moment the plan is made, with
// the configuration, the state and the caches all held:
//
//	POSTFORM_BENCH_DIR=$PWD/bench/out/we100000 POSTFORM_BENCH_HEAP=/tmp/heap.prof go test ./cli -run '^$' -bench WorkdirHeap -benchtime 1x
//	go tool pprof -sample_index=inuse_space -top /tmp/heap.prof
//
// It also reports the live heap then as live-MB (a collection's view, not
// the process's RSS, which adds the collector's headroom).
func BenchmarkWorkdirHeap(b *testing.B) {
	out := os.Getenv("POSTFORM_BENCH_HEAP")
	if out == "" {
		b.Skip("POSTFORM_BENCH_HEAP is not set (the file the heap profile is written to)")
	}
	var live uint64
	planMadeHook = func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		live = ms.HeapAlloc
		f, err := os.Create(out)
		if err != nil {
			b.Error(err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			b.Error(err)
		}
	}
	defer func() { planMadeHook = nil }()
	BenchmarkWorkdir(b)
	b.ReportMetric(float64(live)/1e6, "live-MB")
}

// benchWorkdir is the working directory (POSTFORM_BENCH_DIR, absolute),
// the command (POSTFORM_BENCH_ARGS, else defaultArgs) and whether each run
// starts without a state (POSTFORM_BENCH_FRESH_STATE=1) of the benchmarks
// that run postform in-process.
func benchWorkdir(b *testing.B, defaultArgs ...string) (dir string, args []string, fresh bool) {
	dir = os.Getenv("POSTFORM_BENCH_DIR")
	if dir == "" {
		b.Skip("POSTFORM_BENCH_DIR is not set (run bench/run.sh first)")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		b.Fatal(err)
	}
	args = strings.Fields(os.Getenv("POSTFORM_BENCH_ARGS"))
	if len(args) == 0 {
		args = defaultArgs
	}
	return dir, args, os.Getenv("POSTFORM_BENCH_FRESH_STATE") == "1"
}

// removeBenchState removes dir's state, outside the timed part.
func removeBenchState(b *testing.B, dir string) {
	b.StopTimer()
	defer b.StartTimer()
	old, _ := filepath.Glob(filepath.Join(dir, "postform.state.json*"))
	for _, f := range old {
		os.Remove(f)
	}
}
