package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkPlanWorkdir runs `postform plan --refresh=false` in-process on
// the working directory named by POSTFORM_BENCH_DIR: every letter recorded
// in the state, nothing to do. bench/run.sh leaves such directories in
// bench/out/wb1000 and bench/out/wb10000 (scenario b); profile with
//
//	POSTFORM_BENCH_DIR=$PWD/bench/out/wb10000 go test ./cli -run '^$' -bench PlanWorkdir -cpuprofile cpu.prof
func BenchmarkPlanWorkdir(b *testing.B) {
	dir := os.Getenv("POSTFORM_BENCH_DIR")
	if dir == "" {
		b.Skip("POSTFORM_BENCH_DIR is not set (run bench/run.sh b first)")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		b.Fatal(err)
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	b.ReportAllocs()
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"--chdir", dir, "--no-color", "plan", "--refresh=false"}, strings.NewReader(""), &stdout, &stderr)
		if code != ExitOK {
			b.Fatalf("plan exited %d:\n%s%s", code, stdout.String(), stderr.String())
		}
	}
}
