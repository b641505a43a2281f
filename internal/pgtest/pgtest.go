// Package pgtest starts a throwaway PostgreSQL server for tests.
//
// Start gives a test its own server, stopped when the test ends. Most
// packages share one server per test binary instead and give each test its
// own schema:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		connStr := pgtest.Shared(t)
//		schema := pgtest.Schema(t) // a fresh schema name for this test
//		…
//	}
//
// Without PostgreSQL binaries (initdb, pg_ctl in PATH or under
// /usr/lib/postgresql/*/bin) the tests are skipped, unless POSTFORM_REQUIRE_PG=1
// makes that a failure. PostgreSQL refuses to run as root: as root the
// binaries run as the "postgres" user through runuser, in a directory
// chowned to it.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RequireEnv, set to 1, turns a missing PostgreSQL into a test failure.
const RequireEnv = "POSTFORM_REQUIRE_PG"

// Server is a running throwaway PostgreSQL.
type Server struct {
	ConnStr string
	dir     string
	bin     string
	asUser  string // run binaries as this user ("" = as ourselves)
}

// Start starts a server for t, stopped and removed when t ends.
func Start(t testing.TB) string {
	t.Helper()
	return StartWith(t)
}

// StartWith starts a server for t with settings ("name=value", passed as
// -c) over the test defaults, e.g. "full_page_writes=on" to measure the
// WAL a production server writes.
func StartWith(t testing.TB, settings ...string) string {
	t.Helper()
	srv, err := start(settings...)
	if err != nil {
		fail(t, err)
	}
	t.Cleanup(srv.Stop)
	return srv.ConnStr
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the connection string of one server shared by every test of
// the binary, started on first use. Stop it from TestMain with Main or
// StopShared; otherwise the server outlives the test binary.
func Shared(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		fail(t, shared.err)
	}
	return shared.srv.ConnStr
}

// StopShared stops the shared server, if one was started.
func StopShared() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
}

// Main runs the tests and stops the shared server: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	return code
}

var schemaSeq atomic.Int64

// Schema returns a schema name unique within the test binary, derived from
// the test's name for readability.
func Schema(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return fmt.Sprintf("t%d_%s", schemaSeq.Add(1), name)
}

func fail(t testing.TB, err error) {
	t.Helper()
	var missing *missingError
	if errors.As(err, &missing) && os.Getenv(RequireEnv) != "1" {
		t.Skipf("no PostgreSQL binaries: %v (set %s=1 to make this a failure)", err, RequireEnv)
	}
	t.Fatalf("starting PostgreSQL: %v", err)
}

type missingError struct{ msg string }

func (e *missingError) Error() string { return e.msg }

// findBin returns the directory holding initdb and pg_ctl.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first.
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
				return d, nil
			}
		}
	}
	return "", &missingError{"initdb and pg_ctl are neither in PATH nor in /usr/lib/postgresql/*/bin"}
}

func start(settings ...string) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	srv := &Server{bin: bin}
	reapOrphans(bin)
	// Our own directory, not t.TempDir(): the postgres user must be able to
	// traverse it.
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	srv.dir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	// Who started it: a test binary killed before Stop (a timeout, a
	// SIGKILL) leaves its server running, and the next start stops it.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, &missingError{"running as root and there is no postgres user to run PostgreSQL as"}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		srv.asUser = "postgres"
	}
	data := filepath.Join(dir, "data")
	if out, err := srv.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200", port, dir)
		for _, kv := range settings {
			opts += " -c " + kv // the last -c of a name wins
		}
		out, err := srv.run("pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(dir, "log"), "-o", opts)
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			lastErr = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
			continue // most likely the port was taken meanwhile
		}
		srv.ConnStr = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
		if err := waitReady(port); err != nil {
			srv.Stop()
			return nil, err
		}
		return srv, nil
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

const (
	dirPrefix = "postform-pgtest-"
	ownerFile = "owner.pid"
)

// reapOrphans stops and removes the servers of test binaries that are no
// longer running: a server is stopped by the binary that started it, and
// one killed first left it behind, port and memory held, for good. The
// temporary folder is shared: only a real directory as start makes it
// (owned by us, or by postgres when we are root) with an owner file we
// wrote is touched, never one another user planted to make pg_ctl signal
// a process of its choosing or RemoveAll follow a link.
func reapOrphans(bin string) {
	me := os.Geteuid()
	dirUID, asUser := me, ""
	if me == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return
		}
		if dirUID, err = strconv.Atoi(u.Uid); err != nil {
			return
		}
		asUser = "postgres"
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		owner := filepath.Join(dir, ownerFile)
		if !ownedBy(dir, dirUID, true) || !ownedBy(owner, me, false) {
			continue // not ours to judge (another user's, an older pgtest's, or being set up)
		}
		b, err := os.ReadFile(owner)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		(&Server{bin: bin, dir: dir, asUser: asUser}).halt()
	}
}

// ownedBy reports whether path is, without following a link, a directory
// (dir) or a regular file owned by uid.
func ownedBy(path string, uid int, dir bool) bool {
	fi, err := os.Lstat(path)
	if err != nil || (dir && !fi.IsDir()) || (!dir && !fi.Mode().IsRegular()) {
		return false
	}
	got, ok := fileOwner(fi)
	return ok && int64(got) == int64(uid)
}

// run runs one of the PostgreSQL binaries, as the postgres user when root.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() {
	if s.ConnStr == "" { // it never started
		os.RemoveAll(s.dir)
		return
	}
	s.halt()
}

// halt stops whatever server runs in s.dir and removes the directory.
func (s *Server) halt() {
	s.run("pg_ctl", "stop", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w")
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(port int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("PostgreSQL did not accept connections on port %d: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
