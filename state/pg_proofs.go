package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// StoreProof inserts data into the proofs table, keyed by its sha256; a
// content already stored is kept as it is. The hash is checked here so that
// the table holds only content that matches its key.
func (b *PG) StoreProof(ctx context.Context, sum string, data []byte) error {
	got := sha256.Sum256(data)
	if hex.EncodeToString(got[:]) != sum {
		return fmt.Errorf("storing a proof in %s: its content does not have the sha256 %s it was given", b.desc, sum)
	}
	err := b.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "INSERT INTO "+b.table("proofs")+" (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING", sum, int64(len(data)), data)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing a proof in %s: %w", b.desc, err)
	}
	return nil
}

// LoadProof reads the proof stored under sum and checks its hash.
func (b *PG) LoadProof(ctx context.Context, sum string) ([]byte, error) {
	var data []byte
	err := b.withConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT data FROM "+b.table("proofs")+" WHERE sha256 = $1", sum).Scan(&data)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w in %s: %s", ErrNoProof, b.desc, sum)
	}
	if err != nil {
		return nil, fmt.Errorf("reading a proof from %s: %w", b.desc, err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("the proof stored in %s under sha256 %s has another content: the table was altered", b.desc, sum)
	}
	return data, nil
}

// DescribeProofs names the proofs table.
func (b *PG) DescribeProofs() string { return "the proofs table of " + b.desc }
