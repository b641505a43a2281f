package reconcile

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"github.com/postform/postform/config"
)

// PlanRecipient is who a letter goes to, as read from page 1's address
// window: its lines top to bottom, and the locality where it was recognised.
type PlanRecipient struct {
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode,omitempty"`
	City     string   `json:"city,omitempty"`
	Country  string   `json:"country,omitempty"`
}

// String is the address on one line, its lines joined by " · ".
func (r *PlanRecipient) String() string { return strings.Join(r.Lines, " · ") }

// Shown is the recipient as a view under mode (config.RecipientsFull,
// Masked or Hidden) shows it: full is r itself; masked keeps the initials
// of the name and the locality line (Masked); hidden keeps nothing.
func (r *PlanRecipient) Shown(mode string) *PlanRecipient {
	if r == nil {
		return nil
	}
	switch mode {
	case config.RecipientsMasked:
		return r.Masked()
	case config.RecipientsHidden:
		return &PlanRecipient{Lines: []string{}}
	}
	return r
}

// Masked is the recipient without what names a person or a street: the
// first line (the name) reduced to initials, "Société Générale" → "S… G…",
// the lines between (service, building, street) dropped, and the last line
// (postcode and city, or the country) kept, with the recognised locality.
// A one-line address is all name: only its initials are kept.
func (r *PlanRecipient) Masked() *PlanRecipient {
	out := &PlanRecipient{Lines: []string{}, Postcode: r.Postcode, City: r.City, Country: r.Country}
	if len(r.Lines) == 0 {
		return out
	}
	if in := initials(r.Lines[0]); in != "" {
		out.Lines = append(out.Lines, in)
	}
	if len(r.Lines) > 1 {
		out.Lines = append(out.Lines, r.Lines[len(r.Lines)-1])
	} else {
		out.Postcode, out.City, out.Country = "", "", ""
	}
	return out
}

// initials reduces each word of line to its first letter or digit (with
// the accents that follow it, when written decomposed) and "…"; words of
// punctuation alone, such as « or -, are left out.
func initials(line string) string {
	var out []string
	for _, w := range strings.Fields(line) {
		rs := []rune(w)
		for i, c := range rs {
			if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
				continue
			}
			j := i + 1
			for j < len(rs) && unicode.Is(unicode.Mn, rs[j]) {
				j++
			}
			out = append(out, string(rs[i:j])+"…")
			break
		}
	}
	return strings.Join(out, " ")
}

// View is a copy of the document for printing with recipients shown under
// mode. A masked or hidden view says so in recipients_shown, and cannot be
// applied: the saved plan (plan --out) always keeps the lines read, so that
// apply can check them against what the letters hold.
func (d *PlanDocument) View(mode string) *PlanDocument {
	if mode != config.RecipientsMasked && mode != config.RecipientsHidden {
		return d
	}
	v := *d
	v.RecipientsShown = mode
	v.redact = redactor(d, mode)
	v.Diagnostics = make([]PlanDiagnostic, len(d.Diagnostics))
	for i, dg := range d.Diagnostics {
		dg.Summary, dg.Detail = v.Redact(dg.Summary), v.Redact(dg.Detail)
		v.Diagnostics[i] = dg
	}
	v.Changes = make([]PlanChange, len(d.Changes))
	for i, ch := range d.Changes {
		ch.PriorRecipient = ch.PriorRecipient.Shown(mode)
		files := make([]PlanFile, len(ch.Files))
		for j, f := range ch.Files {
			f.Recipient = f.Recipient.Shown(mode)
			files[j] = f
		}
		if ch.Files != nil {
			ch.Files = files
		}
		v.Changes[i] = ch
	}
	return &v
}

// Redact masks, in text about the plan (a diagnostic quoting an address
// line that crosses the window's edge), every recipient line of the
// document as the view shows recipients: initials when masked, "(hidden)"
// when hidden. A full document returns s unchanged.
func (d *PlanDocument) Redact(s string) string {
	if d.redact == nil {
		return s
	}
	return d.redact.Replace(s)
}

// redactor replaces every recipient line of d, longest first so that a
// line containing another is replaced whole.
func redactor(d *PlanDocument, mode string) *strings.Replacer {
	seen := map[string]bool{}
	var lines []string
	add := func(r *PlanRecipient) {
		if r == nil {
			return
		}
		for _, l := range r.Lines {
			// Short lines ("M.", "BP") would mask unrelated words.
			if l = strings.TrimSpace(l); len([]rune(l)) >= 4 && !seen[l] {
				seen[l] = true
				lines = append(lines, l)
			}
		}
	}
	for _, ch := range d.Changes {
		add(ch.PriorRecipient)
		for _, f := range ch.Files {
			add(f.Recipient)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	slices.SortFunc(lines, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	pairs := make([]string, 0, 2*len(lines))
	for _, l := range lines {
		with := "(hidden)"
		if mode == config.RecipientsMasked {
			with = cmp.Or(initials(l), "…")
		}
		pairs = append(pairs, l, with)
	}
	return strings.NewReplacer(pairs...)
}
