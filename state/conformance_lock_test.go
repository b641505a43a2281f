package state

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postform/postform/internal/pgtest"
)

// lockChildEnv makes the test binary a lock holder: it opens the backend
// configured by the JSON in the variable, takes the lock with ID "child",
// prints "locked" and sleeps until it is killed.
const lockChildEnv = "POSTFORM_STATE_TEST_LOCK_CHILD"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(lockChildEnv); cfg != "" {
		os.Exit(lockChild(cfg))
	}
	if cfg := os.Getenv(recordChildEnv); cfg != "" {
		os.Exit(recordChild(cfg))
	}
	os.Exit(pgtest.Main(m))
}

func lockChild(cfgJSON string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	b, err := Open(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Lock(ctx, LockInfo{ID: "child", Operation: "apply"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	return 0
}

// recordChildEnv makes the test binary record mailings one by one from 8
// goroutines forever, printing each address once its Record returned.
const recordChildEnv = "POSTFORM_STATE_TEST_RECORD_CHILD"

func recordChild(cfgJSON string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	b, err := Open(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	s, err := b.Load(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				a := addrOf(g*1_000_000 + i)
				s.SetMailing(a, testMailing(a, i))
				if err := b.Record(ctx, s, a); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				out.Lock()
				fmt.Println(a)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

func lockCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func testLockExcludes(t *testing.T, h harness) {
	cfg := h.config(t)
	ctx, cancel := lockCtx(5 * time.Second)
	defer cancel()
	l, err := open(t, cfg).Lock(ctx, LockInfo{ID: "first", Operation: "apply", Who: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	// No deadline: fail at once.
	_, err = open(t, cfg).Lock(context.Background(), LockInfo{ID: "second"})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want *LockedError", err)
	}
	if le.Info.ID != "first" || le.Info.Who != "alice" || le.Info.Operation != "apply" || le.Info.PID != os.Getpid() {
		t.Errorf("LockedError info = %+v", le.Info)
	}
	mustContain(t, err, "first", "force-unlock")
	// With a deadline: wait for it, then fail.
	start := time.Now()
	wctx, wcancel := lockCtx(400 * time.Millisecond)
	defer wcancel()
	_, err = open(t, cfg).Lock(wctx, LockInfo{ID: "third"})
	if !errors.As(err, &le) {
		t.Fatalf("third Lock = %v, want *LockedError", err)
	}
	if el := time.Since(start); el < 350*time.Millisecond || el > 3*time.Second {
		t.Errorf("a Lock with a 400ms deadline gave up after %v", el)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := open(t, cfg).Lock(ctx, LockInfo{ID: "fourth"})
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if err := l2.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l2.Unlock(); err != nil {
		t.Errorf("a second Unlock: %v", err)
	}
}

func testLockWaits(t *testing.T, h harness) {
	cfg := h.config(t)
	ctx, cancel := lockCtx(10 * time.Second)
	defer cancel()
	l, err := open(t, cfg).Lock(ctx, LockInfo{ID: "first"})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(300*time.Millisecond, func() { l.Unlock() })
	start := time.Now()
	l2, err := open(t, cfg).Lock(ctx, LockInfo{ID: "second"})
	if err != nil {
		t.Fatalf("a waiting Lock: %v", err)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("the waiting Lock got the lock after %v, before the holder unlocked", el)
	}
	l2.Unlock()
}

func testKilledHolder(t *testing.T, h harness) {
	cfg := h.config(t)
	cfgJSON, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+string(cfgJSON))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("the child said %q, %v", line, err)
	}
	_, err = open(t, cfg).Lock(context.Background(), LockInfo{ID: "parent"})
	var le *LockedError
	if !errors.As(err, &le) || le.Info.ID != "child" || le.Info.PID != cmd.Process.Pid {
		t.Fatalf("Lock while the child holds it = %v (info %+v), want *LockedError from pid %d", err, le, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	ctx, cancel := lockCtx(10 * time.Second)
	defer cancel()
	start := time.Now()
	l, err := open(t, cfg).Lock(ctx, LockInfo{ID: "parent"})
	if err != nil {
		t.Fatalf("the lock of a killed holder was not released: %v", err)
	}
	t.Logf("lock free %v after the holder was killed", time.Since(start))
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func testForceUnlock(t *testing.T, h harness) {
	cfg := h.config(t)
	ctx, cancel := lockCtx(5 * time.Second)
	defer cancel()
	b := open(t, cfg)
	err := b.ForceUnlock(ctx, "nothing")
	mustContain(t, err, "not locked")
	l, err := open(t, cfg).Lock(ctx, LockInfo{ID: "stuck"})
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.ForceUnlock(ctx, "wrong"), "wrong", "stuck")
	if err := b.ForceUnlock(ctx, "stuck"); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	l2, err := open(t, cfg).Lock(ctx, LockInfo{ID: "next"})
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	// The forced-out holder's Unlock must not release the new holder's lock.
	l.Unlock()
	_, err = open(t, cfg).Lock(context.Background(), LockInfo{ID: "third"})
	var le *LockedError
	if !errors.As(err, &le) || le.Info.ID != "next" {
		t.Errorf("after the old holder's Unlock, Lock = %v; want the lock still held by next", err)
	}
	l2.Unlock()
}

// testKilledRecorder SIGKILLs a process in the middle of recording: every
// Record that returned before the kill must be in the next Load.
func testKilledRecorder(t *testing.T, h harness) {
	cfg := h.config(t)
	cfgJSON, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), recordChildEnv+"="+string(cfgJSON))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	var acked []string
	for len(acked) < 300 {
		line, err := r.ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the recorder stopped after %d records: %v", len(acked), err)
		}
		acked = append(acked, strings.TrimSuffix(line, "\n"))
	}
	cmd.Process.Signal(syscall.SIGKILL)
	// Acknowledgements already in the pipe were also durable.
	rest, _ := io.ReadAll(r)
	cmd.Wait()
	for _, l := range strings.Split(string(rest), "\n") {
		if strings.HasPrefix(l, "mailing.") && strings.HasSuffix(l, "]") {
			acked = append(acked, l)
		}
	}
	b := open(t, cfg)
	s := load(t, b)
	for _, a := range acked {
		if s.Mailings[a] == nil {
			t.Errorf("%s was acknowledged as recorded but is not in the state", a)
		}
	}
	t.Logf("%d records acknowledged before SIGKILL, %d in the state at serial %d; warnings %q",
		len(acked), len(s.Mailings), s.Serial, b.(Warner).Warnings())
	// The survivor can go on from there.
	if err := b.Persist(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}
