package nirva

// Every wire name of the Nirva API lives in this file: URL paths, query
// parameters, headers, multipart field names and JSON field names. Most of
// them are inferred (see docs/nirva-api.md); correcting one against
// the live service is a one-line change here.
//
// Decoding is lenient: ids may be JSON numbers or strings, status codes may
// be numbers or strings, unknown fields are ignored, unknown status values
// are kept verbatim, and nothing here panics on odd input.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Header carrying the session token.
const headerToken = "X-Auth-Token"

// URL paths and query parameters.
const (
	pathAuthenticate = "/authentication/authenticate"
	pathLogout       = "/authentication/logout"
	pathJobs         = "/jobs"
	pathDeliveries   = "/deliveries"
	pathOptionTypes  = "/options/type"
	pathOptions      = "/options"

	queryJobName = "jobName"
	queryJobID   = "jobId"
)

func pathJob(jobID string) string { return "/jobs/" + url.PathEscape(jobID) }

func pathPackGroups(jobID string) string { return "/jobs/" + url.PathEscape(jobID) + "/packGroups" }

func pathEditPackGroup(packGroupID string) string {
	return "/packGroups/" + url.PathEscape(packGroupID) + "/edit"
}

func pathTrackingFile(shipmentID, name string) string {
	return "/shipments/" + url.PathEscape(shipmentID) + "/trackingFile/" + url.PathEscape(name)
}

// Multipart parts of POST /jobs.
const partParameters = "parameters"

// fileFieldName is the multipart field of the n-th file (from 0) of a box.
func fileFieldName(boxID string, n int) string {
	return fmt.Sprintf("file__file_%s_%d", boxID, n)
}

// --- requests ---------------------------------------------------------------

type wireAuthRequest struct {
	Login             string `json:"login"`
	Password          string `json:"password"`
	WithProfileDetail bool   `json:"withProfileDetail"`
}

type wireJobParameters struct {
	JobName                   string          `json:"jobName"`
	ServiceID                 string          `json:"serviceId"`
	AutocreateDeliveryCommand bool            `json:"autocreateDeliveryCommand"`
	TargetOwnerID             string          `json:"targetOwnerId,omitempty"`
	Options                   []wireOptionRef `json:"options,omitempty"`
}

type wireOptionRef struct {
	OptionTypeID string `json:"optionTypeId"`
	OptionID     string `json:"optionId"`
}

type wireEditPackGroup struct {
	Raw map[string]any `json:"raw"`
}

// --- responses --------------------------------------------------------------

type wireAuthResponse struct {
	Token    flexString    `json:"token"`
	User     wireUser      `json:"user"`
	Services []wireService `json:"services"`
}

type wireUser struct {
	ID    flexString `json:"id"`
	Login flexString `json:"login"`
}

type wireService struct {
	ServiceID flexString   `json:"serviceId"`
	ID        flexString   `json:"id"` // tolerated alternative spelling
	Name      flexString   `json:"name"`
	Channels  []flexString `json:"channels"`
	Boxes     []wireBox    `json:"boxes"`
}

type wireBox struct {
	BoxID flexString `json:"boxId"`
	ID    flexString `json:"id"` // tolerated alternative spelling
	Name  flexString `json:"name"`
	Type  flexString `json:"type"`
}

type wireJob struct {
	JobID                   flexString         `json:"jobId"`
	ID                      flexString         `json:"id"` // tolerated alternative spelling
	JobName                 flexString         `json:"jobName"`
	ServiceID               flexString         `json:"serviceId"`
	Status                  flexString         `json:"status"`
	CreationDate            flexTime           `json:"creationDate"`
	DocumentCount           flexInt            `json:"documentCount"`
	PackGroupCountPerStates map[string]flexInt `json:"packGroupCountPerStates"`
}

type wirePackGroup struct {
	PackGroupID flexString      `json:"packGroupId"`
	ID          flexString      `json:"id"` // tolerated alternative spelling
	Channel     flexString      `json:"channel"`
	Status      flexString      `json:"status"`
	Eligibility wireEligibility `json:"eligibility"`
	Raw         map[string]any  `json:"raw"`
}

type wireEligibility struct {
	Eligible flexBool     `json:"eligible"`
	Reasons  []flexString `json:"reasons"`
}

type wireDelivery struct {
	DeliveryID flexString     `json:"deliveryId"`
	ID         flexString     `json:"id"` // tolerated alternative spelling
	JobID      flexString     `json:"jobId"`
	Channel    flexString     `json:"channel"`
	Status     flexString     `json:"status"`
	Shipments  []wireShipment `json:"shipments"`
}

