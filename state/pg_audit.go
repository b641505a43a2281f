package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AppendAudit inserts entry seq of the workspace's audit trail. The
// primary key (workspace, seq) refuses a second entry with the same number,
// so two writers cannot fork the chain; a trigger refuses UPDATE and
// DELETE on the table.
func (b *PG) AppendAudit(ctx context.Context, seq uint64, line []byte) error {
	err := b.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "INSERT INTO "+b.table("audit")+" (workspace, seq, entry) VALUES ($1, $2, $3)", b.workspace, int64(seq), string(line))
		return err
	})
	if err != nil {
		return fmt.Errorf("appending to the audit trail in %s: %w", b.desc, err)
	}
	return nil
}

// ReadAudit returns the workspace's audit entries in order.
func (b *PG) ReadAudit(ctx context.Context) ([][]byte, error) {
	var lines [][]byte
	err := b.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT entry FROM "+b.table("audit")+" WHERE workspace = $1 ORDER BY seq", b.workspace)
		if err != nil {
			return err
		}
		var s string
		_, err = pgx.ForEachRow(rows, []any{&s}, func() error {
			lines = append(lines, []byte(s))
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail in %s: %w", b.desc, err)
	}
	return lines, nil
}

// LastAudit returns the workspace's last audit entry, or nil.
func (b *PG) LastAudit(ctx context.Context) ([]byte, error) {
	var s *string
	err := b.withConn(ctx, func(c *pgx.Conn) error {
		err := c.QueryRow(ctx, "SELECT entry FROM "+b.table("audit")+" WHERE workspace = $1 ORDER BY seq DESC LIMIT 1", b.workspace).Scan(&s)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail in %s: %w", b.desc, err)
	}
	if s == nil {
		return nil, nil
	}
	return []byte(*s), nil
}

// DescribeAudit names where the audit trail is kept.
func (b *PG) DescribeAudit() string { return "the audit table of " + b.desc }
