package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// The defaults of LookupPolicy. A platform may list a new job by name some
// time after creating it, or answer an empty list by mistake: an empty
// answer is believed only when several lookups spread over a while agree
// and the attempt is older than the time the platform takes to list a job.
const (
	DefaultLookupTries   = 3
	DefaultLookupWindow  = 90 * time.Second
	DefaultIndexingDelay = 2 * time.Minute
)

// LookupPolicy says when a job-name lookup that lists no job may be taken
// as proof that an unconfirmed posting attempt created nothing.
type LookupPolicy struct {
	// Tries is how many lookups a refresh makes before concluding.
	Tries int
	// Window is the time the tries are spread over.
	Window time.Duration
	// IndexingDelay is how long the platform may take to list a new job by
	// name: an empty answer about a younger attempt proves nothing.
	IndexingDelay time.Duration
}

// DefaultLookupPolicy is 3 lookups over 90 s, for attempts older than 2 min.
func DefaultLookupPolicy() LookupPolicy {
	return LookupPolicy{Tries: DefaultLookupTries, Window: DefaultLookupWindow, IndexingDelay: DefaultIndexingDelay}
}

func (e *Engine) lookupPolicy() LookupPolicy {
	if e.Lookup == nil {
		return DefaultLookupPolicy()
	}
	p := *e.Lookup
	p.Tries = max(p.Tries, 1)
	p.Window = max(p.Window, 0)
	p.IndexingDelay = max(p.IndexingDelay, 0)
	return p
}

// ResolvedNotPosted starts the problem recorded on a letter whose attempt
// was concluded to have posted nothing; the rest says why.
const ResolvedNotPosted = "an interrupted posting attempt created no job"

// resolveAllPending decides what became of the attempts whose outcome is
// unknown, in rounds: every letter is looked up by its exact job name, and
// those the platform lists no job for are looked up again after a pause,
// all together, so a thousand pending letters cost one window, not a
// thousand. An empty answer becomes "not posted" only after the last round,
// and only for an attempt older than the indexing delay; a younger one
// stays pending and says when to look again. It never posts.
func (e *Engine) resolveAllPending(ctx context.Context, addrs []string, fail func(string, error)) {
	p := e.lookupPolicy()
	var pause time.Duration
	if p.Tries > 1 {
		pause = p.Window / time.Duration(p.Tries-1)
	}
	start := e.now()
	waiting := addrs
	for try := 1; len(waiting) > 0; try++ {
		var mu sync.Mutex
		var again []string
		left := pause * time.Duration(p.Tries-try) // time the later tries still cover
		e.forEach(ctx, waiting, func(addr string) {
			found, err := e.lookupPending(ctx, addr)
			if err != nil || found {
				if err != nil {
					fail(addr, err)
				}
				return
			}
			m := e.get(addr)
			age := e.now().Sub(m.AttemptedAt)
			if age+left < p.IndexingDelay {
				// Even the last try would come too early: do not wait for it.
				fail(addr, tooRecent(m, age, p))
				return
			}
			if try < p.Tries {
				mu.Lock()
				again = append(again, addr)
				mu.Unlock()
				return
			}
			if err := e.concludeNotPosted(ctx, m, try, e.now().Sub(start), age); err != nil {
				fail(addr, err)
			}
		})
		if len(again) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			for _, a := range again {
				fail(a, fmt.Errorf("interrupted while looking job %q up again: the letter stays pending and the next run looks again before posting anything", e.get(a).JobName))
			}
			return
		case <-time.After(pause):
		}
		waiting = again
	}
}

// tooRecent is the error of a letter left pending because the platform may
// not list its job yet.
func tooRecent(m *state.Mailing, age time.Duration, p LookupPolicy) error {
	after := m.AttemptedAt.Add(p.IndexingDelay).Local().Format("15:04:05")
	return fmt.Errorf("no job named %q is listed yet, but its posting attempt was made only %s ago and the platform may take up to %s to list a new job: the letter stays pending. Run plan or apply again after %s; or, if you know, `postform import %s JOB_ID` (it was posted) or `postform state resolve %s --not-posted` (it was not)",
		m.JobName, roundDuration(age), roundDuration(p.IndexingDelay), after, shellquote.Quote(m.Address), shellquote.Quote(m.Address))
}

// concludeNotPosted records that an attempt created no job, saying why.
func (e *Engine) concludeNotPosted(ctx context.Context, m *state.Mailing, tries int, over, age time.Duration) error {
	why := fmt.Sprintf("looked up %s over %s, attempt made %s ago", timesWord(tries), roundDuration(over), roundDuration(age))
	m.Phase = state.PhaseNotPosted
	m.Problems = []string{fmt.Sprintf("%s (no job named %q: %s)", ResolvedNotPosted, m.JobName, why)}
	if err := e.record(context.WithoutCancel(ctx), m.Address, m); err != nil {
		return err
	}
	e.emit(Event{Kind: EventResolved, Address: m.Address, Stage: StageNotPosted, Detail: "not posted: " + why})
	return nil
}

func timesWord(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// roundDuration keeps messages readable: whole seconds, or milliseconds
// under a second.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second || d <= -time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// resolvePending looks an unconfirmed attempt up once, right after its POST
// went unanswered: a match is adopted, but no match proves nothing yet.
func (e *Engine) resolvePending(ctx context.Context, addr string) error {
	found, err := e.lookupPending(ctx, addr)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no job named %q is listed yet; the letter stays pending and the next run looks again before posting anything", e.get(addr).JobName)
	}
	return nil
}

