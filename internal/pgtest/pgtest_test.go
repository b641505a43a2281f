package pgtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestShared(t *testing.T) {
	connStr := Shared(t)
	if again := Shared(t); again != connStr {
		t.Fatalf("Shared started a second server: %s then %s", connStr, again)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, connStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v string
	if err := c.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s at %s", v, connStr)
	a, b := Schema(t), Schema(t)
	if a == b {
		t.Fatalf("Schema gave %q twice", a)
	}
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{a}.Sanitize()); err != nil {
		t.Fatal(err)
	}
}

func TestStartWith(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second server")
	}
	connStr := StartWith(t, "full_page_writes=on", "work_mem=7MB")
	ctx := context.Background()
	c, err := pgx.Connect(ctx, connStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for name, want := range map[string]string{"full_page_writes": "on", "work_mem": "7MB", "fsync": "off"} {
		var v string
		if err := c.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != want {
			t.Errorf("%s = %s, want %s", name, v, want)
		}
	}
}

// A server whose test binary died without stopping it is stopped and
// removed by the next start.
func TestOrphansAreReaped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second server")
	}
	srv, err := start()
	if err != nil {
		fail(t, err)
		return
	}
	defer srv.Stop()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, srv.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	// Its owner is a process that has ended.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(srv.dir, ownerFile), []byte(strconv.Itoa(gone.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	reapOrphans(srv.bin)
	if _, err := os.Stat(srv.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the orphan's directory is still there (%v)", err)
	}
	if c, err := pgx.Connect(ctx, srv.ConnStr); err == nil {
		c.Close(ctx)
		t.Fatal("the orphan server still answers")
	}
	// A live owner's server is left alone.
	live, err := start()
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	reapOrphans(live.bin)
	if c, err := pgx.Connect(ctx, live.ConnStr); err != nil {
		t.Fatalf("a server in use was stopped: %v", err)
	} else {
		c.Close(ctx)
	}
}

// A folder of the shared temporary directory that only looks like an
// orphan's (a link, or an owner file someone else could have written) is
// left alone.
func TestReapTouchesOnlyItsOwn(t *testing.T) {
	target := t.TempDir()
	keep := filepath.Join(target, "keep")
	if err := os.WriteFile(keep, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, ownerFile), []byte(strconv.Itoa(gone.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	link, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(link)
	reapOrphans("/nonexistent")
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("the reaper followed a planted link: %v", err)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Fatalf("the reaper removed a link it does not own: %v", err)
	}
}
