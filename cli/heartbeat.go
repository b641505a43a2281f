package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// heartbeatEvery is the longest a run without a terminal stays silent while
// it waits on the platform: a CI log that shows nothing for a minute looks
// hung. POSTFORM_PROGRESS_EVERY shortens it (tests).
func heartbeatEvery() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("POSTFORM_PROGRESS_EVERY")); err == nil && d > 0 {
		return d
	}
	return 10 * time.Second
}

// heartbeat prints a plain progress line when nothing else was printed for
// heartbeatEvery: what is being waited for and for how long. Its text is
// set by the caller between refreshes, so the goroutine never reads the
// state the engine is changing.
type heartbeat struct {
	mu    sync.Mutex
	w     io.Writer
	what  string
	start time.Time
	last  time.Time
	quit  chan struct{}
	done  chan struct{}
}

func startHeartbeat(w io.Writer, what string) *heartbeat {
	now := time.Now()
	h := &heartbeat{w: w, what: what, start: now, last: now, quit: make(chan struct{}), done: make(chan struct{})}
	every := heartbeatEvery()
	go func() {
		defer close(h.done)
		t := time.NewTicker(min(every, time.Second))
		defer t.Stop()
		for {
			select {
			case <-h.quit:
				return
			case now := <-t.C:
				h.mu.Lock()
				if now.Sub(h.last) >= every {
					fmt.Fprintf(h.w, "%s (%s so far)\n", h.what, now.Sub(h.start).Truncate(time.Second))
					h.last = now
				}
				h.mu.Unlock()
			}
		}
	}()
	return h
}

// set changes what the next line says.
func (h *heartbeat) set(what string) {
	h.mu.Lock()
	h.what = what
	h.mu.Unlock()
}

// printed says a line was just written: the next heartbeat is due later.
func (h *heartbeat) printed() {
	h.mu.Lock()
	h.last = time.Now()
	h.mu.Unlock()
}

// println writes a line between heartbeats, never in the middle of one.
func (h *heartbeat) println(line string) {
	h.mu.Lock()
	fmt.Fprintln(h.w, line)
	h.last = time.Now()
	h.mu.Unlock()
}

func (h *heartbeat) stop() {
	close(h.quit)
	<-h.done
}

// stageCounts is "3 printing, 1 mailed, 2 done" for the state's letters, in
// the order of the stages: one line whatever the number of letters. It
// runs after every refresh of a wait, so it counts the map as it is rather
// than sorting 100,000 addresses first.
func stageCounts(st *state.State) (text string, done, total int) {
	counts := map[reconcile.Stage]int{}
	for _, m := range st.Mailings {
		// A terminal letter of an apply's plan-only load: decoded once,
		// here, rather than by StageOf at every round of the wait.
		if !m.DetailLoaded() {
			m.LoadDetail()
		}
		counts[reconcile.StageOf(m)]++
	}
	total = len(st.Mailings)
	done = counts[reconcile.StageDone] + counts[reconcile.StageFailed] + counts[reconcile.StageNotPosted]
	return stageList(counts), done, total
}

// stageList is "3 printing, 1 mailed" for counts, in the order of the
// stages, leaving out the empty ones.
func stageList(counts map[reconcile.Stage]int) string {
	var parts []string
	for _, s := range reconcile.Stages {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

// bar is a progress bar of width cells for done of total.
func bar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", width-filled) + "]"
}
