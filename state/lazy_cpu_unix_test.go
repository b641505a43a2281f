//go:build unix

package state

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process used so far, in user space and
// in the kernel: what a benchmark's wall time does not show on a shared
// machine.
func processCPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
