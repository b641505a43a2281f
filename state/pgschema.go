package state

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// pgMigrations are applied in order; schema_version holds how many ran. A
// schema with more migrations than this postform knows is refused.
var pgMigrations = []string{
	`CREATE TABLE {states} (
		workspace  text PRIMARY KEY,
		lineage    text NOT NULL,
		serial     bigint NOT NULL,
		data       text NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE {journal} (
		id         bigserial PRIMARY KEY,
		workspace  text NOT NULL,
		lineage    text NOT NULL,
		serial     bigint NOT NULL,
		address    text NOT NULL,
		mailing    text,
		created_at timestamptz NOT NULL DEFAULT now()
	);
	CREATE INDEX ON {journal} (workspace, serial, id);
	CREATE TABLE {locks} (
		workspace text PRIMARY KEY,
		lock_id   text NOT NULL,
		info      text NOT NULL,
		pid       integer NOT NULL,
		created   timestamptz NOT NULL DEFAULT now()
	);`,
	// 2: the audit trail (pg_audit.go), append-only, and the proof store
	// (pg_proofs.go), content-addressed and shared by every workspace.
	`CREATE TABLE {audit} (
		workspace  text NOT NULL,
		seq        bigint NOT NULL,
		entry      text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (workspace, seq)
	);
	CREATE FUNCTION {audit_append_only}() RETURNS trigger LANGUAGE plpgsql AS
		$$BEGIN RAISE EXCEPTION 'the postform audit trail is append-only'; END$$;
	CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {audit}
		FOR EACH ROW EXECUTE FUNCTION {audit_append_only}();
	CREATE TABLE {proofs} (
		sha256    text PRIMARY KEY,
		size      bigint NOT NULL,
		data      bytea NOT NULL,
		stored_at timestamptz NOT NULL DEFAULT now()
	);`,
	// 3: one row per letter (pgrows.go), so that a run that changes 100
	// letters of 100,000 writes 100 rows, not the whole state. The states
	// row keeps the lineage, serial and format; its data, the whole state
	// as one blob, is set only by a postform of schema 2: while it is there
	// it is the snapshot, and the next Persist splits it into rows.
	`ALTER TABLE {states} ALTER COLUMN data DROP NOT NULL;
	ALTER TABLE {states} ADD COLUMN version integer;
	ALTER TABLE {states} ADD COLUMN postform_version text;
	CREATE TABLE {mailings} (
		workspace text NOT NULL,
		address   text NOT NULL,
		mailing   text NOT NULL,
		PRIMARY KEY (workspace, address)
	) WITH (fillfactor = 90);`,
}

var tableRef = regexp.MustCompile(`\{(\w+)\}`)

// expand replaces {table} in a migration by the schema-qualified name.
func (b *PG) expand(sql string) string {
	return tableRef.ReplaceAllStringFunc(sql, func(m string) string { return b.table(m[1 : len(m)-1]) })
}

// migrate creates the schema and its tables on first use.
func (b *PG) migrate(ctx context.Context) error {
	b.migrateMu.Lock()
	defer b.migrateMu.Unlock()
	if b.migrated {
		return nil
	}
	err := b.withRawConn(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", advisoryKey(b.schema, "\x00migrate")); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{b.schema}.Sanitize()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+b.table("schema_version")+" (version integer NOT NULL)"); err != nil {
			return err
		}
		var v int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+b.table("schema_version")).Scan(&v); err != nil {
			return err
		}
		if v > len(pgMigrations) {
			return fmt.Errorf("%w: the schema %s was migrated to version %d by a newer postform; this postform understands up to %d — upgrade postform; nothing was changed",
				ErrNewerVersion, b.schema, v, len(pgMigrations))
		}
		for i := v; i < len(pgMigrations); i++ {
			if _, err := tx.Exec(ctx, b.expand(pgMigrations[i])); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+b.table("schema_version")+" (version) VALUES ($1)", i+1); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return fmt.Errorf("preparing the state schema in %s: %w", b.desc, err)
	}
	b.migrated = true
	return nil
}
