package reconcile

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

// savedFixture is a configuration and a state whose plan holds a create
// (a, c), a no-op (b) and a forget (x).
func savedFixture() (*config.Config, *state.State) {
	cfg := &config.Config{Mailings: []*config.Mailing{desired("mailing.a", "h1"), desired("mailing.b", "h2"), desired("mailing.c", "h3")}}
	cfg.Mailings[0].Documents[0].Pages = 1
	cfg.Mailings[0].AddressCheck = config.AddressRead
	cfg.Mailings[0].Documents[0].Recipient = &config.Recipient{Lines: []string{"Société Générale", "29 boulevard Haussmann", "75009 PARIS"}, Postcode: "75009", City: "PARIS"}
	st := state.New("L1")
	st.Serial = 3
	st.Mailings["mailing.b"] = posted("mailing.b", "h2")
	st.Mailings["mailing.x"] = posted("mailing.x", "h9")
	st.Mailings["mailing.x"].JobID = "88009"
	return cfg, st
}

func savedBytes(t testing.TB, cfg *config.Config, st *state.State, opts PlanOptions) []byte {
	t.Helper()
	b, err := EncodeSavedPlan(MakePlan(cfg, st, opts).Saved("test", opts))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forge decodes a saved plan, edits it, and seals it again as a forger
// with a sha256 tool would.
func forge(t *testing.T, b []byte, edit func(*SavedPlan)) []byte {
	t.Helper()
	doc, err := DecodeSavedPlan(b)
	if err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := EncodeSavedPlan(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func change(doc *SavedPlan, addr string) *SavedChange {
	for i := range doc.Changes {
		if doc.Changes[i].Address == addr {
			return &doc.Changes[i]
		}
	}
	panic("no change for " + addr)
}

func TestSavedPlanRoundTrip(t *testing.T) {
	cfg, st := savedFixture()
	doc, err := DecodeSavedPlan(savedBytes(t, cfg, st, PlanOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if r := doc.Changes[0].Files[0].Recipient; doc.Changes[0].AddressCheck != "read" || r == nil || strings.Join(r.Lines, " · ") != "Société Générale · 29 boulevard Haussmann · 75009 PARIS" || r.Postcode != "75009" {
		t.Fatalf("the saved plan's recipient of mailing.a: %q %+v", doc.Changes[0].AddressCheck, r)
	}
	if doc.FormatVersion != 3 || len(doc.Digest) != 64 || doc.ConfigHash != ConfigHash(cfg) {
		t.Fatalf("version %d digest %q config hash %q", doc.FormatVersion, doc.Digest, doc.ConfigHash)
	}
	p, err := PlanFromSaved(doc, cfg, st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Counts(); c.Post != 2 || c.Forget != 1 || c.NoOp != 1 {
		t.Fatalf("re-derived plan: %+v", c)
	}
}

// A saved plan edited after review and sealed again is refused, naming
// every address that differs, before anything is posted.
func TestForgedSavedPlanIsRefused(t *testing.T) {
	cfg, st := savedFixture()
	good := savedBytes(t, cfg, st, PlanOptions{})
	tests := []struct {
		name string
		edit func(*SavedPlan)
		cfg  func(*config.Config)
		want []string
	}{
		{name: "an address twice", edit: func(d *SavedPlan) {
			d.Changes = append(d.Changes, *change(d, "mailing.a"))
			d.Summary.Post++
		}, want: []string{"mailing.a: appears 2 times in the saved plan"}},
		{name: "an address not in the configuration", edit: func(d *SavedPlan) {
			evil := *change(d, "mailing.a")
			evil.Address, evil.JobName = "mailing.evil", "evil"
			d.Changes = append(d.Changes, evil)
		}, want: []string{"mailing.evil: create in the saved plan, but it is not a change now"}},
		{name: "a forged forget", edit: func(d *SavedPlan) {
			change(d, "mailing.b").Action = ActionForget
		}, want: []string{`mailing.b: action "forget" in the saved plan, "no-op" now`}},
		{name: "a forged replace", edit: func(d *SavedPlan) {
			change(d, "mailing.b").Action = ActionReplace
		}, want: []string{`mailing.b: action "replace" in the saved plan, "no-op" now`}},
		{name: "a forged --replace", edit: func(d *SavedPlan) {
			d.Replace = []string{"mailing.b"}
		}, want: []string{`mailing.b: action "no-op" in the saved plan, "replace" now`}},
		{name: "a file path changed to /etc/passwd", edit: func(d *SavedPlan) {
			change(d, "mailing.a").Files[0].File = "/etc/passwd"
		}, want: []string{`mailing.a: document 1 is "/etc/passwd" in the saved plan, "a.pdf" now`}},
		{name: "a sha256 changed", edit: func(d *SavedPlan) {
			change(d, "mailing.a").Files[0].SHA256 = strings.Repeat("0", 64)
		}, want: []string{"mailing.a: a.pdf changed since it was planned"}},
		{name: "a change dropped", edit: func(d *SavedPlan) {
			d.Changes = slices.DeleteFunc(d.Changes, func(c SavedChange) bool { return c.Address == "mailing.c" })
		}, want: []string{"mailing.c: missing from the saved plan (create now)"}},
		{name: "a job name changed", edit: func(d *SavedPlan) {
			change(d, "mailing.c").JobName = "other"
		}, want: []string{`mailing.c: job name "other" in the saved plan, "c" now`}},
		{name: "a forged summary", edit: func(d *SavedPlan) {
			d.Summary.Post = 0
		}, want: []string{"the summary says 0 to post"}},
		{name: "all at once, each named", edit: func(d *SavedPlan) {
			d.Changes = append(d.Changes, *change(d, "mailing.c"))
			change(d, "mailing.a").Files[0].File = "/etc/passwd"
			change(d, "mailing.b").Action = ActionForget
		}, want: []string{"mailing.a: document 1", "mailing.b: action", "mailing.c: appears 2 times"}},
		{name: "the configuration changed since", cfg: func(c *config.Config) {
			c.Mailings[2].JobName = "renamed"
		}, want: []string{"the configuration evaluates differently than when the plan was made", `mailing.c: job name "c" in the saved plan, "renamed" now`}},
		{name: "a recipient forged", edit: func(d *SavedPlan) {
			change(d, "mailing.a").Files[0].Recipient.Lines[0] = "Banque Populaire"
		}, want: []string{`mailing.a: the recipient read from a.pdf differs: "B… P… · 75009 PARIS" in the saved plan, "S… G… · 75009 PARIS" now`}},
		{name: "a recipient's street forged", edit: func(d *SavedPlan) {
			change(d, "mailing.a").Files[0].Recipient.Lines[1] = "1 rue de Rivoli"
		}, want: []string{`mailing.a: the recipient read from a.pdf differs`, "they differ in lines left out"}},
		{name: "a recipient dropped", edit: func(d *SavedPlan) {
			change(d, "mailing.a").Files[0].Recipient = nil
		}, want: []string{`mailing.a: the recipient read from a.pdf differs: none (not read) in the saved plan`}},
		{name: "the letter reads another recipient now", cfg: func(c *config.Config) {
			c.Mailings[0].Documents[0].Recipient.Lines = []string{"Crédit Lyonnais", "75002 PARIS"}
		}, want: []string{`mailing.a: the recipient read from a.pdf differs: "S… G… · 75009 PARIS" in the saved plan, "C… L… · 75002 PARIS" now`}},
		{name: "a letter's subject forged", edit: func(d *SavedPlan) {
			change(d, "mailing.a").Files[0].Subject = "Invitation"
		}, want: []string{`mailing.a: subject of a.pdf "Invitation" in the saved plan, "" now`}},
		{name: "the letter has another subject now", cfg: func(c *config.Config) {
			c.Mailings[0].Documents[0].Letter = &config.Letter{Subject: "Mise en demeure"}
		}, want: []string{`mailing.a: subject of a.pdf "" in the saved plan, "Mise en demeure" now`}},
		{name: "the address check turned off since", cfg: func(c *config.Config) {
			c.Mailings[0].AddressCheck = config.AddressSkipped
			c.Mailings[0].Documents[0].Recipient = nil
		}, want: []string{`mailing.a: address check "read" in the saved plan, "skipped" now`}},
		{name: "a mailing not planned changed since", cfg: func(c *config.Config) {
			c.Mailings[1].Owner = "1077"
		}, want: []string{"the configuration evaluates differently"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good
			if tt.edit != nil {
				b = forge(t, good, tt.edit)
			}
			cfg, st := savedFixture()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			doc, err := DecodeSavedPlan(b)
			if err != nil {
				t.Fatal(err)
			}
			_, err = PlanFromSaved(doc, cfg, st, time.Time{})
			if err == nil {
				t.Fatal("the forged plan was accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// The digest: an edit that is not sealed again, a missing digest, a field
// postform does not write, anything after the document, an older format.
func TestSavedPlanSealIsChecked(t *testing.T) {
	cfg, st := savedFixture()
	good := savedBytes(t, cfg, st, PlanOptions{})
	edited := strings.Replace(string(good), `"action": "no-op"`, `"action": "forget"`, 1)
	var m map[string]any
	if err := json.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	reencode := func(edit func(map[string]any)) string {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		edit(c)
		b, _ := json.Marshal(c)
		return string(b)
	}
	view, err := EncodePlanView(MakePlan(cfg, st, PlanOptions{}).Document("test", PlanOptions{}).View(config.RecipientsMasked))
	if err != nil {
		t.Fatal(err)
	}
	masked := string(view)
	tests := map[string]struct{ in, want string }{
		"edited":             {edited, "digest does not match its content"},
		"no digest":          {reencode(func(c map[string]any) { delete(c, "digest") }), "has no digest"},
		"unknown field":      {reencode(func(c map[string]any) { c["post_anyway"] = true }), `unknown field "post_anyway"`},
		"a view's own field": {reencode(func(c map[string]any) { c["shown_at"] = "2026-12-01" }), "a plan to apply is the file `postform plan --out=FILE` writes"},
		"trailing data":      {string(good) + "{}", "more data follows"},
		"version 1":          {reencode(func(c map[string]any) { c["format_version"] = 1 }), "format version 1; this postform reads version 3"},
		"not json":           {"PK\x03\x04", "not a postform plan file"},
		"masked view":        {masked, "printed with --recipients=masked: its recipients cannot be checked"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if edited == string(good) {
				t.Fatal("the fixture has no no-op to edit")
			}
			_, err := DecodeSavedPlan([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// meaning is what applying a document would do, written out
// independently of diffChange: its changes, sorted, duplicates kept.
func meaning(doc *SavedPlan) string {
	type file struct {
		Box, File, SHA256, RealPath, Recipient string
		Size                                   int64
	}
	type chg struct {
		Address, Action, ContentHash, JobName, Service, Owner, PriorJobID string
		Options, Proofs, Fix, Edits, AddressCheck, PriorRecipient         string
		Files                                                             []file
	}
	var out []chg
	for _, c := range doc.Changes {
		x := chg{Address: c.Address, Action: string(c.Action), ContentHash: c.ContentHash, JobName: c.JobName, Service: c.Service,
			Owner: c.Owner, PriorJobID: c.PriorJobID, Options: canonJSON(c.Options), Proofs: canonJSON(c.Proofs),
			Fix: canonJSON(c.Fix), Edits: canonJSON(c.Edits), AddressCheck: c.AddressCheck, PriorRecipient: canonJSON(c.PriorRecipient)}
		for _, f := range c.Files {
			x.Files = append(x.Files, file{Box: f.Box, File: f.File, SHA256: f.SHA256, RealPath: f.RealPath, Size: f.Size, Recipient: canonJSON(f.Recipient)})
		}
		out = append(out, x)
	}
	slices.SortStableFunc(out, func(a, b chg) int { return strings.Compare(a.Address, b.Address) })
	b, _ := json.Marshal(out)
	return string(b)
}

// FuzzSavedPlan: decoding never panics, and a plan edited and sealed
// again passes only if applying it does exactly what it says, which for the
// same --target and --replace is what the reviewed plan said.
func FuzzSavedPlan(f *testing.F) {
	cfg, st := savedFixture()
	good := savedBytes(f, cfg, st, PlanOptions{})
	f.Add(good)
	f.Add(savedBytes(f, cfg, st, PlanOptions{Targets: []string{"mailing.a"}}))
	f.Add(savedBytes(f, cfg, st, PlanOptions{Replace: []string{"mailing.b"}}))
	f.Add([]byte(strings.Replace(string(good), `"a.pdf"`, `"/etc/passwd"`, 1)))
	f.Add([]byte(strings.Replace(string(good), `"action": "no-op"`, `"action": "forget"`, 1)))
	f.Add([]byte(`{"format_version": 3, "changes": [{"address": "mailing.a", "action": "create"}, {"address": "mailing.a", "action": "create"}]}`))
	f.Add([]byte(`{"format_version": 3, "changes": null, "summary": {"errors": -1}, "fix": {"a": 1e400}}`))
	f.Add([]byte("null"))
	orig, err := DecodeSavedPlan(good)
	if err != nil {
		f.Fatal(err)
	}
	want := meaning(orig)
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, st := savedFixture()
		if doc, err := DecodeSavedPlan(b); err == nil {
			if p, err := PlanFromSaved(doc, cfg, st, time.Time{}); err == nil {
				checkApplied(t, doc, p)
			}
		}
		// As a forger would: seal whatever the bytes say.
		raw, err := decodeSavedJSON(b)
		if err != nil || raw.FormatVersion != SavedPlanFormatVersion {
			return
		}
		sealed, err := EncodeSavedPlan(raw)
		if err != nil {
			return
		}
		doc, err := DecodeSavedPlan(sealed)
		if err != nil {
			t.Fatalf("a plan sealed by EncodeSavedPlan does not decode: %v", err)
		}
		cfg, st = savedFixture()
		p, err := PlanFromSaved(doc, cfg, st, time.Time{})
		if err != nil {
			return
		}
		checkApplied(t, doc, p)
		if canonJSON(doc.Targets) == canonJSON(orig.Targets) && canonJSON(doc.Replace) == canonJSON(orig.Replace) {
			if got := meaning(doc); got != want {
				t.Fatalf("an edited plan passed with another meaning:\n got %s\nwant %s", got, want)
			}
		}
	})
}

// checkApplied: the plan that would be applied is the one the document
// shows.
func checkApplied(t *testing.T, doc *SavedPlan, p *Plan) {
	t.Helper()
	applied := p.Saved("test", PlanOptions{Targets: doc.Targets, Replace: doc.Replace})
	if got, want := meaning(applied), meaning(doc); got != want {
		t.Fatalf("the plan applied is not the plan shown:\napplied %s\n  shown %s", got, want)
	}
}

// A plan saved by postform before the saved plan and the view parted
// (testdata/saved-plan-v3.plan, written by that postform for savedFixture)
// is read, written back to the very same bytes, and applies.
func TestSavedPlanFromBeforeTheSplitIsRead(t *testing.T) {
	golden, err := os.ReadFile("testdata/saved-plan-v3.plan")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := DecodeSavedPlan(golden)
	if err != nil {
		t.Fatalf("a version 3 saved plan is refused: %v", err)
	}
	again, err := EncodeSavedPlan(sp)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(golden) {
		t.Fatalf("the saved plan format changed: a version 3 plan is written back as\n%s", again)
	}
	cfg, st := savedFixture()
	p, err := PlanFromSaved(sp, cfg, st, time.Time{})
	if err != nil {
		t.Fatalf("a version 3 saved plan does not apply: %v", err)
	}
	if c := p.Counts(); c.Post != 2 || c.Forget != 1 {
		t.Fatalf("re-derived plan: %+v", c)
	}
	// And the plan made now is saved with the same meaning.
	now, err := DecodeSavedPlan(savedBytes(t, cfg, st, PlanOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if meaning(now) != meaning(sp) || now.ConfigHash != sp.ConfigHash || summaryText(now.Summary) != summaryText(sp.Summary) {
		t.Fatalf("the plan saved now means something else:\n now %s\nthen %s", meaning(now), meaning(sp))
	}
}

// The saved plan is made of its own types only: a field added to the JSON
// view (PlanDocument and what it holds) cannot reach a saved plan's bytes.
func TestSavedPlanSharesNoTypeWithTheView(t *testing.T) {
	view := map[reflect.Type]bool{}
	var walk func(reflect.Type, map[reflect.Type]bool)
	walk = func(ty reflect.Type, into map[reflect.Type]bool) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || into[ty] {
			return
		}
		into[ty] = true
		for f := range ty.Fields() {
			if f.IsExported() {
				walk(f.Type, into)
			}
		}
	}
	walk(reflect.TypeFor[PlanDocument](), view)
	saved := map[reflect.Type]bool{}
	walk(reflect.TypeFor[SavedPlan](), saved)
	if len(saved) < 10 {
		t.Fatalf("the walk found only %d types in SavedPlan", len(saved))
	}
	for ty := range saved {
		if view[ty] {
			t.Errorf("the saved plan holds %v, a type of the JSON view", ty)
		}
	}
}

// show --json of a saved plan prints what plan --json printed for it.
func TestViewOfASavedPlanIsThePlansView(t *testing.T) {
	cfg, st := savedFixture()
	opts := PlanOptions{Replace: []string{"mailing.b"}}
	p := MakePlan(cfg, st, opts)
	sp, err := DecodeSavedPlan(savedBytes(t, cfg, st, opts))
	if err != nil {
		t.Fatal(err)
	}
	planned, err := EncodePlanView(p.Document("test", opts))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := EncodePlanView(sp.Document())
	if err != nil {
		t.Fatal(err)
	}
	if string(planned) != string(shown) {
		t.Fatalf("plan --json:\n%s\nshow --json of the saved plan:\n%s", planned, shown)
	}
	if !strings.Contains(string(shown), `"format_version": 3`) {
		t.Fatalf("the view has no format_version 3:\n%s", shown)
	}
}
