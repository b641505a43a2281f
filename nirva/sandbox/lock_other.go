//go:build !unix

package sandbox

import (
	"fmt"
	"os"

	"github.com/postform/postform/internal/safefs"
)

// lockDir on platforms without flock only creates the lock file: two
// processes sharing a sandbox directory are not detected there.
func lockDir(fsys *safefs.Dir, name string) (*os.File, error) {
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return f, nil
}

func unlockDir(f *os.File) { f.Close() }
