package config

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/pdf"
)

const letterHCL = `
locals {
  sender = { name = "Société Exemple SAS", lines = ["3 place de l’Église"], postcode = "69002", city = "Lyon" }
}
mailing "notice" {
  for_each = { for r in csvdecode(file("debtors.csv")) : r.id => r }
  service  = "Lettre recommandée avec AR"
  letter {
    from    = local.sender
    to      = { name = each.value.name, lines = [each.value.street], postcode = each.value.postcode, city = each.value.city }
    date    = "2026-12-01"
    subject = "Mise en demeure de payer"
    body    = templatefile("notice.md", each.value)
    signature   = "Direction financière"
    attachments = ["conditions.pdf"]
  }
}
`

func letterFixture(t *testing.T, csv, md string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl":  sandboxProvider + letterHCL,
		"debtors.csv":    csv,
		"notice.md":      md,
		"conditions.pdf": string(a4()),
	})
	return dir
}

const goodCSV = "id,name,street,postcode,city,amount\n" +
	"a1,Mme Hélène Dupré,12 rue de la Paix,75002,Paris,\"1 250,00 €\"\n" +
	"b2,M. Éric Lefèvre,5 avenue Foch,69006,Lyon,\"99,00 €\"\n"

const noticeMD = "Madame, Monsieur,\n\nLa somme de **${amount}** reste impayée.\n"

func TestLetterRendered(t *testing.T) {
	dir := letterFixture(t, goodCSV, noticeMD)
	cache := &memCache{}
	cfg := mustLoad(t, dir, LoadOptions{HashCache: cache, PDF: engine})
	if len(cfg.Mailings) != 2 {
		t.Fatalf("%d mailings", len(cfg.Mailings))
	}
	m := cfg.Mailings[0]
	d := m.Documents[0]
	if m.AddressCheck != AddressRendered || d.Letter == nil || d.Letter.Subject != "Mise en demeure de payer" {
		t.Fatalf("mailing %s: check %q, letter %+v", m.Address, m.AddressCheck, d.Letter)
	}
	if want := []string{"Mme Hélène Dupré", "12 rue de la Paix", "75002 PARIS"}; !slices.Equal(d.Recipient.Lines, want) || d.Recipient.Postcode != "75002" || d.Recipient.City != "PARIS" {
		t.Errorf("recipient %+v, want %q", d.Recipient, want)
	}
	if d.Pages != 2 || !strings.HasPrefix(d.File, ".postform/rendered/") || !strings.HasSuffix(d.File, d.SHA256+".pdf") {
		t.Errorf("document %s: %d pages, sha %s", d.File, d.Pages, d.SHA256)
	}
	b, err := os.ReadFile(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	// The platform reads what plan shows: the window holds the recipient.
	r, err := engine.Recipient(b, pdf.DefaultWindow)
	if err != nil || !slices.Equal(r.Lines, d.Recipient.Lines) || len(r.Problems) > 0 {
		t.Errorf("read back %+v, %v", r, err)
	}
	p, err := engine.Page(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, l := range p.Lines {
		text.WriteString(l.Text + "\n")
	}
	if !strings.Contains(text.String(), "La somme de 1 250,00 € reste impayée.") {
		t.Errorf("page 1 reads:\n%s", text.String())
	}

	if got := cfg.Mailings[1].Documents[0].Recipient.Lines[0]; got != "M. Éric Lefèvre" {
		t.Errorf("second letter to %q", got)
	}
	// The hash cache knows each rendering at once: the next Load reads none.
	if _, _, ok := cache.Lookup(d.Path, d.Size, statTime(t, d.Path)); !ok {
		t.Error("the rendering is not in the hash cache")
	}

	// A second Load renders nothing: same files, same hashes; and renders
	// again when a rendering is removed.
	before := listRendered(t, dir)
	cfg2 := mustLoad(t, dir, LoadOptions{HashCache: cache})
	if got := cfg2.Mailings[0].Documents[0]; got.SHA256 != d.SHA256 || got.Pages != 2 || cfg2.Mailings[0].ContentHash != m.ContentHash {
		t.Errorf("second load: %+v", got)
	}
	if after := listRendered(t, dir); !slices.Equal(before, after) {
		t.Errorf("rendered files %v, then %v", before, after)
	}
	os.Remove(d.Path)
	cfg3 := mustLoad(t, dir, LoadOptions{})
	if cfg3.Mailings[0].Documents[0].SHA256 != d.SHA256 {
		t.Error("a removed rendering comes back different")
	}
	if _, err := os.Stat(d.Path); err != nil {
		t.Errorf("a removed rendering is not rendered again: %v", err)
	}
	// A tampered rendering of the same size is not trusted.
	b[len(b)-20] ^= 1
	os.WriteFile(d.Path, b, 0o644)
	cfg4 := mustLoad(t, dir, LoadOptions{})
	if b2, _ := os.ReadFile(d.Path); cfg4.Mailings[0].Documents[0].SHA256 != d.SHA256 || string(b2) == string(b) {
		t.Error("a tampered rendering is used")
	}
}

func listRendered(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, layout.Rendered))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestLetterRefused(t *testing.T) {
	long := strings.Repeat("x", 45)
	tests := []struct {
		name, csv, md, code string
		line                int // of the diagnostic in main.mail.hcl (0: not checked)
		has                 string
	}{
		{"no postcode", "id,name,street,postcode,city,amount\na,A,1 rue B,,Paris,1\n", noticeMD, diag.CodeLetterLocality, 0, "no postcode"},
		{"no city", "id,name,street,postcode,city,amount\na,A,1 rue B,75002,,1\n", noticeMD, diag.CodeLetterLocality, 0, "no city"},
		{"45 characters", "id,name,street,postcode,city,amount\na,A," + long + ",75002,Paris,1\n", noticeMD, diag.CodeLetterAddressLength, 0, "45 characters"},
		{"unknown variable", goodCSV[:strings.Index(goodCSV, "\n")+1] + "a,A,1 rue B,75002,Paris,1\n", "Bonjour ${nom},\n", diag.CodeFunctionError, 0, "nom"},
		{"missing glyph", "id,name,street,postcode,city,amount\na,A,1 rue B,75002,Paris,1\n", "Merci 🙂\n", diag.CodeLetterGlyph, 0, "U+1F642"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := letterFixture(t, tc.csv, tc.md)
			_, diags := Load(dir, LoadOptions{})
			d := hasCode(diags, tc.code)
			if d == nil || !strings.Contains(d.Detail, tc.has) {
				t.Fatalf("diagnostics %v: want %s mentioning %q", diags, tc.code, tc.has)
			}
			if d.Subject == nil || !strings.HasSuffix(d.Subject.Filename, "main.mail.hcl") {
				t.Fatalf("diagnostic at %v", d.Subject)
			}
			src, _ := os.ReadFile(filepath.Join(dir, "main.mail.hcl"))
			line := strings.Split(string(src), "\n")[d.Subject.Start.Line-1]
			attr := map[string]string{diag.CodeLetterLocality: "to ", diag.CodeLetterAddressLength: "to ", diag.CodeFunctionError: "body ", diag.CodeLetterGlyph: "body "}[tc.code]
			if !strings.HasPrefix(strings.TrimSpace(line), attr) {
				t.Errorf("diagnostic at line %d %q, want the %q attribute", d.Subject.Start.Line, line, attr)
			}
			if _, err := os.Stat(filepath.Join(dir, ".postform")); !os.IsNotExist(err) {
				t.Errorf("a refused letter wrote .postform: %v", err)
			}
		})
	}
	t.Run("attachment not a PDF", func(t *testing.T) {
		dir := letterFixture(t, goodCSV, noticeMD)
		writeFiles(t, dir, map[string]string{"conditions.pdf": "hello"})
		_, diags := Load(dir, LoadOptions{})
		if d := hasCode(diags, diag.CodeLetterFile); d == nil || !strings.Contains(d.Detail, "not a PDF") {
			t.Fatalf("diagnostics %v", diags)
		}
	})
	t.Run("attachment larger than max_file_size", func(t *testing.T) {
		dir := letterFixture(t, goodCSV, noticeMD)
		src := strings.Replace(sandboxProvider, `endpoint = "sandbox"`, "endpoint = \"sandbox\"\n  max_file_size = 100", 1) + letterHCL
		writeFiles(t, dir, map[string]string{"main.mail.hcl": src})
		_, diags := Load(dir, LoadOptions{})
		if d := hasCode(diags, diag.CodeMissingFile); d == nil || !strings.Contains(d.Detail, "larger than 100 bytes") {
			t.Fatalf("diagnostics %v", diags)
		}
	})
	t.Run("seven lines", func(t *testing.T) {
		dir := letterFixture(t, goodCSV, noticeMD)
		src := strings.Replace(sandboxProvider+letterHCL, "lines = [each.value.street]", `lines = ["a", "b", "c", "d", each.value.street]`, 1)
		writeFiles(t, dir, map[string]string{"main.mail.hcl": src})
		_, diags := Load(dir, LoadOptions{})
		if d := hasCode(diags, diag.CodeLetterAddressLength); d == nil || !strings.Contains(d.Detail, "7 lines") {
			t.Fatalf("diagnostics %v", diags)
		}
	})
}

