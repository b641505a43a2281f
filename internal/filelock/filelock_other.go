//go:build !unix && !windows

package filelock

import "os"

// TryLock fails: this platform has no file locks.
func TryLock(f *os.File) (bool, error) { return false, ErrUnsupported }

// Unlock does nothing.
func Unlock(f *os.File) error { return nil }
