package state

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/postform/postform/internal/pgtest"
)

func TestPGNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	load(t, open(t, cfg)) // creates the schema
	c, err := pgx.Connect(ctx, cfg.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "INSERT INTO "+pgx.Identifier{cfg.SchemaName, "schema_version"}.Sanitize()+" VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	_, err = open(t, cfg).Load(ctx)
	if !errors.Is(err, ErrNewerVersion) {
		t.Fatalf("Load of a schema migrated by a newer postform = %v", err)
	}
	mustContain(t, err, "version 99", "upgrade postform")
}

func TestPGMigrationIdempotent(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			b, err := Open(cfg)
			if err == nil {
				_, err = b.Load(ctx)
				b.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent first use: %v", err)
		}
	}
}

func TestDescribeHidesPassword(t *testing.T) {
	b, err := Open(Config{Type: "pg", ConnStr: "postgres://alice:s3cr3t-pw@db.example:6543/mail?sslmode=disable", SchemaName: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	d := b.Describe()
	if strings.Contains(d, "s3cr3t") || !strings.Contains(d, "alice@db.example:6543/mail") || !strings.Contains(d, "schema mail") {
		t.Errorf("Describe = %q", d)
	}
	_, err = Open(Config{Type: "pg", ConnStr: "postgres://alice:s3cr3t-pw@db.example:port/x"})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a bad conn_str gave %v", err)
	}
	t.Setenv(ConnStrEnv, "postgres://bob:pw@envhost:5433/envdb")
	b, err = Open(Config{Type: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	if d := b.Describe(); !strings.Contains(d, "bob@envhost:5433/envdb") || !strings.Contains(d, "schema postform") {
		t.Errorf("with %s: Describe = %q", ConnStrEnv, d)
	}
}
