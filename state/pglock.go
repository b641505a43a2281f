package state

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// advisoryKey is the pg_advisory_lock key of a workspace of a schema.
// Advisory locks are per database, so the schema is part of the key.
func advisoryKey(schema, workspace string) int64 {
	sum := sha256.Sum256([]byte("postform\x00" + schema + "\x00" + workspace))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// Lock takes the workspace's advisory lock on a dedicated connection kept
// open until Unlock, polling pg_try_advisory_lock until ctx's deadline.
func (b *PG) Lock(ctx context.Context, info LockInfo) (Unlocker, error) {
	info = fillLockInfo(info, b.desc)
	// Connecting is not waiting for the lock: a zero lock timeout means
	// "fail at once if held", not "fail before reaching the database".
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := b.migrate(cctx); err != nil {
		return nil, err
	}
	c, err := pgx.ConnectConfig(cctx, b.connConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connecting to the state database %s: %w", b.desc, err)
	}
	key := advisoryKey(b.schema, b.workspace)
	q := context.WithoutCancel(ctx)
	err = retryLock(ctx, b.desc, func() (bool, LockInfo, error) {
		var ok bool
		if err := c.QueryRow(q, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
			return false, LockInfo{}, fmt.Errorf("taking the state lock in %s: %w", b.desc, err)
		}
		if ok {
			return true, LockInfo{}, nil
		}
		holder, _ := b.lockInfo(q, c)
		return false, holder, nil
	})
	if err != nil {
		c.Close(context.Background())
		return nil, err
	}
	var pid int32
	if err := c.QueryRow(q, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		c.Close(context.Background())
		return nil, fmt.Errorf("taking the state lock in %s: %w", b.desc, err)
	}
	data, _ := json.Marshal(info)
	// A row left by a holder that died is stale: overwrite it.
	if _, err := c.Exec(q, "INSERT INTO "+b.table("locks")+` (workspace, lock_id, info, pid, created) VALUES ($1, $2, $3, pg_backend_pid(), now())
		ON CONFLICT (workspace) DO UPDATE SET lock_id = EXCLUDED.lock_id, info = EXCLUDED.info, pid = EXCLUDED.pid, created = EXCLUDED.created`,
		b.workspace, info.ID, string(data)); err != nil {
		c.Close(context.Background())
		return nil, fmt.Errorf("recording the state lock in %s: %w", b.desc, err)
	}
	b.mu.Lock()
	b.fencePID = pid
	b.mu.Unlock()
	return &pgLock{b: b, c: c, id: info.ID, key: key}, nil
}

// lockHeld is the SQL condition that the advisory lock taken by Lock is
// still held by its session (argument: that session's pid). Records and
// snapshots written under a lock check it in their own statement, so a run
// whose lock connection dropped (and whose lock another run may now hold)
// cannot write: it stops instead of posting beside the new holder.
const lockHeld = `EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %s)`

func errLockLost(desc string) error {
	return fmt.Errorf("the state lock in %s was lost (its connection ended: reset, timeout, or force-unlock): stopping before writing; nothing more is posted by this run, and the next run resolves what was in flight", desc)
}

func (b *PG) lockInfo(ctx context.Context, c *pgx.Conn) (LockInfo, error) {
	var info LockInfo
	var data string
	err := c.QueryRow(ctx, "SELECT info FROM "+b.table("locks")+" WHERE workspace = $1", b.workspace).Scan(&data)
	if err != nil {
		return info, err
	}
	err = json.Unmarshal([]byte(data), &info)
	return info, err
}

type pgLock struct {
	b    *PG
	c    *pgx.Conn
	id   string
	key  int64
	once sync.Once
	err  error
}

// Unlock deletes the lock information, releases the advisory lock and closes
// the dedicated connection. Calling it again does nothing.
func (l *pgLock) Unlock() error {
	l.once.Do(func() {
		l.b.mu.Lock()
		l.b.fencePID = 0
		l.b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := l.c.Exec(ctx, "DELETE FROM "+l.b.table("locks")+" WHERE workspace = $1 AND lock_id = $2", l.b.workspace, l.id)
		var released bool
		if err == nil {
			err = l.c.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", l.key).Scan(&released)
		}
		if err == nil && !released {
			err = fmt.Errorf("the state lock in %s was lost before Unlock (force-unlocked, or the connection was reset)", l.b.desc)
		}
		if cerr := l.c.Close(ctx); err == nil {
			err = cerr
		}
		l.err = err
	})
	return l.err
}

// ForceUnlock ends the session holding the lock with that id
// (pg_terminate_backend), which releases it, and deletes the lock row. The
// session is ended only if it still holds this workspace's advisory lock, so
// a stale row never ends an unrelated session.
func (b *PG) ForceUnlock(ctx context.Context, id string) error {
	return b.withConn(ctx, func(c *pgx.Conn) error {
		var lockID string
		var pid int32
		err := c.QueryRow(ctx, "SELECT lock_id, pid FROM "+b.table("locks")+" WHERE workspace = $1", b.workspace).Scan(&lockID, &pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("the state %s is not locked (no lock information recorded)", b.desc)
		}
		if err != nil {
			return err
		}
		if lockID != id {
			return fmt.Errorf("lock ID %q does not match the lock on %s, whose ID is %q", id, b.desc, lockID)
		}
		key := advisoryKey(b.schema, b.workspace)
		var holds bool
		err = c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND l.granted AND l.pid = $1 AND d.datname = current_database()
			AND l.classid::bigint = $2 AND l.objid::bigint = $3 AND l.objsubid = 1)`,
			pid, int64(uint64(key)>>32), int64(uint64(key)&0xffffffff)).Scan(&holds)
		if err != nil {
			return err
		}
		if holds {
			var ended bool
			if err := c.QueryRow(ctx, "SELECT pg_terminate_backend($1, 10000)", pid).Scan(&ended); err != nil {
				return fmt.Errorf("ending the session (pid %d) that holds the lock on %s: %w", pid, b.desc, err)
			}
			if !ended {
				return fmt.Errorf("the session (pid %d) holding the lock on %s did not end", pid, b.desc)
			}
		}
		_, err = c.Exec(ctx, "DELETE FROM "+b.table("locks")+" WHERE workspace = $1 AND lock_id = $2", b.workspace, id)
		return err
	})
}

// List returns "default" and every workspace with a snapshot or journal.
func (b *PG) List(ctx context.Context) ([]string, error) {
	names := []string{DefaultWorkspace}
	err := b.withConn(ctx, func(c *pgx.Conn) error {
		r, err := c.Query(ctx, "SELECT workspace FROM "+b.table("states")+" UNION SELECT workspace FROM "+b.table("journal"))
		if err != nil {
			return err
		}
		var ws string
		_, err = pgx.ForEachRow(r, []any{&ws}, func() error {
			if ws != DefaultWorkspace {
				names = append(names, ws)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing workspaces in %s: %w", b.desc, err)
	}
	sort.Strings(names[1:])
	return names, nil
}

// Delete removes a workspace's rows once its state is empty.
func (b *PG) Delete(ctx context.Context, name string) error {
	if err := ValidateWorkspaceName(name); err != nil {
		return err
	}
	if name == DefaultWorkspace {
		return errors.New(`the "default" workspace cannot be deleted`)
	}
	names, err := b.List(ctx)
	if err != nil {
		return err
	}
	found := false
	for _, n := range names {
		found = found || n == name
	}
	if !found {
		return fmt.Errorf("workspace %q does not exist", name)
	}
	other := &PG{connConfig: b.connConfig, schema: b.schema, workspace: name,
		sem: make(chan struct{}, 1), idle: make(chan *pgx.Conn, 1), migrated: true}
	other.desc = describePG(b.connConfig, b.schema, name)
	defer other.Close()
	unlock, err := lockEmptyWorkspace(ctx, other, name)
	if err != nil {
		return err
	}
	defer unlock.Unlock()
	return other.withConn(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, t := range []string{"states", "mailings", "journal"} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+b.table(t)+" WHERE workspace = $1", name); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
}
