package reconcile

import (
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// Stage is where a letter is, in the words a sender uses.
type Stage string

const (
	StagePending     Stage = "pending"      // posting attempt unresolved
	StageNotPosted   Stage = "not posted"   // refused or resolved as not posted
	StageReceived    Stage = "received"     // job accepted, not processed yet
	StageNotEligible Stage = "not eligible" // held: a pack group needs a fix
	StagePrinting    Stage = "printing"     // deliveries created, in production
	StageMailed      Stage = "mailed"       // handed to the post
	StageDelivered   Stage = "delivered"    // delivered, proofs may still come
	StageDone        Stage = "done"         // terminal: delivered and all proofs kept
	StageFailed      Stage = "failed"       // terminal: PROCESSING_ERROR or undeliverable
)

// Stages lists the stages in the order a letter moves through them.
var Stages = []Stage{StagePending, StageNotPosted, StageReceived, StageNotEligible, StagePrinting, StageMailed, StageDelivered, StageDone, StageFailed}

// StageOf derives a letter's stage from its state record. A terminal
// letter of a plan-only load is read from a decoded copy: whether it is
// done or failed is in its shipments.
func StageOf(m *state.Mailing) Stage {
	if !m.DetailLoaded() {
		if c := m.Clone(); c.LoadDetail() == nil {
			m = c
		}
	}
	switch m.Phase {
	case state.PhasePending:
		return StagePending
	case state.PhaseNotPosted:
		return StageNotPosted
	}
	if m.JobStatus == nirva.JobProcessingError {
		return StageFailed
	}
	for _, pg := range m.PackGroups {
		if pg.Status == nirva.PackGroupNotEligible {
			return StageNotEligible
		}
	}
	if len(m.Deliveries) == 0 {
		return StageReceived
	}
	failed, delivered, mailed, shipments := 0, 0, 0, 0
	for _, d := range m.Deliveries {
		for _, s := range d.Shipments {
			shipments++
			switch {
			case nirva.ShipmentFailed(s.StatusCode):
				failed++
			case nirva.ShipmentDelivered(s.StatusCode):
				delivered++
			case nirva.ShipmentMailed(s.StatusCode):
				mailed++
			}
		}
	}
	switch {
	case shipments == 0:
		return StagePrinting
	case failed > 0 && failed == shipments:
		return StageFailed
	case m.Terminal && failed == 0:
		return StageDone
	case m.Terminal:
		return StageFailed
	case delivered+failed == shipments:
		return StageDelivered
	case mailed+delivered+failed == shipments:
		return StageMailed
	}
	return StagePrinting
}
