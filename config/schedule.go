package config

import (
	"fmt"
	"time"
	// Time zones are named in configurations (time_zone = "Europe/Paris"):
	// they must resolve the same on a CI runner without a zoneinfo database.
	_ "time/tzdata"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// Schedule is when a letter may be posted: not before SendAfter, and no
// later than PostBy (either zero when unset).
type Schedule struct {
	SendAfter time.Time
	PostBy    time.Time
	// SendAfterRange and PostByRange are where they are written.
	SendAfterRange, PostByRange *hcl.Range
}

// FormatTime is how plans show a schedule: minutes, with the zone the
// configuration named (a time_zone, or the offset written).
func FormatTime(t time.Time) string {
	zone := t.Location().String()
	if zone == "" || zone == "Local" {
		zone = t.Format("-07:00")
	}
	return t.Format("2006-01-02 15:04") + " " + zone
}

// evalSchedule reads send_after, post_by and time_zone of a mailing. A
// date alone ("2026-12-05") is midnight in time_zone, or UTC when the
// mailing names none: a deadline must not move with the machine that
// plans it. An RFC 3339 time carries its own offset and is shown in
// time_zone when one is set.
func (l *loader) evalSchedule(attrs hcl.Attributes, s *scope, m *Mailing) {
	loc := time.UTC
	if tz, set := l.stringAttr(attrs, "time_zone", s, ""); set {
		z, err := time.LoadLocation(tz)
		if err != nil || tz == "" || tz == "Local" {
			l.add(errorf(diag.CodeInvalidValue, attrs["time_zone"].Expr.Range().Ptr(), "Invalid time_zone",
				fmt.Sprintf("time_zone of %s is %q; it is an IANA time zone name such as \"Europe/Paris\" or \"UTC\".", m.Address, tz)))
			return
		}
		loc = z
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
		rng  **hcl.Range
	}{{"send_after", &m.Schedule.SendAfter, &m.Schedule.SendAfterRange}, {"post_by", &m.Schedule.PostBy, &m.Schedule.PostByRange}} {
		v, set := l.stringAttr(attrs, f.name, s, "")
		if !set {
			continue
		}
		rng := attrs[f.name].Expr.Range().Ptr()
		t, err := parseScheduleTime(v, loc)
		if err != nil {
			l.add(errorf(diag.CodeInvalidValue, rng, "Invalid "+f.name,
				fmt.Sprintf("%s of %s is %q; write a date (\"2026-12-05\", midnight in the mailing's time_zone, else UTC) or an RFC 3339 time with its offset (\"2026-12-05T09:00:00+01:00\").", f.name, m.Address, v)))
			continue
		}
		*f.dst, *f.rng = t, rng
	}
	sa, pb := m.Schedule.SendAfter, m.Schedule.PostBy
	if !sa.IsZero() && !pb.IsZero() && sa.After(pb) {
		l.add(errorf(diag.CodeInvalidValue, m.Schedule.PostByRange, "post_by before send_after",
			fmt.Sprintf("%s may not be posted before %s (send_after) but must be posted by %s (post_by): no day is left to post it. Move one of them.", m.Address, FormatTime(sa), FormatTime(pb))))
	}
}

// parseScheduleTime reads a date (midnight in loc) or an RFC 3339 time
// (shown in loc when loc is not UTC).
func parseScheduleTime(v string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, err
	}
	if loc != time.UTC {
		t = t.In(loc)
	}
	return t, nil
}
