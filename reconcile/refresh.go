package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// RefreshResult says what a refresh did.
type RefreshResult struct {
	// Refreshed counts the mailings asked of the platform; terminal ones
	// cost nothing and are not counted.
	Refreshed int
	// Errors are per-address failures; the rest of the refresh went on.
	Errors map[string]error
}

// Err joins the per-address errors, or nil.
func (r *RefreshResult) Err() error { return joinByAddress(r.Errors) }

// joinByAddress joins per-address errors in address order, or nil.
func joinByAddress(byAddr map[string]error) error {
	var errs []error
	for _, a := range sortedKeys(byAddr) {
		errs = append(errs, fmt.Errorf("%s: %w", a, byAddr[a]))
	}
	return errors.Join(errs...)
}

// NeedsRefresh lists the posted mailings that are not terminal.
func (e *Engine) NeedsRefresh() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.State.AddressesWhere(func(_ string, m *state.Mailing) bool { return m.Phase == state.PhasePosted && !m.Terminal })
}

// Refresh resolves pending attempts, then asks the platform about every
// posted mailing that is not terminal, downloads the proofs that appeared,
// and updates the state in memory (Persist writes it).
func (e *Engine) Refresh(ctx context.Context) *RefreshResult {
	e.startRun()
	res := &RefreshResult{Errors: map[string]error{}}
	var errMu sync.Mutex
	fail := func(addr string, err error) {
		errMu.Lock()
		defer errMu.Unlock()
		res.Errors[addr] = err
	}
	e.resolveAllPending(ctx, e.Pending(), fail)
	todo := e.NeedsRefresh()
	res.Refreshed = len(todo)
	e.forEach(ctx, todo, func(addr string) {
		if err := e.refreshOne(ctx, addr); err != nil {
			fail(addr, err)
			e.emit(Event{Kind: EventProblem, Address: addr, Detail: err.Error()})
		}
	})
	return res
}

// refreshOne asks the platform about one posted letter.
func (e *Engine) refreshOne(ctx context.Context, addr string) error {
	m := e.get(addr)
	before := StageOf(m)
	// A job that reached CREATED never changes again; only its deliveries do.
	if m.JobStatus != nirva.JobCreated {
		j, err := e.Client.Job(ctx, m.JobID)
		if err != nil {
			return fmt.Errorf("job %s: %w", m.JobID, err)
		}
		failpoint(fpMidRefresh)
		m.JobStatus = j.Status
		if j.Status == nirva.JobPackGroupCreated || j.PackGroupCountPerStates[nirva.PackGroupNotEligible] > 0 {
			pgs, err := e.Client.PackGroups(ctx, m.JobID)
			if err != nil {
				return fmt.Errorf("pack groups of job %s: %w", m.JobID, err)
			}
			m.PackGroups = convertPackGroups(pgs)
		} else if len(m.PackGroups) > 0 && j.PackGroupCountPerStates[nirva.PackGroupNotEligible] == 0 {
			for i := range m.PackGroups {
				if m.PackGroups[i].Status == nirva.PackGroupNotEligible {
					m.PackGroups[i].Status, m.PackGroups[i].Eligible, m.PackGroups[i].Reasons = nirva.PackGroupEligible, true, nil
				}
			}
		}
	}
	if m.JobStatus == nirva.JobCreated {
		ds, err := e.Client.Deliveries(ctx, m.JobID)
		if err != nil {
			return fmt.Errorf("deliveries of job %s: %w", m.JobID, err)
		}
		m.Deliveries = mergeDeliveries(m.Deliveries, ds)
		if err := e.fetchProofs(ctx, m); err != nil {
			m.LastRefreshed = e.now()
			e.put(m)
			return err
		}
	}
	m.Problems = problemsOf(m)
	m.Terminal = isTerminal(m)
	m.LastRefreshed = e.now()
	e.put(m)
	if after := StageOf(m); after != before {
		e.emit(Event{Kind: EventStage, Address: addr, Stage: after, Detail: stageDetail(m)})
	}
	return nil
}

func stageDetail(m *state.Mailing) string {
	var parts []string
	if tn := m.TrackingNumbers(); len(tn) > 0 {
		parts = append(parts, "tracking "+strings.Join(tn, ", "))
	}
	if len(m.Problems) > 0 {
		parts = append(parts, strings.Join(m.Problems, "; "))
	}
	return strings.Join(parts, "; ")
}

func convertPackGroups(pgs []nirva.PackGroup) []state.PackGroup {
	out := make([]state.PackGroup, len(pgs))
	for i, p := range pgs {
		out[i] = state.PackGroup{ID: p.ID, Channel: p.Channel, Status: p.Status, Eligible: p.Eligible, Reasons: p.Reasons, Raw: p.Raw}
	}
	return out
}

// mergeDeliveries takes the platform's deliveries, keeping the tracking
// events already learned for each shipment.
func mergeDeliveries(old []state.Delivery, ds []nirva.Delivery) []state.Delivery {
	events := map[string][]state.TrackingEvent{}
	for _, d := range old {
		for _, s := range d.Shipments {
			events[s.ID] = s.Events
		}
	}
	out := make([]state.Delivery, len(ds))
	for i, d := range ds {
		sd := state.Delivery{ID: d.ID, Channel: d.Channel, Status: d.Status}
		for _, s := range d.Shipments {
			sd.Shipments = append(sd.Shipments, state.Shipment{
				ID: s.ID, StatusCode: s.StatusCode, StatusLabel: s.StatusLabel,
				TrackingNumber: s.TrackingNumber(), Files: s.Files(), Events: events[s.ID],
			})
		}
		out[i] = sd
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
