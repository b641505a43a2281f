// Package state holds what postform knows about the letters it posted: the
// state model, its versioned JSON codec and the backends that persist it.
//
// The state never holds secrets. It is the only record that a letter was
// posted, so every backend writes it durably and refuses what it does not
// understand rather than overwrite it.
package state

import (
	"maps"
	"sort"
	"sync"
	"time"
)

// FormatVersion is the version of the state file format this postform writes.
// A state with a higher version is refused, never rewritten.
const FormatVersion = 1

// Phase says how far postform got with posting a mailing.
type Phase string

const (
	// PhasePending: the mailing was recorded durably and POST /jobs may or
	// may not have reached the platform. It must be resolved (lookup by job
	// name, import, or state resolve) before anything else is done for it.
	PhasePending Phase = "pending"
	// PhasePosted: the platform accepted the job; JobID is known.
	PhasePosted Phase = "posted"
	// PhaseNotPosted: a creation that the platform refused (4xx before the
	// job existed) or that a user resolved as not posted. Safe to post again.
	PhaseNotPosted Phase = "not_posted"
)

// State is the whole record of one workspace.
type State struct {
	Version int    `json:"version"`
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
	// PostformVersion is the version of postform that last wrote the state.
	PostformVersion string `json:"postform_version,omitempty"`
	// Mailings by address, e.g. `mailing.reminder["acme"]`.
	Mailings map[string]*Mailing `json:"mailings"`

	// mu guards Mailings and Serial between concurrent Record calls (the
	// engine records each change in a State of its own).
	mu sync.Mutex
}

// Mailing is one letter (one job) as postform last saw it.
type Mailing struct {
	Address     string `json:"address"`
	Phase       Phase  `json:"phase"`
	ContentHash string `json:"content_hash"`
	// InputHash is config.Mailing.InputHash when the letter was recorded:
	// for a letter postform renders, what it was made of, so a later
	// postform that renders it into other bytes still knows it. "" for a
	// letter of PDFs only, and in states written before it was kept.
	InputHash string `json:"input_hash,omitempty"`
	JobName   string `json:"job_name"`
	// Service is the name or id the configuration gave; ServiceID the id it
	// resolved to.
	Service   string            `json:"service"`
	ServiceID string            `json:"service_id,omitempty"`
	Documents []Document        `json:"documents,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
	Owner     string            `json:"owner,omitempty"`
	// RequestedProofs are the proof names the configuration asked for.
	RequestedProofs []string `json:"requested_proofs,omitempty"`
	// Recipient is who the letter was addressed to, as read from page 1's
	// address window when its pending record was made; nil when it was not
	// read (preflight off, or a state written before postform read it).
	Recipient *Recipient `json:"recipient,omitempty"`

	// AttemptedAt is when the pending record was written (just before POST).
	AttemptedAt time.Time `json:"attempted_at,omitzero"`
	JobID       string    `json:"job_id,omitempty"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	JobStatus   string    `json:"job_status,omitempty"`

	PackGroups []PackGroup `json:"pack_groups,omitempty"`
	Deliveries []Delivery  `json:"deliveries,omitempty"`
	Proofs     []Proof     `json:"proofs,omitempty"`

	// Superseded are the jobs posted earlier for this address and replaced
	// with --replace, oldest first: the state keeps every letter posted.
	Superseded []SupersededJob `json:"superseded,omitempty"`

	LastRefreshed time.Time `json:"last_refreshed,omitzero"`
	// Terminal mailings are never refreshed again: every delivery is
	// OUTPUTTED, every shipment has a final code and every requested proof is
	// on disk, or the job ended in PROCESSING_ERROR.
	Terminal bool `json:"terminal"`
	// Problems are human-readable reasons the letter is stuck or failed.
	Problems []string `json:"problems,omitempty"`

	// detail holds, for a terminal letter of a plan-only load, the JSON of
	// Deliveries, Proofs and Superseded, left undecoded (lazy.go).
	detail *detail
}

// SupersededJob is a posted job that a later --replace superseded.
type SupersededJob struct {
	JobID           string    `json:"job_id"`
	JobName         string    `json:"job_name"`
	ContentHash     string    `json:"content_hash"`
	SubmittedAt     time.Time `json:"submitted_at,omitzero"`
	TrackingNumbers []string  `json:"tracking_numbers,omitempty"`
	Proofs          []Proof   `json:"proofs,omitempty"`
}

// Document is one PDF of a mailing as it was when posted.
type Document struct {
	Box    string `json:"box"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size,omitempty"`
	Pages  int    `json:"pages,omitempty"`
}

// Recipient is the address a letter was posted to: the lines of its
// envelope window, and the locality where it was recognised. It is
// personal data: views may mask it.
type Recipient struct {
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode,omitempty"`
	City     string   `json:"city,omitempty"`
	Country  string   `json:"country,omitempty"`
}

