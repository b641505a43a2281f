package main

// The same exactly-once guarantees on the PostgreSQL backend: two
// processes on one pg state. A lock holder killed at every failpoint is in
// crash_test.go, on both backends.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/postform/postform/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// usePG switches a work directory's configuration to a pg backend in its
// own schema.
func usePG(t *testing.T, dir, connStr, schema string) {
	t.Helper()
	p := filepath.Join(dir, "main.mail.hcl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	backend := fmt.Sprintf("postform {\n  backend \"pg\" {\n    conn_str    = %q\n    schema_name = %q\n  }\n}\n", connStr, schema)
	if err := os.WriteFile(p, append([]byte(backend), b...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pulled reads the pg state through the binary, into the file the
// exactly-once assertion reads.
func pullState(t *testing.T, bin, dir string) {
	t.Helper()
	out, err := postformCmd(bin, dir, nil, "state", "pull").Output()
	if err != nil {
		t.Fatalf("state pull: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "postform.state.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPGConcurrentAppliesPostEachLetterOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary and starts PostgreSQL")
	}
	connStr := pgtest.Shared(t)
	bin := postformBinary(t)
	srv := startServer(t, bin, t.TempDir())
	const letters = 200
	dir := workdir(t, srv.addr, letters)
	usePG(t, dir, connStr, pgtest.Schema(t))
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "--chdir", dir, "apply", "--auto-approve", "--lock-timeout=2m", "--parallelism=16", fmt.Sprintf("--max-posts=%d", letters))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Errorf("apply %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	pullState(t, bin, dir)
	assertExactlyOnce(t, srv, dir, letters)
	if strings.Contains(string(outs[0])+string(outs[1]), connStr) && strings.Contains(connStr, "password") {
		t.Error("the connection string with its password was printed")
	}
}
