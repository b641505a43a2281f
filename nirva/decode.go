package nirva

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Decoding: one bounded JSON decoder (decodeAs), and for each wire struct the
// conversion into the package's type. The request loop decodes answers
// through callJSON (request.go) with these conversions.

// decodeAs decodes one JSON value of type W, of at most MaxJSONBody bytes
// (answers are also bounded by the request loop, files decoded here are
// not), and converts it.
func decodeAs[W, T any](r io.Reader, conv func(W) (T, error)) (T, error) {
	var w W
	dec := json.NewDecoder(&capReader{r: r, left: MaxJSONBody})
	if err := dec.Decode(&w); err != nil {
		var zero T
		return zero, fmt.Errorf("nirva: decoding answer: %w", err)
	}
	return conv(w)
}

// list converts a JSON array element by element.
func list[W, T any](conv func(W) T) func([]W) ([]T, error) {
	return func(ws []W) ([]T, error) {
		out := make([]T, 0, len(ws))
		for _, w := range ws {
			out = append(out, conv(w))
		}
		return out, nil
	}
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

// session is an authentication answer: the token and the profile.
func (w wireAuthResponse) session() (authSession, error) {
	p := &Profile{UserID: w.User.ID.String(), Login: w.User.Login.String()}
	for _, s := range w.Services {
		svc := Service{ID: first(s.ServiceID, s.ID), Name: s.Name.String(), Channels: strs(s.Channels)}
		for _, b := range s.Boxes {
			svc.Boxes = append(svc.Boxes, Box{ID: first(b.BoxID, b.ID), Name: b.Name.String(), Type: strings.ToUpper(b.Type.String())})
		}
		p.Services = append(p.Services, svc)
	}
	return authSession{token: w.Token.String(), profile: p}, nil
}

type authSession struct {
	token   string
	profile *Profile
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

// one is a job answered alone, which must carry its id.
func (w wireJob) one() (*Job, error) {
	j := w.job()
	if j.ID == "" {
		return nil, fmt.Errorf("nirva: decoding answer: job without an id")
	}
	return &j, nil
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

func (w wirePackGroup) one() (*PackGroup, error) {
	pg := w.packGroup()
	return &pg, nil
}

func (w wireDelivery) delivery() Delivery {
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
	return d
}

func (w wireTrackingDetail) detail() (*TrackingDetail, error) {
	td := &TrackingDetail{TrackingNumber: w.TrackingNumber.String(), Carrier: w.Carrier.String()}
	for _, e := range w.Events {
		td.Events = append(td.Events, TrackingEvent{Date: time.Time(e.Date), Code: e.Code.String(), Label: string(e.Label)})
	}
	return td, nil
}

// DecodeTrackingDetail decodes a TRACKING_DETAIL file leniently.
func DecodeTrackingDetail(r io.Reader) (*TrackingDetail, error) {
	return decodeAs(r, wireTrackingDetail.detail)
}

func (w wireOptionType) optionType() OptionType {
	return OptionType{ID: w.ID.String(), Name: w.Name.String()}
}

func (w wireOption) option() Option {
	return Option{ID: w.ID.String(), OptionTypeID: w.OptionTypeID.String(), Value: w.Value.String()}
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
