package config

import (
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/internal/diag"
)

// TestGuardSettings: max_posts, max_cost, pricing and a mailing's schedule
// as written, and each mistake a diagnostic at the attribute.
func TestGuardSettings(t *testing.T) {
	pdf := string(a4())
	load := func(t *testing.T, postform, mailing string) (*Config, string) {
		t.Helper()
		dir := t.TempDir()
		src := sandboxProvider + "mailing \"m\" {\n  service = \"Lettre verte\"\n" + mailing + doc + "}\n"
		if postform != "" {
			src = "postform {\n" + postform + "\n}\n" + src
		}
		writeFiles(t, dir, map[string]string{"main.mail.hcl": src, "a.pdf": pdf})
		cfg, diags := Load(dir, LoadOptions{SkipPreflight: true})
		var b strings.Builder
		for _, d := range diags {
			b.WriteString(diag.Code(d) + " " + d.Summary + ": " + d.Detail + "\n")
		}
		return cfg, b.String()
	}

	cfg, diags := load(t, "", "")
	if diags != "" || cfg.Limits.MaxPosts != DefaultMaxPosts || cfg.Limits.MaxPostsRange != nil || cfg.Limits.Pricing != nil {
		t.Fatalf("defaults: %+v %s", cfg.Limits, diags)
	}
	cfg, diags = load(t, `max_posts = 2500
max_cost = 100
pricing {
  currency = "EUR"
  service "Lettre verte" {
    price           = 1.29
    per_extra_sheet = 0.1
  }
}`, `send_after = "2026-12-05"
post_by = "2026-12-20T18:00:00+01:00"
time_zone = "Europe/Paris"`)
	if diags != "" {
		t.Fatal(diags)
	}
	if l := cfg.Limits; l.MaxPosts != 2500 || l.MaxCost != 100 || l.Pricing.Currency != "EUR" || l.Pricing.Services["Lettre verte"] != (Price{1.29, 0.1}) {
		t.Errorf("limits %+v, pricing %+v", l, l.Pricing)
	}
	sch := cfg.Mailings[0].Schedule
	if got := FormatTime(sch.SendAfter); got != "2026-12-05 00:00 Europe/Paris" {
		t.Errorf("a date is midnight in time_zone: %s", got)
	}
	if !sch.PostBy.Equal(time.Date(2026, 12, 20, 17, 0, 0, 0, time.UTC)) || FormatTime(sch.PostBy) != "2026-12-20 18:00 Europe/Paris" {
		t.Errorf("post_by %s", FormatTime(sch.PostBy))
	}
	cfg, _ = load(t, "", `send_after = "2026-12-05"`)
	if got := FormatTime(cfg.Mailings[0].Schedule.SendAfter); got != "2026-12-05 00:00 UTC" {
		t.Errorf("a date without time_zone is midnight UTC: %s", got)
	}
	cfg, _ = load(t, "", `send_after = "2026-12-05T09:00:00+01:00"`)
	if got := FormatTime(cfg.Mailings[0].Schedule.SendAfter); got != "2026-12-05 09:00 +01:00" {
		t.Errorf("an offset without time_zone is shown as written: %s", got)
	}

	for name, c := range map[string]struct{ postform, mailing, want string }{
		"max_posts zero":      {postform: "max_posts = 0", want: "PF006 Invalid max_posts"},
		"max_posts fraction":  {postform: "max_posts = 2.5", want: "PF006 Invalid max_posts"},
		"max_cost negative":   {postform: "max_cost = -1\npricing {\n currency = \"EUR\"\n}", want: "PF006 Invalid max_cost"},
		"max_cost no pricing": {postform: "max_cost = 10", want: "PF004 max_cost without pricing"},
		"no currency":         {postform: "pricing {\n}", want: "PF004"},
		"negative price":      {postform: "pricing {\n currency = \"EUR\"\n service \"x\" {\n price = -1\n }\n}", want: "PF006 Invalid price"},
		"unknown zone":        {mailing: `time_zone = "Mars/Olympus"`, want: "PF006 Invalid time_zone"},
		"bad date":            {mailing: `send_after = "5 December"`, want: "PF006 Invalid send_after"},
		"no offset":           {mailing: `post_by = "2026-12-05T09:00:00"`, want: "PF006 Invalid post_by"},
		"inverted":            {mailing: "send_after = \"2026-12-10\"\npost_by = \"2026-12-04\"", want: "PF006 post_by before send_after"},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := load(t, c.postform, c.mailing)
			if !strings.Contains(diags, c.want) {
				t.Errorf("diagnostics %q, want %q", diags, c.want)
			}
		})
	}
}
