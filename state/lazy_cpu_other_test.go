//go:build !unix

package state

import "time"

func processCPU() time.Duration { return 0 }
