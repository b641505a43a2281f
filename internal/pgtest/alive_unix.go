//go:build unix

package pgtest

import (
	"errors"
	"io/fs"
	"syscall"
)

// processAlive reports whether a process pid exists (EPERM: it does, and
// is someone else's).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// fileOwner is the uid owning a file.
func fileOwner(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
