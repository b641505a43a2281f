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

// A run whose lock connection ends (reset, timeout, force-unlock) must not
// go on writing: another run may hold the lock by then.
func TestPGWritesStopWhenTheLockIsLost(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	b := open(t, cfg)
	u, err := b.Lock(ctx, LockInfo{ID: "lock-1", Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	s := load(t, b)
	s.Mailings["mailing.a"] = &Mailing{Address: "mailing.a", Phase: PhasePending, JobName: "a"}
	if err := b.Record(ctx, s, "mailing.a"); err != nil {
		t.Fatalf("record under a held lock: %v", err)
	}
	// Another session ends the lock holder, as a reset or force-unlock would.
	c, err := pgx.Connect(ctx, cfg.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var pid int32
	if err := c.QueryRow(ctx, "SELECT pid FROM "+pgx.Identifier{cfg.SchemaName, "locks"}.Sanitize()+" WHERE lock_id = 'lock-1'").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	for range 50 { // the session ends asynchronously
		var gone bool
		c.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&gone)
		if gone {
			break
		}
	}
	s.Mailings["mailing.b"] = &Mailing{Address: "mailing.b", Phase: PhasePending, JobName: "b"}
	err = b.Record(ctx, s, "mailing.b")
	mustContain(t, err, "state lock", "was lost")
	err = b.Persist(ctx, s)
	mustContain(t, err, "state lock", "was lost")
}
