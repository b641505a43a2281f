package reconcile

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// Engine runs refresh and apply against one state and one platform.
type Engine struct {
	Client  *nirva.Client
	Backend state.Backend
	State   *state.State
	// ProofsDir is the absolute folder proofs land in.
	ProofsDir string
	// WorkDir, when set, is the working directory ProofsDir must lie in:
	// proofs are written through it, never outside, never through a link.
	WorkDir string
	// Parallelism bounds concurrent calls to the platform (default 10).
	Parallelism int
	// OnEvent receives progress; calls are serialised by the engine.
	OnEvent func(Event)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// CallTimeout bounds each platform call that runs to completion after
	// an interrupt (default 2 minutes).
	CallTimeout time.Duration
	// Lookup says when an empty job-name lookup proves an unconfirmed
	// attempt posted nothing (DefaultLookupPolicy when nil).
	Lookup *LookupPolicy

	proofsOnce sync.Once
	proofs     *safefs.Dir
	proofsErr  error

	// mu guards State.Mailings and jobs while workers run.
	mu sync.Mutex
	// jobs indexes the job ids the state holds, built on first use in a
	// run (claimJob).
	jobs map[string]jobClaim
	// unrecorded holds the addresses put in memory only (refresh answers,
	// a posted job id still queued), not yet in a durable record: what
	// Persist must write beyond the backend's journal. The engine is the
	// only writer of State.Mailings (put and recordAll), so nothing else
	// can differ from what the backend holds.
	unrecorded map[string]struct{}
	// recorded: a durable record was made since the state was loaded or
	// persisted, so Persist's changes are more than a refresh's answers.
	recorded bool
	eventMu  sync.Mutex
	// serial is the highest serial given to a record of this engine.
	serial atomic.Uint64
	// posted holds job ids waiting to be recorded with the next write.
	postedMu sync.Mutex
	posted   postedJobs
}

// EventKind says what happened.
type EventKind string

const (
	EventPosting   EventKind = "posting"   // pending record written, POST in flight
	EventPosted    EventKind = "posted"    // platform accepted the job
	EventRefused   EventKind = "refused"   // platform refused the job: nothing posted
	EventUncertain EventKind = "uncertain" // outcome unknown, left pending
	EventAdopted   EventKind = "adopted"   // a pending attempt matched an existing job
	EventResolved  EventKind = "resolved"  // a pending attempt had posted nothing
	EventForgot    EventKind = "forgot"
	EventEdited    EventKind = "edited" // pack group edit sent
	EventStage     EventKind = "stage"  // a letter moved to another stage
	EventProof     EventKind = "proof"  // a proof was downloaded
	EventProblem   EventKind = "problem"
)

// Event is one thing that happened during a run.
type Event struct {
	Kind    EventKind
	Address string
	Stage   Stage
	Detail  string
}

func (e *Engine) emit(ev Event) {
	if e.OnEvent == nil {
		return
	}
	e.eventMu.Lock()
	defer e.eventMu.Unlock()
	e.OnEvent(ev)
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) parallelism() int {
	if e.Parallelism <= 0 {
		return 10
	}
	return e.Parallelism
}

func (e *Engine) callTimeout() time.Duration {
	if e.CallTimeout <= 0 {
		return 2 * time.Minute
	}
	return e.CallTimeout
}

// get returns a copy of the state record (nil if absent).
func (e *Engine) get(addr string) *state.Mailing {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.State.Mailings[addr]
	if m == nil {
		return nil
	}
	return m.Clone()
}

// put stores m in the state without making it durable (refresh results can
// be fetched again; Persist at the end of the run writes them).
func (e *Engine) put(m *state.Mailing) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.State.Mailings[m.Address] = m
	if e.unrecorded == nil {
		e.unrecorded = map[string]struct{}{}
	}
	e.unrecorded[m.Address] = struct{}{}
}

// record stores m (or removes addr when m is nil) and makes it durable
// before returning: the journal line is fsynced or committed.
func (e *Engine) record(ctx context.Context, addr string, m *state.Mailing) error {
	if m == nil {
		return e.recordAll(ctx, nil, addr)
	}
	return e.recordAll(ctx, []*state.Mailing{m})
}

// recordAll stores several mailings, and removes the addresses in gone,
// in one durable record (one journal line, one fsync). The shared state
// changes only once the record is durable, so a failed record leaves
// nothing behind that a later Persist could write. Each record carries its
// own small state holding copies, so the backend encodes them while other
// workers change the shared map, and concurrent records share one fsync.
func (e *Engine) recordAll(ctx context.Context, ms []*state.Mailing, gone ...string) error {
	if len(ms)+len(gone) == 0 {
		return nil
	}
	one := &state.State{Version: state.FormatVersion, Lineage: e.State.Lineage,
		Serial: e.serial.Load(), Mailings: make(map[string]*state.Mailing, len(ms))}
	addrs := make([]string, 0, len(ms)+len(gone))
	for _, m := range ms {
		one.Mailings[m.Address] = m.Clone()
		addrs = append(addrs, m.Address)
	}
	addrs = append(addrs, gone...)
	e.mu.Lock()
	e.recorded = true // even if it fails: it may be on disk
	e.mu.Unlock()
	if err := e.Backend.Record(ctx, one, addrs...); err != nil {
		return err
	}
	e.noteSerial(one.Serial)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range ms {
		e.State.Mailings[m.Address] = m
		delete(e.unrecorded, m.Address)
	}
	for _, a := range gone {
		delete(e.State.Mailings, a)
		delete(e.unrecorded, a)
	}
	return nil
}

// noteSerial keeps the highest serial the backend gave a record.
func (e *Engine) noteSerial(s uint64) {
	for {
		cur := e.serial.Load()
		if s <= cur || e.serial.CompareAndSwap(cur, s) {
			return
		}
	}
}

// startRun makes sure records start from the state's serial; the backend
// hands out the serials themselves.
func (e *Engine) startRun() {
	e.noteSerial(e.State.Serial)
	e.mu.Lock()
	e.jobs = nil // rebuilt from the state as it is now
	e.mu.Unlock()
}

// endRun folds the serials of this run's records back into the state.
func (e *Engine) endRun() {
	if s := e.serial.Load(); s > e.State.Serial {
		e.State.Serial = s
	}
}

// Persist makes the state in memory durable: the backend writes its
// snapshot, folding the journal, or, when it can (state.ChangePersister),
// only the letters this engine changed without a record since, saying
// whether they are all it changed (a refresh's answers, nothing recorded).
func (e *Engine) Persist(ctx context.Context) error {
	e.endRun()
	cp, ok := e.Backend.(state.ChangePersister)
	if !ok {
		return e.Backend.Persist(ctx, e.State)
	}
	e.mu.Lock()
	changed, refreshedOnly := sortedKeys(e.unrecorded), !e.recorded
	e.mu.Unlock()
	if err := cp.PersistChanged(ctx, e.State, changed, refreshedOnly); err != nil {
		return err
	}
	e.mu.Lock()
	for _, a := range changed {
		delete(e.unrecorded, a)
	}
	e.recorded = false
	e.mu.Unlock()
	return nil
}

// forEach runs fn for each address with at most Parallelism at once, and
// stops starting new work when ctx is done.
func (e *Engine) forEach(ctx context.Context, addrs []string, fn func(addr string)) {
	sem := make(chan struct{}, e.parallelism())
	var wg sync.WaitGroup
	for _, a := range addrs {
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(a string) {
			defer wg.Done()
			defer func() { <-sem }()
			fn(a)
		}(a)
	}
	wg.Wait()
}
