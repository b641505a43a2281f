package sandbox

import (
	"fmt"
	"time"
)

// The world's fixed catalogue: services, boxes, options.

// Ackn is true for every service, registered or not ("Lettre simple"):
// the engine counts a mailing terminal once its requested proofs are in,
// and a configuration may request ACKN of any service. A stricter platform
// would give ACKN (and TRACKING_DETAIL) for registered mail only; model that
// here only together with a change in how the engine treats proofs a
// service never gives.
type serviceDef struct {
	ID       string
	Name     string
	Channels []string
	Boxes    []boxDef
	Ackn     bool // the mail shipment gets an acknowledgement of receipt
}

type boxDef struct {
	ID, Name, Type string
}

var services = []serviceDef{
	{ID: "301", Name: "Lettre simple", Channels: []string{"MAIL"}, Ackn: true,
		Boxes: []boxDef{{"2101", "main", "MAIN"}, {"2102", "annex", "ANNEX"}}},
	{ID: "311", Name: "Lettre recommandée avec AR", Channels: []string{"MAIL"}, Ackn: true,
		Boxes: []boxDef{{"2201", "main", "MAIN"}, {"2202", "annex", "ANNEX"}}},
	{ID: "321", Name: "Courrier + e-mail", Channels: []string{"MAIL", "EMAIL"}, Ackn: true,
		Boxes: []boxDef{{"2301", "main", "MAIN"}, {"2302", "annex", "ANNEX"}}},
}

func findService(id string) (serviceDef, bool) {
	for _, s := range services {
		if s.ID == id {
			return s, true
		}
	}
	return serviceDef{}, false
}

type optionTypeDef struct{ ID, Name string }
type optionDef struct{ ID, TypeID, Value string }

var optionTypes = []optionTypeDef{{"12", "printMode"}, {"13", "envelopeType"}}

var optionValues = []optionDef{
	{"57", "12", "1SIDE"}, {"58", "12", "2SIDE"},
	{"61", "13", "C5"}, {"62", "13", "C4"}, {"63", "13", "DL"},
}

// jobRecord is everything persisted about a job; statuses are derived.
type jobRecord struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	ServiceID string         `json:"serviceId"`
	OwnerID   string         `json:"ownerId,omitempty"`
	Login     string         `json:"login"`
	Created   time.Time      `json:"created"`
	Options   []optionChoice `json:"options,omitempty"`
	Documents int            `json:"documents"`
	// Pending holds the files of a job not processed yet (process.go);
	// every field below but the pack groups' and deliveries' ids is
	// unknown until then.
	Pending *pendingUpload `json:"pending,omitempty"`
	// Failed: a file could not be processed (PROCESSING_ERROR).
	Failed     bool   `json:"failed,omitempty"`
	FailReason string `json:"failReason,omitempty"`
	// Address is the first page's text lines of the first MAIN file.
	Address []string `json:"address,omitempty"`
	// NeedsAddress: that page's address window held no usable address
	// (NOT_ELIGIBLE until edited); AddressReasons say why.
	NeedsAddress   bool              `json:"needsAddress,omitempty"`
	AddressReasons []string          `json:"addressReasons,omitempty"`
	Undeliverable  bool              `json:"undeliverable,omitempty"`
	PackGroups     []*packGroupRec   `json:"packGroups"`
	Deliveries     []*deliveryRecord `json:"deliveries"`
}

type optionChoice struct {
	TypeID   string `json:"optionTypeId"`
	OptionID string `json:"optionId"`
}

type packGroupRec struct {
	ID       string         `json:"id"`
	Channel  string         `json:"channel"`
	Raw      map[string]any `json:"raw"`
	EditedAt time.Time      `json:"editedAt,omitzero"`
	Fixed    bool           `json:"fixed,omitempty"`
}

type deliveryRecord struct {
	ID         string `json:"id"`
	Channel    string `json:"channel"`
	ShipmentID string `json:"shipmentId"`
}

// Milestones, in seconds of scaled time from the job's (effective) start.
const (
	tProcessing   = 2
	tPackGroups   = 4
	tCreated      = 6
	tDelivProc    = 8
	tOutputted    = 12
	tReady        = 14
	tProduction   = 18
	tMailed       = 24
	tDelivered    = 36
	tAckn         = 48
	tEmailRecv    = 30
	tEmailOpened  = 40
	reasonAddress = "ADDRESS_UNREADABLE: no postal address found in the address window"
)

var statusLabels = map[int]string{
	250: "Being created", 300: "Ready", 400: "In production", 600: "Mailed", 610: "Delivered",
	700: "Sent", 710: "Received", 714: "Signed", 715: "Opened",
	-610: "Not delivered", -611: "Not claimed", -612: "Refused by recipient", -613: "Incorrect recipient",
	-614: "Incorrect address", -700: "Shipment error", -900: "Canceled", -910: "Canceled after printing",
}

// jobView is a job as seen at one instant.
type jobView struct {
	status     string
	packGroups []pgView
	deliveries []deliveryView
}

type pgView struct {
	rec      *packGroupRec
	status   string
	eligible bool
	reasons  []string
}

type deliveryView struct {
	rec      *deliveryRecord
	status   string
	shipment *shipmentView // nil before OUTPUTTED
}

