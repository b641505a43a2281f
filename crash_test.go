package main

// The crash suite: the real postform binary against `postform sandbox serve`
// over real HTTP, killed with SIGKILL at every step of a create, a refresh
// and a proof download, then run again. Whatever dies when, every letter
// ends with exactly one job and the state knows every job.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postform/postform/internal/pgtest"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/pdf"
	"github.com/postform/postform/state"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// postformBinary builds the real binary once per test run.
func postformBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "postform-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "postform")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is one `postform sandbox serve` process.
type server struct {
	cmd  *exec.Cmd
	addr string
}

func startServer(t *testing.T, bin, worldDir string, extra ...string) *server {
	t.Helper()
	args := append([]string{"sandbox", "serve", "--addr", "127.0.0.1:0", "--dir", worldDir, "--time-scale", "200"}, extra...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("sandbox serve did not start: %v", err)
	}
	s := &server{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "sandbox listening on http://"))}
	go io.Copy(io.Discard, stdout)
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// jobs lists what the platform holds.
func (s *server) jobs(t *testing.T) []sandbox.JobInfo {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/_sandbox/jobs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jobs []sandbox.JobInfo
	if err := json.NewDecoder(resp.Body).Decode(&jobs); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// workdir writes a configuration of n letters for the server.
func workdir(t *testing.T, endpoint string, n int) string {
	t.Helper()
	dir := t.TempDir()
	var keys []string
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("l%03d", i)
		keys = append(keys, fmt.Sprintf("%q", key))
		doc, err := pdf.MakePDF("Customer "+key, "1 rue de la Paix", "75002 PARIS")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, key+".pdf"), doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hcl := fmt.Sprintf(`
provider "nirva" {
  endpoint = "http://%s"
  login    = "demo@example.com"
  password = "demo"
}
mailing "letter" {
  for_each = toset([%s])
  service  = "Lettre recommandée avec AR"
  job_name = "crash-${each.key}"
  document {
    file = "${each.key}.pdf"
  }
}
`, endpoint, strings.Join(keys, ", "))
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func postformCmd(bin, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"--chdir", dir}, args...)...)
	// The simulator lists a job as soon as it exists: no indexing delay to
	// wait out before an empty lookup means "not posted".
	cmd.Env = append(append(os.Environ(), "POSTFORM_INDEXING_DELAY=0s", "POSTFORM_LOOKUP_WINDOW=20ms"), env...)
	return cmd
}

// assertExactlyOnce checks the platform against the state: one job per
// letter, and the state records each of those jobs.
func assertExactlyOnce(t *testing.T, s *server, dir string, letters int) {
	t.Helper()
	byName := map[string][]string{}
	for _, j := range s.jobs(t) {
		byName[j.JobName] = append(byName[j.JobName], j.JobID)
	}
	if len(byName) != letters {
		t.Errorf("the platform has jobs for %d letters, want %d", len(byName), letters)
	}
	for name, ids := range byName {
		if len(ids) != 1 {
			t.Errorf("letter %s was posted %d times: jobs %v", name, len(ids), ids)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "postform.state.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Mailings) != letters {
		t.Errorf("the state has %d letters, want %d", len(st.Mailings), letters)
	}
	for _, m := range st.Mailings {
		ids := byName[m.JobName]
		if m.Phase != state.PhasePosted || len(ids) != 1 || ids[0] != m.JobID {
			t.Errorf("%s: state says %s job %q; the platform has %v", m.Address, m.Phase, m.JobID, ids)
		}
	}
}

// crashPoints are reconcile's failpoints (reconcile/failpoint.go).
var crashPoints = []string{"before-pending", "after-pending", "after-response", "after-record", "mid-batch", "mid-refresh", "mid-proof"}

// Every failpoint, on both backends, with more letters than --parallelism:
// postAll posts in batches, and job ids learned from the platform become
// durable only with the next batch's pending record, so a kill between
// batches (mid-batch) leaves jobs on the platform that the state knows only
// as pending. On pg the rerun takes no --lock-timeout: the dead holder's
// session, and its lock, must already be gone.
func TestCrashAtEveryStepPostsExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := postformBinary(t)
	const letters, parallelism = 25, 4
	for _, backend := range []string{"local", "pg"} {
		t.Run(backend, func(t *testing.T) {
			var connStr string
			if backend == "pg" {
				connStr = pgtest.Shared(t)
			}
			for _, point := range crashPoints {
				t.Run(point, func(t *testing.T) {
					t.Parallel()
					srv := startServer(t, bin, t.TempDir())
					dir := workdir(t, srv.addr, letters)
					if backend == "pg" {
						usePG(t, dir, connStr, pgtest.Schema(t))
					}
					args := []string{"apply", "--auto-approve", "--wait=30s", "--poll-interval=50ms", fmt.Sprintf("--parallelism=%d", parallelism)}
					crash := postformCmd(bin, dir, []string{"POSTFORM_CRASH_AT=" + point}, args...)
					out, err := crash.CombinedOutput()
					if ws, ok := crash.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
						t.Fatalf("the run was not killed at %s (err %v):\n%s", point, err, out)
					}
					if point == "mid-batch" || point == "after-response" {
						// The kill came where it should: jobs exist that
						// the state has no id for.
						if posted, known := len(srv.jobs(t)), recordedJobs(t, bin, dir); posted <= known {
							t.Fatalf("killed at %s with %d jobs on the platform and %d in the state: the kill missed the window it tests", point, posted, known)
						}
					}
					rerun := postformCmd(bin, dir, nil, args...)
					if out, err := rerun.CombinedOutput(); err != nil {
						t.Fatalf("rerun after a crash at %s: %v\n%s", point, err, out)
					}
					if backend == "pg" {
						pullState(t, bin, dir)
					}
					assertExactlyOnce(t, srv, dir, letters)
				})
			}
		})
	}
}

