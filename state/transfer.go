package state

import (
	"bytes"
	"context"
	"fmt"
)

// pusher is implemented by the backends: replace the stored state with s,
// serial included, folding away any journal.
type pusher interface {
	push(ctx context.Context, s *State, force bool) error
}

// Pull returns the backend's state (snapshot plus journal) as a state file,
// for `postform state pull` and migrations. It changes nothing, so it loads
// as a plan does: terminal letters' detail is copied, not decoded.
func Pull(ctx context.Context, b Backend) ([]byte, error) {
	s, err := LoadForPlan(ctx, b)
	if err != nil {
		return nil, err
	}
	return Encode(s)
}

// Push stores data as the backend's state, exactly as given (its serial
// included), for `postform state push` and `init --migrate-state`. Unless
// force is set it refuses a state of another lineage, a lower serial, and
// different content under the same serial. The caller holds the lock.
func Push(ctx context.Context, b Backend, data []byte, force bool) error {
	s, err := Decode(data)
	if err != nil {
		return err
	}
	p, ok := b.(pusher)
	if !ok {
		return fmt.Errorf("the backend %s does not support push", b.Describe())
	}
	return p.push(ctx, s, force)
}

// checkPush refuses to replace cur with s when that would lose records.
func checkPush(cur, s *State, where string) error {
	if emptyState(cur) && cur.Serial == 0 {
		return nil
	}
	if cur.Lineage != s.Lineage {
		return fmt.Errorf("refusing to push: %s holds a state of lineage %s and the pushed state has lineage %s — they are different states; use --force only if you mean to replace it", where, cur.Lineage, s.Lineage)
	}
	if s.Serial < cur.Serial {
		return fmt.Errorf("refusing to push: %s is at serial %d and the pushed state at serial %d, older; use --force only if you mean to go back", where, cur.Serial, s.Serial)
	}
	if s.Serial == cur.Serial {
		a, err1 := encodeWithSerial(cur, 0)
		b, err2 := encodeWithSerial(s, 0)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			return fmt.Errorf("refusing to push: %s is at serial %d and the pushed state has the same serial with different content; use --force only if you mean to replace it", where, cur.Serial)
		}
	}
	return nil
}