// lookupPending looks a pending letter's job up by its exact name and
// adopts a single match. found is false when the platform lists no job of
// that name (apart from jobs this letter replaced).
func (e *Engine) lookupPending(ctx context.Context, addr string) (found bool, err error) {
	m := e.get(addr)
	jobs, err := e.Client.JobsByName(ctx, m.JobName)
	if errors.Is(err, nirva.ErrLookupUnavailable) {
		return false, fmt.Errorf("its last posting attempt (job name %q, %s) is unresolved and the platform cannot look jobs up by name: if it was posted, run `postform import %s JOB_ID`; if it was not, run `postform state resolve %s --not-posted`",
			m.JobName, m.AttemptedAt.Format("2006-01-02 15:04:05"), shellquote.Quote(addr), shellquote.Quote(addr))
	}
	if err != nil {
		return false, fmt.Errorf("looking up job %q to resolve an interrupted posting: %w", m.JobName, err)
	}
	jobs = slices.DeleteFunc(jobs, func(j nirva.Job) bool {
		return slices.ContainsFunc(m.Superseded, func(s state.SupersededJob) bool { return s.JobID == j.ID })
	})
	switch len(jobs) {
	case 0:
		return false, nil
	case 1:
		j := jobs[0]
		if m.ServiceID != "" && j.ServiceID != "" && j.ServiceID != m.ServiceID {
			return true, fmt.Errorf("the only job named %q (job %s) uses service %s, not %s: check it on the platform, then `postform import %s %s` or `postform state resolve %s --not-posted`",
				m.JobName, j.ID, j.ServiceID, m.ServiceID, shellquote.Quote(addr), shellquote.Quote(j.ID), shellquote.Quote(addr))
		}
		if err := e.claimJob(addr, j.ID); err != nil {
			return true, fmt.Errorf("the platform lists job %s under the name %q, but %w; the letter stays pending: check the job on the platform, then `postform import %s JOB_ID` with this letter's own job, or `postform state resolve %s --not-posted`",
				j.ID, m.JobName, err, shellquote.Quote(addr), shellquote.Quote(addr))
		}
		adoptJob(m, &j)
		if err := e.record(context.WithoutCancel(ctx), addr, m); err != nil {
			e.releaseJob(addr, j.ID)
			return true, err
		}
		e.emit(Event{Kind: EventAdopted, Address: addr, Stage: StageOf(m), Detail: "job " + j.ID + " was posted by the interrupted run"})
		return true, nil
	default:
		ids := make([]string, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ID
		}
		return true, fmt.Errorf("%d jobs are named %q (%s): postform cannot tell which is this letter's; adopt one with `postform import %s JOB_ID`",
			len(jobs), m.JobName, strings.Join(ids, ", "), shellquote.Quote(addr))
	}
}

// jobClaim says which letter holds a job id, and whether as the job it
// replaced.
type jobClaim struct {
	addr       string
	superseded bool
}

// claimJob gives jobID to the letter at addr, or says which other letter
// holds it: one job is one letter, and a platform that answers two letters
// with one job id must not make postform lose track of one of them. It is
// atomic across workers. A letter re-claiming its own job is fine; claiming
// the job it replaced is not.
func (e *Engine) claimJob(addr, jobID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.jobs == nil {
		jobs := map[string]jobClaim{}
		for a, m := range e.State.Mailings {
			// A terminal letter of a state loaded for a refresh keeps its
			// detail as JSON: its replaced jobs are read from it.
			superseded, err := m.SupersededJobs()
			if err != nil {
				return fmt.Errorf("the jobs other letters replaced cannot be read (%w), so job %s cannot be checked against them", err, jobID)
			}
			for _, s := range superseded {
				jobs[s.JobID] = jobClaim{addr: a, superseded: true}
			}
			if m.JobID != "" && m.Phase == state.PhasePosted {
				jobs[m.JobID] = jobClaim{addr: a}
			}
		}
		e.jobs = jobs
	}
	// The index is built once a run; the jobs this letter replaced since
	// (its pending record moved them to Superseded) are read afresh: a
	// platform answering a re-post with the old job's id must not make the
	// new job untracked.
	if m := e.State.Mailings[addr]; m != nil {
		superseded, err := m.SupersededJobs()
		if err != nil {
			return fmt.Errorf("the jobs %s replaced cannot be read (%w), so job %s cannot be checked against them", addr, err, jobID)
		}
		for _, s := range superseded {
			if s.JobID == jobID {
				return fmt.Errorf("job %s is the job %s replaced (--replace), not a new one", jobID, addr)
			}
		}
	}
	if c, ok := e.jobs[jobID]; ok && (c.addr != addr || c.superseded) {
		if c.superseded {
			return fmt.Errorf("job %s is the job %s replaced (--replace), not a new one", jobID, c.addr)
		}
		return fmt.Errorf("job %s is already tracked as %s", jobID, c.addr)
	}
	e.jobs[jobID] = jobClaim{addr: addr}
	return nil
}

// releaseJob undoes a claim whose record could not be written.
func (e *Engine) releaseJob(addr, jobID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.jobs[jobID]; ok && c.addr == addr && !c.superseded {
		delete(e.jobs, jobID)
	}
}
