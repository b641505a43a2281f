package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Backend persists the state of one workspace.
//
// The contract that keeps a letter from being posted twice: after Record
// returns nil, the recorded mailings survive a crash (SIGKILL, power loss) of
// this process, and the next Load sees them.
type Backend interface {
	// Load reads the snapshot and replays any journal written after it. A
	// workspace with no state yet gives New(fresh lineage), not persisted.
	// A corrupt state, a journal of another lineage, or a state written by a
	// newer format version is refused with an error and left untouched.
	Load(ctx context.Context) (*State, error)
	// Record durably writes the current value of s.Mailings[addr] for each
	// address (a missing entry records its removal), bumping s.Serial once.
	// Its cost is proportional to the records, not to the whole state.
	Record(ctx context.Context, s *State, addrs ...string) error
	// Persist writes s as the new snapshot and folds the journal into it.
	// It bumps s.Serial only when the content changed since the last Load,
	// Record or Persist, so a refresh that learned nothing does not make a
	// saved plan stale.
	Persist(ctx context.Context, s *State) error
	// Lock takes the workspace's exclusive lock, waiting up to the context's
	// deadline. A lock held by someone else gives a *LockedError.
	Lock(ctx context.Context, info LockInfo) (Unlocker, error)
	// ForceUnlock removes a lock by its id whoever holds it.
	ForceUnlock(ctx context.Context, id string) error
	// Describe names where the state lives, for messages (never a password).
	Describe() string
	Close() error
}

// ChangePersister is a backend that can make a state durable without
// rewriting it whole when the caller knows which letters changed
// (Local.PersistChanged).
type ChangePersister interface {
	// PersistChanged is Persist for a state that differs from what the
	// backend holds (its last Load, Record or Persist) only at the
	// addresses in changed. refreshedOnly says that nothing but a
	// refresh's answers changed since the last Load or Persist (no
	// Record): only then may the backend leave them out of its snapshot.
	PersistChanged(ctx context.Context, s *State, changed []string, refreshedOnly bool) error
}

// Unlocker releases a lock.
type Unlocker interface {
	Unlock() error
}

// LockInfo says who holds a lock.
type LockInfo struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	Who       string    `json:"who"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Created   time.Time `json:"created"`
	Path      string    `json:"path,omitempty"`
}

// LockedError reports a lock held by someone else.
type LockedError struct {
	Info LockInfo
	// Where names the state, e.g. the state file path.
	Where string
}

func (e *LockedError) Error() string {
	i := e.Info
	return fmt.Sprintf("the state %s is locked by %s@%s (pid %d, %s, since %s, lock ID %s); wait with --lock-timeout=DURATION, or if that process is gone run: postform force-unlock %s",
		e.Where, i.Who, i.Host, i.PID, i.Operation, i.Created.Format(time.RFC3339), i.ID, i.ID)
}

// ErrNewerVersion marks a state written by a newer postform.
var ErrNewerVersion = errors.New("state written by a newer postform")

// Config selects and configures a backend; cli builds it from the
// configuration's postform.backend block.
type Config struct {
	// Type is "local" or "pg".
	Type string
	// Dir is the working directory; relative paths are resolved against it.
	Dir string
	// Workspace is the workspace name, "default" when empty.
	Workspace string
	// Path is the local backend's state file.
	Path string
	// ConnStr and SchemaName configure the pg backend.
	ConnStr    string
	SchemaName string
}
