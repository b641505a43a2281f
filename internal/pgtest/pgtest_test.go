package pgtest

import (
	"context"
	"os"
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
