package state

import (
	"context"
	"errors"
)

// ProofStore is implemented by backends that keep proof files with the
// state (pg), so that a runner that is thrown away loses none: the engine
// stores each proof once it is written to disk, and `postform proofs pull`
// brings them back on any machine.
type ProofStore interface {
	// StoreProof keeps data under its sha256 (hex); storing the same
	// content twice keeps one copy.
	StoreProof(ctx context.Context, sha256 string, data []byte) error
	// LoadProof returns the content stored under sha256, or an error
	// wrapping ErrNoProof.
	LoadProof(ctx context.Context, sha256 string) ([]byte, error)
	// DescribeProofs names where proofs are stored, for messages.
	DescribeProofs() string
}

// ErrNoProof marks a proof the store does not hold.
var ErrNoProof = errors.New("no proof with that sha256 is stored")
