package config

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// workGroup runs functions on goroutines of their own, as a
// sync.WaitGroup does; Wait waits for them all, then panics with the first
// one's panic on the caller's goroutine, where loadWith reports it as
// Load's internal error. A panic on a goroutine nobody recovers would end
// the process without a diagnostic.
type workGroup struct {
	wg     sync.WaitGroup
	failed atomic.Pointer[string]
}

// Go runs f on a goroutine; what names it in the panic's report.
func (g *workGroup) Go(what string, f func()) {
	g.wg.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				msg := fmt.Sprintf("%v (%s)\n\n%s", r, what, debug.Stack())
				g.failed.CompareAndSwap(nil, &msg)
			}
		}()
		f()
	})
}

// Failed tells whether a goroutine has panicked: the others may stop.
func (g *workGroup) Failed() bool { return g.failed.Load() != nil }

// Wait waits for every goroutine, then panics with the first panic.
func (g *workGroup) Wait() {
	g.wg.Wait()
	if msg := g.failed.Load(); msg != nil {
		panic(*msg)
	}
}
