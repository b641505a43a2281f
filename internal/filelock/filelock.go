// Package filelock takes an exclusive, advisory lock on a file that is
// already open, so that callers choose how it is opened (postform opens
// its lock files through internal/safefs, never through a symbolic link,
// which path-based lock libraries such as gofrs/flock cannot do). The
// operating system releases the lock when the process ends, however it
// ends.
package filelock

import "errors"

// ErrUnsupported is returned where the platform has no file locks.
var ErrUnsupported = errors.New("file locks are not supported on this platform")
