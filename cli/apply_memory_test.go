package cli

import (
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"weak"

	"github.com/postform/postform/config"
)

// TestApplyCollectsAtItsOwnTarget: an apply runs the collector at
// applyGCPercent (Execute's 200 let an apply of 100,000 letters reach three
// times its live heap), gives the process its target back when it ends,
// and leaves a GOGC the user set alone.
func TestApplyCollectsAtItsOwnTarget(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	during := map[bool]int{}
	defer func() { applyHook = nil }()
	applyHook = func(_ *config.Config, posted bool) {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		during[posted] = p
	}
	apply := func() {
		t.Helper()
		dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": oneNotice})
		writeLetter(t, dir)
		io := newTestIO()
		opts := &applyOptions{g: io.g, autoApprove: true}
		opts.plan.run.parallelism = 2
		if err := runApply(context.Background(), opts); err != nil {
			t.Fatalf("apply: %v\nstdout: %s\nstderr: %s", err, io.stdout, io.stderr)
		}
	}
	apply()
	if during[false] != applyGCPercent || during[true] != applyGCPercent {
		t.Errorf("GOGC during the apply: %v, want %d", during, applyGCPercent)
	}
	if p := debug.SetGCPercent(200); p != 200 {
		t.Errorf("GOGC after the apply: %d, want 200 again", p)
	}
	t.Setenv("GOGC", "150")
	apply()
	if during[false] != 200 || during[true] != 200 {
		t.Errorf("GOGC during an apply with GOGC=150 set: %v, want the process's own (200) untouched", during)
	}
}

// TestApplyLetsGoOfTheConfigurationOncePosted: nothing after the posting
// reads the configuration's letters, so they are not held to the end of the
// run (the record, the report and the audit entry) beside the state that
// replaces them: at 100,000 letters they were half the live heap then.
func TestApplyLetsGoOfTheConfigurationOncePosted(t *testing.T) {
	dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": oneNotice})
	writeLetter(t, dir)
	var letter weak.Pointer[config.Mailing]
	defer func() { applyHook = nil }()
	collected := false
	applyHook = func(cfg *config.Config, posted bool) {
		if !posted {
			letter = weak.Make(cfg.Mailings[0])
			return
		}
		runtime.GC()
		collected = letter.Value() == nil
	}
	io := newTestIO()
	opts := &applyOptions{g: io.g, autoApprove: true}
	opts.plan.run.parallelism = 2
	if err := runApply(context.Background(), opts); err != nil {
		t.Fatalf("apply: %v\nstdout: %s\nstderr: %s", err, io.stdout, io.stderr)
	}
	if !strings.Contains(io.stdout.String(), "Apply complete: 1 posted.") {
		t.Fatalf("apply output:\n%s", io.stdout)
	}
	if !collected {
		t.Error("the configuration's letter is still reachable once the posting returned")
	}
}