type wireShipment struct {
	ShipmentID  flexString     `json:"shipmentId"`
	ID          flexString     `json:"id"` // tolerated alternative spelling
	Status      flexString     `json:"status"`
	StatusLabel flexString     `json:"statusLabel"`
	Metadata    []wireMetadata `json:"metadata"`
}

type wireMetadata struct {
	Kind  flexString `json:"metadataKind"`
	Type  flexString `json:"metadataType"`
	Name  flexString `json:"name"`
	Value flexString `json:"value"`
}

type wireTrackingDetail struct {
	TrackingNumber flexString          `json:"trackingNumber"`
	Carrier        flexString          `json:"carrier"`
	Events         []wireTrackingEvent `json:"events"`
}

type wireTrackingEvent struct {
	Date  flexTime   `json:"date"`
	Code  flexString `json:"code"`
	Label flexString `json:"label"`
}

type wireOptionType struct {
	ID   flexString `json:"id"`
	Name flexString `json:"name"`
}

type wireOption struct {
	ID           flexString `json:"id"`
	OptionTypeID flexString `json:"optionTypeId"`
	Value        flexString `json:"value"`
}

type wireError struct {
	Code    flexString `json:"code"`
	Message flexString `json:"message"`
}

// --- lenient scalars --------------------------------------------------------

// flexString accepts a JSON string, number or boolean (kept as its text);
// null and anything else decode to "".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		*f = ""
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case 't', 'f':
		*f = flexString(b)
	case 'n', '{', '[':
		*f = ""
	default: // a number: keep its literal text, so 88412 stays "88412"
		*f = flexString(b)
	}
	return nil
}

func (f flexString) String() string { return strings.TrimSpace(string(f)) }

// flexInt accepts a JSON number or a numeric string; anything else is 0.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	n, _ := parseIntLenient(s.String())
	*f = flexInt(n)
	return nil
}

// parseIntLenient parses "600", "600.0", "-614"; ok is false otherwise.
func parseIntLenient(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) &&
		x == math.Trunc(x) && math.Abs(x) < 1<<31 {
		return int(x), true
	}
	return 0, false
}

// flexBool accepts true/false, "true"/"false", 1/0.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	v := strings.ToLower(s.String())
	*f = flexBool(v == "true" || v == "1" || v == "yes")
	return nil
}

// flexTime accepts RFC 3339 text (with or without zone), or epoch
// milliseconds as a number or numeric string; anything else is the zero time.
type flexTime time.Time

func (f *flexTime) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = flexTime(parseTimeLenient(s.String()))
	return nil
}

func parseTimeLenient(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 && ms < 1<<50 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

// --- decoders ---------------------------------------------------------------

// decodeJSON decodes one JSON value of at most MaxJSONBody bytes (answers
// are also bounded by the request loop, files decoded here are not).
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(&capReader{r: r, left: MaxJSONBody})
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("nirva: decoding answer: %w", err)
	}
	return nil
}

// capReader fails, rather than ends, after left bytes: a truncated JSON
// document would otherwise read as a confusing syntax error.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n + int(c.left), fmt.Errorf("%w: more than %s of JSON", ErrTooLarge, sizeText(MaxJSONBody))
	}
	return n, err
}

func first(vals ...flexString) string {
	for _, v := range vals {
		if s := v.String(); s != "" {
			return s
		}
	}
	return ""
}

func strs(in []flexString) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, v := range in {
		out = append(out, v.String())
	}
	return out
}

func decodeProfile(r io.Reader) (token string, p *Profile, err error) {
	var w wireAuthResponse
	if err := decodeJSON(r, &w); err != nil {
		return "", nil, err
	}
	p = &Profile{UserID: w.User.ID.String(), Login: w.User.Login.String()}
	for _, s := range w.Services {
		svc := Service{ID: first(s.ServiceID, s.ID), Name: s.Name.String(), Channels: strs(s.Channels)}
		for _, b := range s.Boxes {
			svc.Boxes = append(svc.Boxes, Box{ID: first(b.BoxID, b.ID), Name: b.Name.String(), Type: strings.ToUpper(b.Type.String())})
		}
		p.Services = append(p.Services, svc)
	}
	return w.Token.String(), p, nil
}

func (w wireJob) job() Job {
	j := Job{
		ID:            first(w.JobID, w.ID),
		Name:          string(w.JobName),
		ServiceID:     w.ServiceID.String(),
		Status:        w.Status.String(),
		Created:       time.Time(w.CreationDate),
		DocumentCount: int(w.DocumentCount),
	}
	if len(w.PackGroupCountPerStates) > 0 {
		j.PackGroupCountPerStates = make(map[string]int, len(w.PackGroupCountPerStates))
		for k, v := range w.PackGroupCountPerStates {
			j.PackGroupCountPerStates[k] = int(v)
		}
	}
	return j
}

