package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/postform/postform/internal/filelock"
	"github.com/postform/postform/internal/safefs"
)

// lockDir takes an exclusive, non-blocking lock on name, held until
// unlockDir (or the process ends): two processes never serve one world.
func lockDir(fsys *safefs.Dir, name string) (*os.File, error) {
	path := fsys.Join(name)
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	ok, err := filelock.TryLock(f)
	if errors.Is(err, filelock.ErrUnsupported) {
		return f, nil // no file locks here: two processes are not detected
	}
	if err != nil || !ok {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("sandbox: locking %s: %w", path, err)
		}
		return nil, fmt.Errorf("sandbox: the world in %s is in use by another process (lock %s)", filepath.Dir(path), path)
	}
	return f, nil
}

func unlockDir(f *os.File) {
	filelock.Unlock(f)
	f.Close()
}
