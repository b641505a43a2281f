package reconcile

import (
	"fmt"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// isTerminal: nothing more will change and every requested proof is kept.
func isTerminal(m *state.Mailing) bool {
	if m.Phase != state.PhasePosted {
		return false
	}
	if m.JobStatus == nirva.JobProcessingError {
		return true
	}
	if m.JobStatus != nirva.JobCreated || len(m.Deliveries) == 0 {
		return false
	}
	for _, d := range m.Deliveries {
		if d.Status != nirva.DeliveryOutputted && d.Status != nirva.DeliveryError {
			return false
		}
		if d.Status == nirva.DeliveryError {
			continue
		}
		if len(d.Shipments) == 0 {
			return false
		}
		for _, s := range d.Shipments {
			if !nirva.ShipmentFinal(s.StatusCode) {
				return false
			}
			if nirva.ShipmentFailed(s.StatusCode) {
				continue // no proof of receipt will come for a failed shipment
			}
			for _, want := range m.RequestedProofs {
				if d.Channel != "" && d.Channel != "MAIL" {
					break // proofs come with postal shipments only
				}
				if _, ok := m.Proof(s.ID, want); !ok {
					return false
				}
			}
		}
	}
	return true
}

// problemsOf lists what a sender must know about a letter, including any
// status the API contract does not list: it is kept verbatim, and said.
func problemsOf(m *state.Mailing) []string {
	var out []string
	if m.JobStatus != "" && !nirva.KnownJobStatus(m.JobStatus) {
		out = append(out, fmt.Sprintf("unknown job status %q from the platform (kept as is)", m.JobStatus))
	}
	for _, pg := range m.PackGroups {
		if !nirva.KnownPackGroupStatus(pg.Status) {
			out = append(out, fmt.Sprintf("pack group %s: unknown status %q (kept as is)", pg.ID, pg.Status))
		}
	}
	for _, d := range m.Deliveries {
		if !nirva.KnownDeliveryStatus(d.Status) {
			out = append(out, fmt.Sprintf("delivery %s: unknown status %q (kept as is)", d.ID, d.Status))
		}
		for _, sh := range d.Shipments {
			if _, ok := nirva.ShipmentCodeMeaning(sh.StatusCode); !ok {
				out = append(out, fmt.Sprintf("shipment %s: unknown status code %d %q (kept as is)", sh.ID, sh.StatusCode, sh.StatusLabel))
			}
		}
	}
	if m.JobStatus == nirva.JobProcessingError {
		out = append(out, "PROCESSING_ERROR: the platform could not read the documents; nothing was posted")
	}
	out = append(out, notEligible(m)...)
	for _, d := range m.Deliveries {
		if d.Status == nirva.DeliveryError {
			out = append(out, fmt.Sprintf("delivery %s (%s) failed", d.ID, d.Channel))
		}
		for _, s := range d.Shipments {
			if nirva.ShipmentFailed(s.StatusCode) {
				label := s.StatusLabel
				if label == "" {
					label = "failed"
				}
				out = append(out, fmt.Sprintf("shipment %s: %d %s", s.ID, s.StatusCode, label))
			}
		}
	}
	return out
}
