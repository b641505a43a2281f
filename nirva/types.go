package nirva

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// These are the client's decoded values. Their JSON wire forms live in
// wire.go; nothing outside this package sees a wire name or a URL path.

// Profile is what authenticate returns (services only with profile detail).
type Profile struct {
	UserID   string
	Login    string
	Services []Service
}

// Service is a preconfigured sending service of the profile.
type Service struct {
	ID       string
	Name     string
	Channels []string
	Boxes    []Box
}

// Box is a slot of a service that receives files; letters go in MAIN boxes.
type Box struct {
	ID   string
	Name string
	Type string // MAIN, ANNEX, …
}

// FindService returns the service whose id or name is nameOrID.
func (p *Profile) FindService(nameOrID string) (Service, bool) {
	for _, s := range p.Services {
		if s.ID == nameOrID || s.Name == nameOrID {
			return s, true
		}
	}
	return Service{}, false
}

// ServiceNames lists the names of the profile's services.
func (p *Profile) ServiceNames() []string {
	out := make([]string, 0, len(p.Services))
	for _, s := range p.Services {
		out = append(out, s.Name)
	}
	return out
}

// FindBox resolves a document's box: "" means the first MAIN box; otherwise
// a box name (case-insensitive), id or type.
func (s Service) FindBox(box string) (Box, bool) {
	for _, b := range s.Boxes {
		if box == "" && b.Type == "MAIN" {
			return b, true
		}
		if box != "" && (strings.EqualFold(b.Name, box) || b.ID == box || strings.EqualFold(b.Type, box)) {
			return b, true
		}
	}
	return Box{}, false
}

// JobRequest is everything POST /jobs needs.
type JobRequest struct {
	JobName       string
	ServiceID     string
	TargetOwnerID string
	Options       []OptionRef
	Files         []FilePart
}

// OptionRef selects one option value by ids.
type OptionRef struct {
	OptionTypeID string
	OptionID     string
}

// FilePart is one document; files within one box are numbered in order.
type FilePart struct {
	BoxID    string
	FileName string
	// Open returns the content; it may be called again if the request is
	// rebuilt after a re-authentication.
	Open func() (io.ReadCloser, error)
}

// Job is a job's status.
type Job struct {
	ID                      string
	Name                    string
	ServiceID               string
	Status                  string
	Created                 time.Time
	DocumentCount           int
	PackGroupCountPerStates map[string]int
}

// PackGroup is one non-composed item going to one channel.
type PackGroup struct {
	ID       string
	Channel  string
	Status   string
	Eligible bool
	Reasons  []string
	Raw      map[string]any
}

// Delivery is one channel's delivery of a job.
type Delivery struct {
	ID        string
	JobID     string
	Channel   string
	Status    string
	Shipments []Shipment
}

// Shipment is the final item the post handles.
type Shipment struct {
	ID          string
	StatusCode  int
	StatusLabel string
	Metadata    []Metadata
}

// Metadata is one metadata entry of a shipment.
type Metadata struct {
	Kind  string
	Type  string
	Name  string
	Value string
}

// TrackingNumber returns the TRACKING short value, if any.
func (s Shipment) TrackingNumber() string {
	for _, m := range s.Metadata {
		if m.Kind == "TRACKING" && m.Type == "SHORT_VALUE" && m.Name == "TRACKING" {
			return m.Value
		}
	}
	return ""
}

// Files lists the names of the tracking files available (ACKN, CERTIF, …).
func (s Shipment) Files() []string {
	var out []string
	for _, m := range s.Metadata {
		if m.Kind == "TRACKING" && m.Type == "FILE" {
			out = append(out, m.Name)
		}
	}
	return out
}

// TrackingDetail is the decoded TRACKING_DETAIL file.
type TrackingDetail struct {
	TrackingNumber string
	Carrier        string
	Events         []TrackingEvent
}

// TrackingEvent is one step of the tracking history.
type TrackingEvent struct {
	Date  time.Time
	Code  string
	Label string
}

// OptionType and Option describe the channel options of the platform.
type OptionType struct {
	ID   string
	Name string
}

type Option struct {
	ID           string
	OptionTypeID string
	Value        string
}

// APIError is a non-2xx answer of the platform.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	// Method and Path of the call, for the user's diagnosis.
	Method, Path string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	if e.Code != "" {
		return fmt.Sprintf("nirva: %s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, e.Code, msg)
	}
	return fmt.Sprintf("nirva: %s %s: %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// ErrUncertain wraps a POST /jobs whose outcome is unknown: the request may
// have reached the platform (a timeout, a dropped connection, a 5xx). The job
// may exist. The caller must not post again without resolving it.
var ErrUncertain = errors.New("the platform may or may not have created the job")

// ErrLookupUnavailable means the platform cannot look jobs up by name.
var ErrLookupUnavailable = errors.New("job lookup by name is not available on this platform")