func statTime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// A sender written as plain lines, and a PNG logo.
func TestLetterLogoAndSenderLines(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var logo bytes.Buffer
	if err := png.Encode(&logo, img); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"logo.png": logo.String(),
		"main.mail.hcl": sandboxProvider + `
mailing "one" {
  service = "Lettre simple"
  letter {
    from = ["Exemple SAS", "10 rue de Rivoli", "75004 Paris"]
    logo = "logo.png"
    to   = { name = "Mme A", lines = ["1 rue B"], postcode = "75002", city = "Paris" }
    body = "Bonjour."
  }
}
`})
	cfg := mustLoad(t, dir, LoadOptions{})
	b, err := os.ReadFile(cfg.Mailings[0].Documents[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("/Subtype /Image")) {
		t.Error("no image in the rendered letter")
	}
	p, err := engine.Page(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range p.Lines {
		lines = append(lines, l.Text)
	}
	if !slices.Contains(lines, "10 rue de Rivoli") || !slices.Contains(lines, "75004 Paris") {
		t.Errorf("page 1: %q", lines)
	}

	writeFiles(t, dir, map[string]string{"logo.png": "GIF89a not a png"})
	if _, diags := Load(dir, LoadOptions{}); hasCode(diags, diag.CodeLetterFile) == nil {
		t.Errorf("a logo that is not a PNG: %v", diags)
	}
}