// recordedJobs counts the letters whose job id the state holds.
func recordedJobs(t *testing.T, bin, dir string) int {
	t.Helper()
	out, err := postformCmd(bin, dir, nil, "state", "pull").Output()
	if err != nil {
		t.Fatalf("state pull: %v", err)
	}
	st, err := state.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range st.Mailings {
		if m.JobID != "" {
			n++
		}
	}
	return n
}

// The platform creates the job, then the client dies before reading the
// answer: the next run finds the job by name instead of posting again.
func TestCrashWhileThePlatformAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := postformBinary(t)
	world := t.TempDir()
	hanging := startServer(t, bin, world, "--hang-after-create")
	dir := workdir(t, hanging.addr, 1)
	run := postformCmd(bin, dir, nil, "apply", "--auto-approve")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(hanging.jobs(t)) == 0 {
		if time.Now().After(deadline) {
			run.Process.Kill()
			t.Fatal("the platform never received the job")
		}
		time.Sleep(20 * time.Millisecond)
	}
	run.Process.Signal(syscall.SIGKILL)
	run.Wait()
	hanging.stop()

	// The same world, served again on a new port, answering normally.
	srv := startServer(t, bin, world)
	rewriteEndpoint(t, dir, hanging.addr, srv.addr)
	rerun := postformCmd(bin, dir, nil, "apply", "--auto-approve", "--wait=30s", "--poll-interval=50ms")
	if out, err := rerun.CombinedOutput(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	assertExactlyOnce(t, srv, dir, 1)
}

func rewriteEndpoint(t *testing.T, dir, from, to string) {
	t.Helper()
	p := filepath.Join(dir, "main.mail.hcl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), from, to)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The dropped-response fault: the job exists, the client sees the
// connection drop. One run ends with exactly one job per letter.
func TestDroppedResponsesEndWithOneJobEach(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	bin := postformBinary(t)
	srv := startServer(t, bin, t.TempDir(), "--drop-after-create", "3")
	dir := workdir(t, srv.addr, 5)
	run := postformCmd(bin, dir, nil, "apply", "--auto-approve")
	out, _ := run.CombinedOutput()
	rerun := postformCmd(bin, dir, nil, "apply", "--auto-approve", "--wait=30s", "--poll-interval=50ms")
	if out2, err := rerun.CombinedOutput(); err != nil {
		t.Fatalf("rerun: %v\nfirst run:\n%s\nrerun:\n%s", err, out, out2)
	}
	assertExactlyOnce(t, srv, dir, 5)
}

// Two applies started together on one state: one waits for the other's
// lock, then finds nothing left to post.
func TestConcurrentAppliesPostEachLetterOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	bin := postformBinary(t)
	srv := startServer(t, bin, t.TempDir())
	const letters = 100
	dir := workdir(t, srv.addr, letters)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, bin, "--chdir", dir, "apply", "--auto-approve", "--lock-timeout=90s", "--parallelism=16")
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Errorf("apply %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	if n := len(srv.jobs(t)); n != letters {
		t.Errorf("the platform has %d jobs, want exactly %d", n, letters)
	}
	assertExactlyOnce(t, srv, dir, letters)
}
