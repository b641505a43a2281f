//go:build unix

package state

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process used so far, user and system:
// what a benchmark's wall time does not show on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
