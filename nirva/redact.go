package nirva

import (
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces a credential in text that came from the platform.
const Redacted = "REDACTED"

// minSubstringSecret is the length from which a credential is redacted
// wherever it occurs, even inside a word. A shorter one (a 1–3 character
// password) is redacted only where it stands as a whole token: bounded by
// the start or end of the text or by a character that is not a letter or
// digit (a JSON string value, "password ab rejected", "pw=ab;"). Replacing
// every "a" of every message would destroy the messages and, by its holes,
// reveal the password all the same.
const minSubstringSecret = 4

// scrub removes the session token and the password, in the forms an echo
// takes (raw, JSON-escaped, URL-encoded), from text that came from outside.
func (c *Client) scrub(s string) string {
	if s == "" {
		return s
	}
	tok, _ := c.session()
	for _, secret := range []string{tok, c.cfg.Password} {
		s = redact(s, secret)
	}
	return s
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	forms := []string{secret}
	if b, err := json.Marshal(secret); err == nil {
		if f := string(b[1 : len(b)-1]); f != secret {
			forms = append(forms, f)
		}
	}
	for _, f := range []string{url.QueryEscape(secret), url.PathEscape(secret)} {
		if f != secret {
			forms = append(forms, f)
		}
	}
	for _, f := range forms {
		if len(secret) >= minSubstringSecret {
			s = strings.ReplaceAll(s, f, Redacted)
		} else {
			s = replaceTokens(s, f)
		}
	}
	return s
}

// replaceTokens replaces the occurrences of secret that are not part of a
// longer word: a boundary is needed only on a side where secret itself
// starts or ends with a letter or digit.
func replaceTokens(s, secret string) string {
	first, _ := utf8.DecodeRuneInString(secret)
	last, _ := utf8.DecodeLastRuneInString(secret)
	var b strings.Builder
	i := 0
	for {
		k := strings.Index(s[i:], secret)
		if k < 0 {
			break
		}
		start, end := i+k, i+k+len(secret)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (start == 0 || !isWord(first) || !isWord(before)) && (end == len(s) || !isWord(last) || !isWord(after)) {
			b.WriteString(s[i:start])
			b.WriteString(Redacted)
		} else {
			b.WriteString(s[i:end])
		}
		i = end
	}
	if i == 0 {
		return s
	}
	b.WriteString(s[i:])
	return b.String()
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// --- every string of a decoded answer ----------------------------------------
//
// Ids are kept verbatim: postform sends them back in paths and keeps them in
// the state, and redacting one (an id "12" when the password is "12") would
// lose track of a letter. A field that is exactly a word of the contract
// (MAIL, TRACKING, CERTIF, a status…) is kept too: it is not an echo.

// value redacts one decoded string field.
func (c *Client) value(s string) string {
	if vocabulary[s] {
		return s
	}
	return c.scrub(s)
}

var vocabulary = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range []string{
		JobReceived, JobProcessing, JobPackGroupCreated, JobCreated, JobProcessingError,
		PackGroupEligible, PackGroupNotEligible, PackGroupSent,
		DeliveryCreated, DeliveryProcessing, DeliveryOutputted, DeliveryError,
		"MAIL", "EMAIL", "MAIN", "ANNEX", "TRACKING", "SHORT_VALUE", "FILE", "CERTIF", "ACKN", "TRACKING_DETAIL",
	} {
		m[w] = true
	}
	return m
}()

func (c *Client) values(ss []string) []string {
	for i := range ss {
		ss[i] = c.value(ss[i])
	}
	return ss
}

// valueAny redacts the strings (keys included) of a decoded JSON value.
func (c *Client) valueAny(v any) any {
	switch x := v.(type) {
	case string:
		return c.value(x)
	case []any:
		for i := range x {
			x[i] = c.valueAny(x[i])
		}
		return x
	case map[string]any:
		return c.valueMap(x)
	}
	return v
}

func (c *Client) valueMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[c.value(k)] = c.valueAny(v)
	}
	return out
}

// scrubJob redacts a job; a name equal to ours (the one postform sent or
// asked for) is ours, not an echo, and is kept so lookups still match.
func (c *Client) scrubJob(j *Job, ours string) {
	if j.Name != ours {
		j.Name = c.value(j.Name)
	}
	j.ServiceID, j.Status = c.value(j.ServiceID), c.value(j.Status)
	if j.PackGroupCountPerStates != nil {
		m := make(map[string]int, len(j.PackGroupCountPerStates))
		for k, v := range j.PackGroupCountPerStates {
			m[c.value(k)] += v
		}
		j.PackGroupCountPerStates = m
	}
}

func (c *Client) scrubPackGroup(pg *PackGroup) {
	pg.Channel, pg.Status = c.value(pg.Channel), c.value(pg.Status)
	pg.Reasons = c.values(pg.Reasons)
	pg.Raw = c.valueMap(pg.Raw)
}

func (c *Client) scrubDelivery(d *Delivery) {
	d.Channel, d.Status = c.value(d.Channel), c.value(d.Status)
	for i := range d.Shipments {
		s := &d.Shipments[i]
		s.StatusLabel = c.value(s.StatusLabel)
		for k := range s.Metadata {
			m := &s.Metadata[k]
			m.Kind, m.Type, m.Name, m.Value = c.value(m.Kind), c.value(m.Type), c.value(m.Name), c.value(m.Value)
		}
	}
}

func (c *Client) scrubProfile(p *Profile) {
	p.Login = c.value(p.Login)
	for i := range p.Services {
		s := &p.Services[i]
		s.Name = c.value(s.Name)
		s.Channels = c.values(s.Channels)
		for k := range s.Boxes {
			b := &s.Boxes[k]
			b.Name, b.Type = c.value(b.Name), c.value(b.Type)
		}
	}
}

func (c *Client) scrubOptions(types []OptionType, opts []Option) {
	for i := range types {
		types[i].Name = c.value(types[i].Name)
	}
	for i := range opts {
		opts[i].Value = c.value(opts[i].Value)
	}
}

// DecodeTrackingDetail decodes a TRACKING_DETAIL file like the package
// function, with the session token and password redacted from every value.
func (c *Client) DecodeTrackingDetail(r io.Reader) (*TrackingDetail, error) {
	td, err := DecodeTrackingDetail(r)
	if err != nil {
		return nil, err
	}
	td.TrackingNumber, td.Carrier = c.value(td.TrackingNumber), c.value(td.Carrier)
	for i := range td.Events {
		td.Events[i].Code, td.Events[i].Label = c.value(td.Events[i].Code), c.value(td.Events[i].Label)
	}
	return td, nil
}
