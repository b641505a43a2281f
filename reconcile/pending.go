package reconcile

import (
	"context"
	"fmt"

	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// Pending lists the mailings whose posting attempt is unresolved.
func (e *Engine) Pending() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.State.AddressesWhere(func(_ string, m *state.Mailing) bool { return m.Phase == state.PhasePending })
}

func adoptJob(m *state.Mailing, j *nirva.Job) {
	m.Phase = state.PhasePosted
	m.JobID = j.ID
	if j.ServiceID != "" {
		m.ServiceID = j.ServiceID
	}
	m.JobStatus = j.Status
	m.SubmittedAt = j.Created
	if m.SubmittedAt.IsZero() {
		m.SubmittedAt = m.AttemptedAt
	}
	m.Problems = nil
}

// Import adopts an existing job into the state at addr and refreshes it.
// base carries what the configuration says of the mailing (may be nil).
func (e *Engine) Import(ctx context.Context, addr, jobID string, base *state.Mailing) error {
	e.startRun()
	if prior := e.get(addr); prior != nil && prior.Phase == state.PhasePosted && prior.JobID != jobID {
		return fmt.Errorf("%s is already in the state as job %s; remove it first with `postform state rm %s`", addr, prior.JobID, shellquote.Quote(addr))
	}
	// One job is one letter: a job tracked elsewhere is refused before the
	// platform is asked, and again under the answer's id.
	if err := e.claimJob(addr, jobID); err != nil {
		return fmt.Errorf("refusing to import job %s as %s: %w. If that is wrong, correct it first (e.g. `postform state rm` the wrong letter), then import again", jobID, addr, err)
	}
	j, err := e.Client.Job(ctx, jobID)
	if err != nil {
		e.releaseJob(addr, jobID)
		return fmt.Errorf("fetching job %s: %w", jobID, err)
	}
	if j.ID != jobID {
		e.releaseJob(addr, jobID)
		return fmt.Errorf("asked for job %s, the platform answered with job %q: nothing was imported; check the job id on the platform", jobID, j.ID)
	}
	m := base
	if m == nil {
		m = &state.Mailing{Address: addr}
	}
	if prior := e.get(addr); prior != nil && m.JobName == "" {
		m.JobName = prior.JobName
	}
	if m.JobName == "" {
		m.JobName = j.Name
	}
	adoptJob(m, j)
	m.Terminal = false
	if err := e.record(ctx, addr, m); err != nil {
		e.releaseJob(addr, jobID)
		return err
	}
	return e.refreshOne(ctx, addr)
}
