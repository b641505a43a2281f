//go:build unix

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/postform/postform/internal/safefs"
)

// lockDir takes an exclusive, non-blocking flock on path, held until
// unlockDir (or the process ends).
func lockDir(fsys *safefs.Dir, name string) (*os.File, error) {
	path := fsys.Join(name)
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sandbox: the world in %s is in use by another process (lock %s)", filepath.Dir(path), path)
		}
		return nil, fmt.Errorf("sandbox: locking %s: %w", path, err)
	}
	return f, nil
}

func unlockDir(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}
