package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/postform/postform/internal/filelock"
	"github.com/postform/postform/internal/safefs"
)

// The local lock is an exclusive file lock (flock on unix, LockFileEx on
// Windows: internal/filelock) on <path>.lock, opened through safefs and held
// on that open file for as long as the lock is held. The kernel releases it when the
// process dies, however it dies, so a killed run never leaves the state
// locked; the LockInfo written into the file is only there to say who holds
// it. ForceUnlock exists for stale information and for the pg backend.

// fillLockInfo completes the fields a caller left empty.
func fillLockInfo(info LockInfo, where string) LockInfo {
	if info.ID == "" {
		info.ID = uuid.NewString()
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC()
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	if info.Host == "" {
		info.Host, _ = os.Hostname()
	}
	if info.Who == "" {
		if u, err := user.Current(); err == nil {
			info.Who = u.Username
		}
	}
	if info.Path == "" {
		info.Path = where
	}
	return info
}

// retryLock calls try until it succeeds, fails, or the context's deadline
// passes, backing off between attempts. Without a deadline it tries once.
// try returns the holder's info when the lock is taken.
func retryLock(ctx context.Context, where string, try func() (bool, LockInfo, error)) error {
	delay := 20 * time.Millisecond
	for {
		ok, holder, err := try()
		if err != nil || ok {
			return err
		}
		deadline, has := ctx.Deadline()
		if !has || ctx.Err() != nil || time.Until(deadline) <= 0 {
			return &LockedError{Info: holder, Where: where}
		}
		wait := min(delay, time.Until(deadline))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		delay = min(delay*2, time.Second)
	}
}

// Lock takes the state file's lock, waiting up to ctx's deadline.
func (b *Local) Lock(ctx context.Context, info LockInfo) (Unlocker, error) {
	info = fillLockInfo(info, b.path)
	var held *os.File
	err := retryLock(ctx, b.Describe(), func() (bool, LockInfo, error) {
		f, ok, err := tryFlock(b.fs, b.lockRel())
		if err != nil || !ok {
			holder, _ := readLockFile(b.fs, b.lockRel())
			return false, holder, err
		}
		held = f
		return true, LockInfo{}, nil
	})
	if err != nil {
		return nil, err
	}
	data, _ := json.MarshalIndent(info, "", "  ")
	data = append(data, '\n')
	err = held.Truncate(0)
	if err == nil {
		_, err = held.WriteAt(data, 0)
	}
	if err != nil {
		unlockFile(b.fs, held, b.lockRel())
		return nil, fmt.Errorf("writing the lock file %s: %w", b.lockPath(), err)
	}
	return &localLock{f: held, fs: b.fs, name: b.lockRel()}, nil
}

// tryFlock opens path and tries to lock it without waiting. It makes sure
// the locked file is still the one at path: a holder unlocking removes the
// file, and a lock on a removed file excludes nobody.
func tryFlock(fsys *safefs.Dir, name string) (*os.File, bool, error) {
	path := fsys.Join(name)
	for range 10 {
		f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, false, fmt.Errorf("opening the lock file: %w", err)
		}
		ok, err := filelock.TryLock(f)
		if err != nil || !ok {
			f.Close()
			if err != nil {
				return nil, false, fmt.Errorf("locking %s: %w", path, err)
			}
			return nil, false, nil
		}
		fi, err1 := f.Stat()
		pi, err2 := fsys.Lstat(name)
		if err1 == nil && err2 == nil && os.SameFile(fi, pi) {
			return f, true, nil
		}
		f.Close() // removed or replaced meanwhile: try the new file
	}
	return nil, false, nil
}

func readLockFile(fsys *safefs.Dir, name string) (LockInfo, error) {
	var info LockInfo
	data, err := fsys.ReadFile(name)
	if err != nil {
		return info, err
	}
	if len(data) == 0 {
		return info, errors.New("the lock file holds no information yet")
	}
	err = json.Unmarshal(data, &info)
	return info, err
}

// unlockFile removes the lock file while still holding the lock, then
// releases it: a waiter that locks the removed file notices and retries.
func unlockFile(fsys *safefs.Dir, f *os.File, name string) error {
	err := fsys.Remove(name) // a missing file was force-unlocked meanwhile
	filelock.Unlock(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type localLock struct {
	once sync.Once
	f    *os.File
	fs   *safefs.Dir
	name string
	err  error
}

// Unlock removes the lock information and releases the lock. Calling it
// again does nothing.
func (l *localLock) Unlock() error {
	l.once.Do(func() {
		// Remove only our own file: after a force-unlock the path may hold
		// another holder's lock.
		fi, err1 := l.f.Stat()
		pi, err2 := l.fs.Lstat(l.name)
		if err1 == nil && err2 == nil && os.SameFile(fi, pi) {
			l.err = unlockFile(l.fs, l.f, l.name)
			return
		}
		filelock.Unlock(l.f)
		l.err = l.f.Close()
	})
	return l.err
}

// ForceUnlock removes the lock file when its information has that id. A
// local lock of a process that died is released by the kernel anyway; this
// is for a lock file whose holder is alive but stuck and must be overridden
// (the stuck process keeps running — stop it first).
func (b *Local) ForceUnlock(ctx context.Context, id string) error {
	info, err := readLockFile(b.fs, b.lockRel())
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the state %s is not locked", b.Describe())
	}
	if err != nil {
		return fmt.Errorf("reading the lock file %s: %w", b.lockPath(), err)
	}
	if info.ID != id {
		return fmt.Errorf("lock ID %q does not match the lock on %s, whose ID is %q", id, b.Describe(), info.ID)
	}
	return b.fs.Remove(b.lockRel())
}
