package nirva

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds on what one call may take, so that a broken or hostile platform
// cannot hang a run or fill the disk or memory. Each has a Config field.
const (
	// MaxJSONBody is the largest JSON answer read; a larger one is an
	// error, never a truncated decode. The largest expected answer (the
	// deliveries of one letter, a profile with its services) is a few KiB.
	MaxJSONBody = 8 << 20
	// DefaultMaxProofSize bounds one downloaded proof (ACKN, CERTIF,
	// TRACKING_DETAIL): a scanned acknowledgement is a few hundred KiB.
	DefaultMaxProofSize = 50 << 20
	// DefaultIdleTimeout: an attempt during which not one byte is sent or
	// received for this long has stalled (waiting for the answer's headers
	// included).
	DefaultIdleTimeout = 30 * time.Second
	// DefaultRequestTimeout bounds each attempt of a call, its answer
	// read whole: a trickle of one byte a second ends too.
	DefaultRequestTimeout = 2 * time.Minute
	// DefaultUploadTimeout bounds each POST /jobs (a form of up to a few
	// tens of MiB: 10 minutes is about 35 KiB/s for 20 MiB).
	DefaultUploadTimeout = 10 * time.Minute
)

// ErrStalled is wrapped by every error of a call that ended because the
// platform stopped sending or receiving (the idle timeout) or did not
// finish within the call's deadline.
var ErrStalled = errors.New("the platform stalled")

// ErrTooLarge is wrapped by the error of an answer over its size limit.
var ErrTooLarge = errors.New("the platform's answer is too large")

// guard bounds one attempt: it cancels the attempt's context with a
// cause when no byte moved for idle, or when the attempt outlived its
// deadline. The transport and the body readers then fail with that cause.
type guard struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   context.CancelFunc
	idle   time.Duration
	last   atomic.Int64 // unix nanoseconds of the last byte moved
	// waiting: the attempt waits on the platform (sending, waiting for the
	// headers, or inside a body read); time the caller spends between
	// reads (decoding, writing a proof) is not the platform's stall.
	waiting atomic.Bool
	timer   *time.Timer
	once    sync.Once
}

func newGuard(parent context.Context, idle, deadline time.Duration) *guard {
	g := &guard{idle: idle}
	ctx, cancel := context.WithCancelCause(parent)
	g.ctx, g.cancel = ctx, cancel
	g.ctx, g.stop = context.WithTimeoutCause(ctx, deadline,
		fmt.Errorf("%w: the call did not finish within %s; try again later, or ask the platform's operator", ErrStalled, deadline))
	g.kick()
	g.waiting.Store(true)
	g.timer = time.AfterFunc(time.Hour, g.check)
	g.timer.Reset(idle) // after the assignment: check reads g.timer
	return g
}

// kick records progress; it is called on every read, so it only stores a
// time: the timer re-arms itself when it finds recent progress.
func (g *guard) kick() { g.last.Store(time.Now().UnixNano()) }

func (g *guard) check() {
	quiet := time.Since(time.Unix(0, g.last.Load()))
	if !g.waiting.Load() {
		quiet = 0
	}
	if quiet < g.idle {
		g.timer.Reset(g.idle - quiet)
		return
	}
	g.cancel(fmt.Errorf("%w: nothing sent or received for %s; try again later, or ask the platform's operator", ErrStalled, g.idle))
}

// done ends the attempt: the timer stops and the request's context is
// cancelled, which also closes the connection of an unread answer.
func (g *guard) done() {
	g.once.Do(func() {
		g.timer.Stop()
		g.stop()
		g.cancel(nil)
	})
}

// stalled returns the guard's own cause when it ended the attempt.
func (g *guard) stalled() error {
	if cause := context.Cause(g.ctx); errors.Is(cause, ErrStalled) {
		return cause
	}
	return nil
}

// progressReader kicks the guard on every read of a request body (the
// transport reads it as it sends it).
type progressReader struct {
	io.ReadCloser
	g *guard
}

func (r progressReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		r.g.kick()
	}
	return n, err
}

// guardedBody is an answer's body: reads kick the guard, a read past
// limit fails with ErrTooLarge, a read cut by the guard fails with its
// cause, and Close ends the attempt.
type guardedBody struct {
	rc    io.ReadCloser
	g     *guard
	what  string // "GET /deliveries?jobId=1", for errors
	limit int64  // < 0: none
	read  int64
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if b.limit >= 0 && int64(len(p)) > b.limit-b.read+1 {
		p = p[:b.limit-b.read+1] // one byte more than allowed tells "over"
	}
	b.g.kick()
	b.g.waiting.Store(true)
	n, err := b.rc.Read(p)
	b.g.waiting.Store(false)
	b.g.kick()
	b.read += int64(n)
	if b.limit >= 0 && b.read > b.limit {
		return n - int(b.read-b.limit), fmt.Errorf("%s: %w: more than %s", b.what, ErrTooLarge, sizeText(b.limit))
	}
	if err != nil && err != io.EOF {
		if cause := b.g.stalled(); cause != nil {
			err = fmt.Errorf("%s: %w", b.what, cause)
		}
	}
	return n, err
}

func (b *guardedBody) Close() error {
	err := b.rc.Close()
	b.g.done()
	return err
}

// sizeText renders a byte count for a user: 50 MiB, 512 KiB, 300 bytes.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
