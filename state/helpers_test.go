package state

import (
	"fmt"
	"time"
)

// testMailing returns a realistic posted mailing.
func testMailing(addr string, i int) *Mailing {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &Mailing{
		Address:         addr,
		Phase:           PhasePosted,
		ContentHash:     fmt.Sprintf("sha256:%064x", i),
		JobName:         fmt.Sprintf("reminder-2026-11-%06d", i),
		Service:         "Lettre recommandée avec AR",
		ServiceID:       "LRAR",
		Documents:       []Document{{Box: "main", File: fmt.Sprintf("letters/%06d.pdf", i), SHA256: fmt.Sprintf("%064x", i*7), Size: 48213, Pages: 2}},
		Options:         map[string]string{"printMode": "1SIDE"},
		RequestedProofs: []string{"CERTIF", "ACKN"},
		AttemptedAt:     at,
		JobID:           fmt.Sprintf("J-%08d", i),
		SubmittedAt:     at.Add(time.Second),
		JobStatus:       "IN_PROGRESS",
	}
}

func addrOf(i int) string { return fmt.Sprintf("mailing.reminder[\"customer-%06d\"]", i) }

// bigState returns a state of n mailings.
func bigState(n int) *State {
	s := New("7f1c2a9e-0b4d-4e5f-8a6b-1c2d3e4f5a6b")
	for i := range n {
		s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
	}
	return s
}

// SetMailing stores m under addr while other goroutines call a Backend's
// Record or Persist with s.
func (s *State) SetMailing(addr string, m *Mailing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Mailings == nil {
		s.Mailings = map[string]*Mailing{}
	}
	s.Mailings[addr] = m
}

// terminalMailing is testMailing once every proof is on disk: what a state
// holds for most of its letters after a few weeks.
func terminalMailing(addr string, i int) *Mailing {
	m := testMailing(addr, i)
	at := m.SubmittedAt
	ship := fmt.Sprintf("S-%08d", i)
	m.JobStatus = "CREATED"
	m.Recipient = &Recipient{Lines: []string{fmt.Sprintf("Customer %06d", i), "3 rue de la Paix", "75003 PARIS"}, Postcode: "75003", City: "PARIS"}
	m.Deliveries = []Delivery{{ID: fmt.Sprintf("D-%08d", i), Channel: "MAIL", Status: "OUTPUTTED", Shipments: []Shipment{{
		ID: ship, StatusCode: 610, StatusLabel: "Delivered", TrackingNumber: fmt.Sprintf("1A%011d", i),
		Events: []TrackingEvent{{Date: at, Code: "DEPOSITED", Label: "Pris en charge"}, {Date: at.Add(48 * time.Hour), Code: "DELIVERED", Label: "Distribué"}},
		Files:  []string{"CERTIF", "TRACKING_DETAIL", "ACKN"},
	}}}}
	for j, name := range []string{"CERTIF", "TRACKING_DETAIL", "ACKN"} {
		m.Proofs = append(m.Proofs, Proof{Name: name, ShipmentID: ship, Path: fmt.Sprintf("reminder/customer-%06d/%s-%s.pdf", i, ship, name),
			SHA256: fmt.Sprintf("%064x", i*31+j), Size: 763, FetchedAt: at.Add(72*time.Hour + time.Duration(j)*time.Millisecond), ShipmentCode: 610})
	}
	m.LastRefreshed = at.Add(72 * time.Hour)
	m.Terminal = true
	return m
}

// terminalState returns a state of n terminal mailings.
func terminalState(n int) *State {
	s := New("7f1c2a9e-0b4d-4e5f-8a6b-1c2d3e4f5a6b")
	for i := range n {
		s.Mailings[addrOf(i)] = terminalMailing(addrOf(i), i)
	}
	return s
}
