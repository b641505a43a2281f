package nirva

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Lenient scalars: the wire structs' fields decode whatever a platform
// sends: ids may be JSON numbers or strings, status codes numbers or
// strings, unknown fields are ignored, unknown status values are kept
// verbatim, and nothing here panics on odd input.

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
		if s, ok := plainJSONString(b); ok {
			*f = flexString(s)
			return nil
		}
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

// plainJSONString reads a JSON string literal without escapes, control
// characters or invalid UTF-8: its text is the bytes between the quotes.
// Anything else is left to json.Unmarshal (ok false). Most strings of an
// answer are plain, and a whole json.Unmarshal per field was a fifth of
// decoding each job's answer (FuzzFlexString compares the two).
func plainJSONString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
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
