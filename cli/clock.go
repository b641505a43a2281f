package cli

import (
	"fmt"
	"os"
	"time"
)

// envNow sets the clock that send_after and post_by are read against. It
// is for testing only (stories run a schedule on a fake clock): an RFC 3339
// time, from which the clock runs on at the real pace.
const envNow = "POSTFORM_NOW"

var processStart = time.Now()

// planClock is now, or the POSTFORM_NOW clock when it is set.
func planClock() (time.Time, error) {
	v := os.Getenv(envNow)
	if v == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s=%q: want an RFC 3339 time such as 2026-12-05T09:00:00+01:00 (it is for testing only)", envNow, v)
	}
	return t.Add(time.Since(processStart)), nil
}
