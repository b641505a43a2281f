package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/postform/postform/config"
)

func TestRecipientMasked(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"company, service and street", []string{"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"}, "S… G… · 75009 PARIS"},
		{"abroad: the country line is kept", []string{"Herrn Jürgen Weiß", "Hauptstraße 5", "10115 Berlin", "ALLEMAGNE"}, "H… J… W… · ALLEMAGNE"},
		{"accented initials", []string{"Élodie Ødegård", "8 allée des Ormes", "69001 LYON"}, "É… Ø… · 69001 LYON"},
		{"decomposed accents stay with their letter", []string{"E\u0301milie Dupont", "69001 LYON"}, "E\u0301… D… · 69001 LYON"},
		{"guillemets and punctuation are not initials", []string{"Association « Les Amis » - M. Lévêque", "3 rue Cler", "75007 PARIS"}, "A… L… A… M… L… · 75007 PARIS"},
		{"a quoted name starts at its letter", []string{"«Le Cercle»", "75007 PARIS"}, "L… C… · 75007 PARIS"},
		{"one line is all name", []string{"Jean Valjean"}, "J… V…"},
		{"blank first line", []string{"   ", "75007 PARIS"}, "75007 PARIS"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &PlanRecipient{Lines: tt.lines, Postcode: "75009", City: "PARIS"}
			got := r.Masked()
			if got.String() != tt.want {
				t.Errorf("Masked(%q) = %q, want %q", tt.lines, got.String(), tt.want)
			}
			if got.Lines == nil {
				t.Error("masked lines are null, want [] in JSON")
			}
			for _, l := range tt.lines[:max(len(tt.lines)-1, 0)] {
				for _, w := range strings.Fields(l) {
					if len([]rune(w)) > 2 && strings.Contains(got.String(), w) {
						t.Errorf("masked %q still shows %q", got.String(), w)
					}
				}
			}
			if !slices.Equal(r.Lines, tt.lines) {
				t.Errorf("Masked changed the recipient: %q", r.Lines)
			}
		})
	}
}

func TestRecipientShown(t *testing.T) {
	r := &PlanRecipient{Lines: []string{"Société Générale", "75009 PARIS"}, Postcode: "75009", City: "PARIS"}
	if got := r.Shown(config.RecipientsFull); got != r {
		t.Errorf("full: %+v", got)
	}
	if got := r.Shown(config.RecipientsMasked); got.String() != "S… G… · 75009 PARIS" || got.Postcode != "75009" {
		t.Errorf("masked: %+v", got)
	}
	if got := r.Shown(config.RecipientsHidden); len(got.Lines) != 0 || got.Lines == nil || got.Postcode != "" || got.City != "" {
		t.Errorf("hidden: %+v", got)
	}
	if (*PlanRecipient)(nil).Shown(config.RecipientsMasked) != nil {
		t.Error("a letter without recipient gained one")
	}
}

// A masked view leaves the document it was made from unchanged: the saved
// plan written from it keeps the lines read.
func TestViewDoesNotTouchTheDocument(t *testing.T) {
	r := &PlanRecipient{Lines: []string{"Société Générale", "75009 PARIS"}}
	doc := &PlanDocument{Changes: []PlanChange{{Address: "mailing.a", Files: []PlanFile{{File: "a.pdf", Recipient: r}},
		PriorRecipient: &PlanRecipient{Lines: []string{"Crédit Lyonnais", "75002 PARIS"}}}}}
	v := doc.View(config.RecipientsMasked)
	if v.RecipientsShown != "masked" || v.Changes[0].Files[0].Recipient.String() != "S… G… · 75009 PARIS" || v.Changes[0].PriorRecipient.String() != "C… L… · 75002 PARIS" {
		t.Fatalf("view: %+v", v.Changes[0])
	}
	if doc.RecipientsShown != "" || doc.Changes[0].Files[0].Recipient.String() != "Société Générale · 75009 PARIS" || doc.Changes[0].PriorRecipient.Lines[0] != "Crédit Lyonnais" {
		t.Fatalf("the document was changed: %+v", doc.Changes[0])
	}
	if doc.View(config.RecipientsFull) != doc {
		t.Fatal("a full view is not the document")
	}
}

// A diagnostic quoting an address line (the line that crosses the window's
// edge) shows it as the view shows recipients.
func TestViewRedactsDiagnostics(t *testing.T) {
	line := "Résidence Les Grandes Terrasses du Parc, bâtiment B"
	doc := &PlanDocument{
		Changes: []PlanChange{{Address: "mailing.a", Files: []PlanFile{{File: "a.pdf",
			Recipient: &PlanRecipient{Lines: []string{"Société Générale", line, "75009 PARIS"}}}}}},
		Diagnostics: []PlanDiagnostic{{Severity: "error", Code: "PF119", Summary: "Address crosses the window's edge",
			Detail: `The letter "a.pdf" of mailing.a is not posted: page 1: the line "` + line + `" runs past the right edge.`}},
	}
	for mode, want := range map[string]string{
		config.RecipientsMasked: `the line "R… L… G… T… d… P… b… B…" runs past`,
		config.RecipientsHidden: `the line "(hidden)" runs past`,
	} {
		v := doc.View(mode)
		if d := v.Diagnostics[0].Detail; !strings.Contains(d, want) || strings.Contains(d, "Terrasses") {
			t.Errorf("%s: %s", mode, d)
		}
		if got := v.Redact("to Société Générale"); strings.Contains(got, "Société") {
			t.Errorf("%s: Redact left %q", mode, got)
		}
	}
	if !strings.Contains(doc.Diagnostics[0].Detail, line) || doc.Redact(line) != line {
		t.Error("the full document was redacted")
	}
}