type shipmentView struct {
	id       string
	code     int
	tracking string
	files    []trackingFile
	events   []trackingEvent
}

type trackingFile struct{ name, value string }

type trackingEvent struct {
	date        time.Time
	code, label string
}

func (s *Sandbox) since(start, now time.Time) float64 {
	return now.Sub(start).Seconds() * s.scale
}

func (s *Sandbox) at(start time.Time, sec float64) time.Time {
	return start.Add(time.Duration(sec / s.scale * float64(time.Second)))
}

// fixed reports whether every pack group was fixed, and the last fix time.
func (j *jobRecord) fixed() (bool, time.Time) {
	var last time.Time
	for _, pg := range j.PackGroups {
		if !pg.Fixed {
			return false, time.Time{}
		}
		if pg.EditedAt.After(last) {
			last = pg.EditedAt
		}
	}
	return true, last
}

// view computes the job's state at now (caller holds s.mu), processing
// the job first if that state depends on it.
func (s *Sandbox) view(j *jobRecord, now time.Time) jobView {
	e := s.since(j.Created, now)
	if e >= tPackGroups {
		s.settleLocked(j)
	}
	var v jobView
	switch {
	case e < tProcessing:
		v.status = "RECEIVED"
		return v
	case e < tPackGroups:
		v.status = "PROCESSING"
		return v
	case j.Failed:
		v.status = "PROCESSING_ERROR"
		return v
	}
	start := j.Created
	blocked := false
	if j.NeedsAddress {
		ok, last := j.fixed()
		if ok {
			// The lifecycle resumes at the fix, as if pack groups had just
			// been made.
			start = last.Add(-time.Duration(tPackGroups / s.scale * float64(time.Second)))
			if start.Before(j.Created) {
				start = j.Created
			}
			e = s.since(start, now)
		} else {
			blocked = true
		}
	}
	created := !blocked && e >= tCreated
	for _, pg := range j.PackGroups {
		pv := pgView{rec: pg, status: "ELIGIBLE", eligible: true}
		switch {
		case j.NeedsAddress && !pg.Fixed:
			pv.status, pv.eligible, pv.reasons = "NOT_ELIGIBLE", false, []string{reasonAddress}
			if len(j.AddressReasons) > 0 {
				// What the reading found, one reason each (a world saved
				// before the reasons were kept has none: the generic one).
				pv.reasons = nil
				for _, r := range j.AddressReasons {
					pv.reasons = append(pv.reasons, "ADDRESS_UNREADABLE: "+r)
				}
			}
		case created:
			pv.status = "SENT"
		}
		v.packGroups = append(v.packGroups, pv)
	}
	if !created {
		v.status = "PACK_GROUP_CREATED"
		return v
	}
	v.status = "CREATED"
	for _, d := range j.Deliveries {
		dv := deliveryView{rec: d}
		switch {
		case e < tDelivProc:
			dv.status = "CREATED"
		case e < tOutputted:
			dv.status = "PROCESSING"
		default:
			dv.status = "OUTPUTTED"
			dv.shipment = s.shipment(j, d, start, e)
		}
		v.deliveries = append(v.deliveries, dv)
	}
	return v
}

func (s *Sandbox) shipment(j *jobRecord, d *deliveryRecord, start time.Time, e float64) *shipmentView {
	sh := &shipmentView{id: d.ShipmentID, code: 250}
	if d.Channel == "EMAIL" {
		switch {
		case e >= tEmailOpened:
			sh.code = 715
		case e >= tEmailRecv:
			sh.code = 710
		case e >= tMailed:
			sh.code = 700
		}
		return sh
	}
	switch {
	case e >= tMailed:
		sh.code = 600
	case e >= tProduction:
		sh.code = 400
	case e >= tReady:
		sh.code = 300
	}
	if e < tMailed {
		return sh
	}
	sh.tracking = fmt.Sprintf("1A%011s", d.ShipmentID)
	sh.files = append(sh.files, trackingFile{"CERTIF", "deposit-" + d.ShipmentID + ".pdf"})
	sh.events = append(sh.events, trackingEvent{s.at(start, tMailed), "DEPOSITED", "Pris en charge"})
	if e < tDelivered {
		return sh
	}
	if j.Undeliverable {
		sh.code = -614
		sh.events = append(sh.events, trackingEvent{s.at(start, tDelivered), "UNDELIVERABLE", "Adresse incorrecte"})
	} else {
		sh.code = 610
		sh.events = append(sh.events, trackingEvent{s.at(start, tDelivered), "DELIVERED", "Distribué"})
	}
	sh.files = append(sh.files, trackingFile{"TRACKING_DETAIL", "tracking-" + d.ShipmentID + ".json"})
	if e >= tAckn && !j.Undeliverable {
		if svc, _ := findService(j.ServiceID); svc.Ackn {
			sh.files = append(sh.files, trackingFile{"ACKN", "ackn-" + d.ShipmentID + ".pdf"})
		}
	}
	return sh
}

func (sh *shipmentView) hasFile(name string) bool {
	for _, f := range sh.files {
		if f.name == name {
			return true
		}
	}
	return false
}
