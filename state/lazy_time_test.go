package state

import (
	"fmt"
	"testing"
	"time"
)

// checkUTCTime fails when utcTime takes in and reads it otherwise than
// time.Time's UnmarshalJSON, the decoder it stands in for.
func checkUTCTime(t *testing.T, in []byte) (taken bool) {
	t.Helper()
	got, end, ok := utcTime(in, 0)
	if !ok {
		return false
	}
	var want time.Time
	if err := want.UnmarshalJSON(in[:end]); err != nil {
		t.Fatalf("utcTime took %q, which UnmarshalJSON refuses: %v", in[:end], err)
	}
	if got != want { // wall, ext and location alike
		t.Fatalf("utcTime(%q) = %#v; UnmarshalJSON: %#v", in[:end], got, want)
	}
	return true
}

func FuzzUTCTime(f *testing.F) {
	for _, s := range []string{`"2026-12-01T08:56:13.612894843Z"`, `"2026-12-01T08:52:25Z"`, `"0000-02-29T00:00:00Z"`,
		`"1900-02-29T00:00:00Z"`, `"2000-02-29T23:59:59.9Z"`, `"9999-12-31T23:59:59.999999999Z"`, `"2026-01-01T00:00:00.1234567891Z"`,
		`"2026-01-01T00:00:00+01:00"`, `"2026-01-01t00:00:00z"`, `"2026-01-01T00:00:00.Z"`, `"2026-01-01T24:00:00Z"`, `"2026-01-01T00:00:60Z"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkUTCTime(t, in)
	})
}

// Every month's last days in common, leap and century years, the range's
// ends, and fractions of every length: utcTime must take each one
// UnmarshalJSON takes in its layout, with the same value.
func TestUTCTimeDates(t *testing.T) {
	taken := 0
	for _, year := range []int{0, 1, 4, 100, 400, 1600, 1900, 1969, 1970, 1972, 2000, 2024, 2025, 2100, 9999} {
		for month := 0; month <= 13; month++ {
			for _, day := range []int{0, 1, 28, 29, 30, 31, 32} {
				for _, clock := range []string{"00:00:00", "23:59:59", "12:34:56.7", "01:02:03.000000001", "01:02:03.123456789", "24:00:00", "00:60:00", "00:00:60"} {
					in := fmt.Appendf(nil, `"%04d-%02d-%02dT%sZ"`, year, month, day, clock)
					var want time.Time
					wantOK := want.UnmarshalJSON(in) == nil
					if got := checkUTCTime(t, in); got != wantOK {
						t.Fatalf("utcTime took %q: %v; UnmarshalJSON: %v", in, got, wantOK)
					}
					if wantOK {
						taken++
					}
				}
			}
		}
	}
	if taken < 1000 {
		t.Fatalf("only %d dates taken", taken)
	}
}