// PackGroup is one item of a job going to one channel.
type PackGroup struct {
	ID       string         `json:"id"`
	Channel  string         `json:"channel,omitempty"`
	Status   string         `json:"status"`
	Eligible bool           `json:"eligible"`
	Reasons  []string       `json:"reasons,omitempty"`
	Raw      map[string]any `json:"raw,omitempty"`
}

// Delivery is one channel's delivery of a job.
type Delivery struct {
	ID        string     `json:"id"`
	Channel   string     `json:"channel,omitempty"`
	Status    string     `json:"status"`
	Shipments []Shipment `json:"shipments,omitempty"`
}

// Shipment is the letter as the post handles it.
type Shipment struct {
	ID             string          `json:"id"`
	StatusCode     int             `json:"status_code"`
	StatusLabel    string          `json:"status_label,omitempty"`
	TrackingNumber string          `json:"tracking_number,omitempty"`
	Events         []TrackingEvent `json:"events,omitempty"`
	// Files are the proof names the platform says exist for this shipment.
	Files []string `json:"files,omitempty"`
}

// TrackingEvent is one step of a shipment's tracking history.
type TrackingEvent struct {
	Date  time.Time `json:"date"`
	Code  string    `json:"code"`
	Label string    `json:"label,omitempty"`
}

// Proof is a downloaded proof file.
type Proof struct {
	Name       string    `json:"name"`
	ShipmentID string    `json:"shipment_id"`
	Path       string    `json:"path"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	FetchedAt  time.Time `json:"fetched_at"`
	// ShipmentCode is the shipment's status when the proof was fetched:
	// the tracking history is fetched again whenever that status moves.
	ShipmentCode int `json:"shipment_code,omitempty"`
}

// New returns an empty state with a fresh lineage.
func New(lineage string) *State {
	return &State{Version: FormatVersion, Lineage: lineage, Mailings: map[string]*Mailing{}}
}

// Addresses returns the mailing addresses in a stable order.
func (s *State) Addresses() []string {
	return s.AddressesWhere(nil)
}

// AddressesWhere returns, sorted, the addresses of the mailings keep
// accepts (every one when keep is nil). Filtering before sorting matters
// at 100,000 letters, where a plan asks for a few pending ones.
func (s *State) AddressesWhere(keep func(address string, m *Mailing) bool) []string {
	var out []string
	if keep == nil {
		out = make([]string, 0, len(s.Mailings))
	}
	for a, m := range s.Mailings {
		if keep == nil || keep(a, m) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// TrackingNumbers returns every tracking number of the mailing's shipments.
func (m *Mailing) TrackingNumbers() []string {
	var out []string
	for _, d := range m.Deliveries {
		for _, s := range d.Shipments {
			if s.TrackingNumber != "" {
				out = append(out, s.TrackingNumber)
			}
		}
	}
	return out
}

// Proof returns the downloaded proof with that name for that shipment.
func (m *Mailing) Proof(shipmentID, name string) (Proof, bool) {
	for _, p := range m.Proofs {
		if p.ShipmentID == shipmentID && p.Name == name {
			return p, true
		}
	}
	return Proof{}, false
}

// Clone returns a deep copy, so that a backend can hand out a state that the
// caller may change without racing with a journal writer. The undecoded
// detail of a plan-only load is shared: it is never changed in place.
func (m *Mailing) Clone() *Mailing {
	c := *m
	c.Documents = append([]Document(nil), m.Documents...)
	if m.Options != nil {
		c.Options = make(map[string]string, len(m.Options))
		for k, v := range m.Options {
			c.Options[k] = v
		}
	}
	c.RequestedProofs = append([]string(nil), m.RequestedProofs...)
	if m.Recipient != nil {
		r := *m.Recipient
		r.Lines = append([]string(nil), m.Recipient.Lines...)
		c.Recipient = &r
	}
	c.PackGroups = append([]PackGroup(nil), m.PackGroups...)
	for i, pg := range c.PackGroups {
		c.PackGroups[i].Reasons = append([]string(nil), pg.Reasons...)
		c.PackGroups[i].Raw = maps.Clone(pg.Raw)
	}
	c.Deliveries = make([]Delivery, len(m.Deliveries))
	for i, d := range m.Deliveries {
		d.Shipments = append([]Shipment(nil), d.Shipments...)
		for j, s := range d.Shipments {
			d.Shipments[j].Events = append([]TrackingEvent(nil), s.Events...)
			d.Shipments[j].Files = append([]string(nil), s.Files...)
		}
		c.Deliveries[i] = d
	}
	if m.Deliveries == nil {
		c.Deliveries = nil
	}
	c.Proofs = append([]Proof(nil), m.Proofs...)
	c.Superseded = append([]SupersededJob(nil), m.Superseded...)
	c.Problems = append([]string(nil), m.Problems...)
	return &c
}