func decodeJob(r io.Reader) (*Job, error) {
	var w wireJob
	if err := decodeJSON(r, &w); err != nil {
		return nil, err
	}
	j := w.job()
	if j.ID == "" {
		return nil, fmt.Errorf("nirva: decoding answer: job without an id")
	}
	return &j, nil
}

func decodeJobs(r io.Reader) ([]Job, error) {
	var ws []wireJob
	if err := decodeJSON(r, &ws); err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.job())
	}
	return out, nil
}

func (w wirePackGroup) packGroup() PackGroup {
	return PackGroup{
		ID:       first(w.PackGroupID, w.ID),
		Channel:  w.Channel.String(),
		Status:   w.Status.String(),
		Eligible: bool(w.Eligibility.Eligible),
		Reasons:  strs(w.Eligibility.Reasons),
		Raw:      w.Raw,
	}
}

func decodePackGroup(r io.Reader) (*PackGroup, error) {
	var w wirePackGroup
	if err := decodeJSON(r, &w); err != nil {
		return nil, err
	}
	pg := w.packGroup()
	return &pg, nil
}

func decodePackGroups(r io.Reader) ([]PackGroup, error) {
	var ws []wirePackGroup
	if err := decodeJSON(r, &ws); err != nil {
		return nil, err
	}
	out := make([]PackGroup, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.packGroup())
	}
	return out, nil
}

func decodeDeliveries(r io.Reader) ([]Delivery, error) {
	var ws []wireDelivery
	if err := decodeJSON(r, &ws); err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(ws))
	for _, w := range ws {
		d := Delivery{
			ID:      first(w.DeliveryID, w.ID),
			JobID:   w.JobID.String(),
			Channel: w.Channel.String(),
			Status:  w.Status.String(),
		}
		for _, s := range w.Shipments {
			sh := Shipment{ID: first(s.ShipmentID, s.ID), StatusLabel: s.StatusLabel.String()}
			if n, ok := parseIntLenient(s.Status.String()); ok {
				sh.StatusCode = n
			} else if raw := s.Status.String(); raw != "" && sh.StatusLabel == "" {
				// An unknown, non-numeric status: keep it verbatim in the label.
				sh.StatusLabel = raw
			}
			for _, m := range s.Metadata {
				sh.Metadata = append(sh.Metadata, Metadata{
					Kind: m.Kind.String(), Type: m.Type.String(), Name: m.Name.String(), Value: string(m.Value),
				})
			}
			d.Shipments = append(d.Shipments, sh)
		}
		out = append(out, d)
	}
	return out, nil
}

// DecodeTrackingDetail decodes a TRACKING_DETAIL file leniently.
func DecodeTrackingDetail(r io.Reader) (*TrackingDetail, error) {
	var w wireTrackingDetail
	if err := decodeJSON(r, &w); err != nil {
		return nil, err
	}
	td := &TrackingDetail{TrackingNumber: w.TrackingNumber.String(), Carrier: w.Carrier.String()}
	for _, e := range w.Events {
		td.Events = append(td.Events, TrackingEvent{Date: time.Time(e.Date), Code: e.Code.String(), Label: string(e.Label)})
	}
	return td, nil
}

func decodeOptionTypes(r io.Reader) ([]OptionType, error) {
	var ws []wireOptionType
	if err := decodeJSON(r, &ws); err != nil {
		return nil, err
	}
	out := make([]OptionType, 0, len(ws))
	for _, w := range ws {
		out = append(out, OptionType{ID: w.ID.String(), Name: w.Name.String()})
	}
	return out, nil
}

func decodeOptions(r io.Reader) ([]Option, error) {
	var ws []wireOption
	if err := decodeJSON(r, &ws); err != nil {
		return nil, err
	}
	out := make([]Option, 0, len(ws))
	for _, w := range ws {
		out = append(out, Option{ID: w.ID.String(), OptionTypeID: w.OptionTypeID.String(), Value: w.Value.String()})
	}
	return out, nil
}

// decodeError reads an error body; a non-JSON body becomes the message
// (trimmed and shortened).
func decodeError(status int, body []byte) (code, message string) {
	var w wireError
	if json.Unmarshal(body, &w) == nil && (w.Code != "" || w.Message != "") {
		return w.Code.String(), string(w.Message)
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", status)
	}
	return "", msg
}
