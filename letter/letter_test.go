package letter

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/postform/postform/pdf"
)

// engine reads rendered letters back: PDFium, another PDF tool than the
// writer, as the platform would.
var engine *pdf.Engine

func TestMain(m *testing.M) {
	engine = pdf.Open(pdf.Options{CacheDir: filepath.Join(os.TempDir(), "postform-test-pdfium-cache")})
	code := m.Run()
	engine.Close()
	os.Exit(code)
}

func sample() *Letter {
	return &Letter{
		From: Address{Name: "Société Exemple SAS", Lines: []string{"Direction financière", "3 place de l’Église"}, Postcode: "69002", City: "Lyon"},
		To: Address{Name: "Mme Hélène Dupré", Lines: []string{"Résidence « Les Érables »", "12 rue de la Paix"},
			Postcode: "75002", City: "Paris"},
		Date:    "2026-12-01",
		Subject: "Mise en demeure de payer",
		Body: "Madame,\n\nMalgré nos relances, à la ﬁn du mois, la facture nº 2026-117 d’un montant de **1 250,00 €** reste *impayée*.\n\n" +
			"## Détail\n\n- facture du 3 octobre\n- pénalités de retard\n\n1. payer sous huit jours\n2. ou nous appeler\n\n" +
			"Veuillez agréer, Madame, nos salutations distinguées.  \nLe service financier",
		Signature: "Direction financière\nJean Martin",
		Footer:    "Société Exemple SAS — capital 10 000 € — RCS Lyon 123 456 789",
	}
}

func render(t testing.TB, l *Letter) *Result {
	t.Helper()
	r, err := Render(l)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The recipient lands in the address window: the engine plan uses reads it
// back, line for line, with no preflight finding.
func TestRecipientInWindow(t *testing.T) {
	for _, tc := range []struct {
		name string
		to   Address
		w    pdf.Window
	}{
		{"default window", sample().To, pdf.Window{}},
		{"six long lines", Address{Name: "MONSIEUR JEAN-CHRISTOPHE DE LA FONTAIN", Lines: []string{"RESIDENCE DU PARC, BATIMENT B, ESC. 4", "Bâtiment B, escalier 4, appartement 12", "Lieu-dit Les Grands Champs du Moulin"}, Postcode: "13100", City: "Aix-en-Provence"}, pdf.Window{}},
		{"abroad", Address{Name: "Herrn Klaus Müller", Lines: []string{"Hauptstraße 5"}, Postcode: "10115", City: "Berlin", Country: "Allemagne"}, pdf.Window{}},
		{"custom window", sample().To, pdf.Window{LeftMM: 20, TopMM: 45, WidthMM: 90, HeightMM: 35}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := sample()
			l.To, l.Window = tc.to, tc.w
			r := render(t, l)
			got, err := engine.Recipient(r.PDF, l.window())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Lines, l.To.Printed()) || len(got.Problems) > 0 {
				t.Errorf("read back %q, problems %v; want %q", got.Lines, got.Problems, l.To.Printed())
			}
			if got.City == "" {
				t.Errorf("no locality recognised in %q", got.Lines)
			}
		})
	}
}

// A golden of page 1: every text line and where it is, as PDFium reads it.
func TestGoldenText(t *testing.T) {
	r := render(t, sample())
	p, err := engine.Page(r.PDF, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range p.Lines {
		fmt.Fprintf(&b, "%5.1f %5.1f  %s\n", l.Box.Left, l.Box.Top, l.Text)
	}
	golden := filepath.Join("testdata", "sample.golden")
	if os.Getenv("POSTFORM_UPDATE_GOLDEN") != "" {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, []byte(b.String()), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (POSTFORM_UPDATE_GOLDEN=1 writes it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("page 1 reads\n%s\nwant\n%s", b.String(), want)
	}
	for _, w := range []string{"impayée", "1 250,00 €", "« Les Érables »", "Détail", "pénalités", "Objet : Mise en demeure de payer", "Lyon, le 1er décembre 2026", "d’un", "à la fin du mois"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("page 1 lacks %q", w)
		}
	}
}

// The same letter gives the same bytes, whatever the clock, the time zone
// and the folder: with an attachment, which pdfcpu writes with dates and a
// file identifier from the clock.
func TestDeterministic(t *testing.T) {
	att := attachment(t, "Conditions générales")
	renderAt := func(zone *time.Location, dir string) []byte {
		saved := time.Local
		time.Local = zone
		defer func() { time.Local = saved }()
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		l := sample()
		l.Attachments = [][]byte{att}
		r := render(t, l)
		if r.Pages != 2 {
			t.Errorf("pages = %d, want 2", r.Pages)
		}
		return r.PDF
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	a := renderAt(time.UTC, t.TempDir())
	time.Sleep(1100 * time.Millisecond) // pdfcpu's dates have one-second steps
	b := renderAt(time.FixedZone("UTC+5:30", 5*3600+1800), t.TempDir())
	if !bytes.Equal(a, b) {
		t.Fatalf("two renderings differ (%x vs %x)", sha256.Sum256(a), sha256.Sum256(b))
	}
	if bytes.Contains(a, []byte("D:2026")) || !bytes.Contains(a, []byte("/ID")) {
		t.Errorf("the dates or the identifier come from the clock:\n%s", tail(a))
	}
	if n, err := attachmentPages(a, sum(a)); err != nil || n != 2 {
		t.Errorf("the merged PDF reads as %d pages, %v", n, err)
	}
	p, err := engine.Page(a, 1)
	if err != nil || len(p.Lines) == 0 || p.Lines[0].Text != "Conditions générales" {
		t.Errorf("page 2 is not the attachment: %+v, %v", p, err)
	}
	// Without attachments too, and the bytes differ when the text does.
	c, d := render(t, sample()).PDF, render(t, sample()).PDF
	e := sample()
	e.Body += " Merci."
	if !bytes.Equal(c, d) || bytes.Equal(c, render(t, e).PDF) {
		t.Error("a letter without attachments does not render to stable, distinct bytes")
	}
}

func tail(b []byte) string {
	return string(b[max(0, len(b)-400):])
}

// attachment is a one-page PDF from another producer (fpdf's core fonts).
func attachment(t testing.TB, title string) []byte {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreationDate(fixedTime)
	f.AddPage()
	f.SetFont("Helvetica", "", 14)
	tr := f.UnicodeTranslatorFromDescriptor("")
	f.Text(20, 30, tr(title))
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPageBreaksAndNumbers(t *testing.T) {
	l := sample()
	l.Body = strings.Repeat("Un paragraphe assez long pour remplir des lignes entières de texte, encore et encore.\n\n", 60)
	r := render(t, l)
	if r.Pages < 2 {
		t.Fatalf("pages = %d, want a long body to break", r.Pages)
	}
	for i := 0; i < r.Pages; i++ {
		p, err := engine.Page(r.PDF, i)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%d/%d", i+1, r.Pages)
		found := false
		for _, line := range p.Lines {
			found = found || strings.Contains(line.Text, want)
		}
		if !found {
			t.Errorf("page %d has no %q", i+1, want)
		}
	}
	one, err := engine.Page(render(t, sample()).PDF, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range one.Lines {
		if strings.Contains(line.Text, "1/1") {
			t.Error("a one-page letter is numbered")
		}
	}
}

func TestAddressTooWide(t *testing.T) {
	l := sample()
	l.To.Lines = []string{strings.Repeat("W", 38)}
	var e *Error
	if _, err := Render(l); !errors.As(err, &e) || e.Field != FieldTo || e.Kind != AddressTooLong {
		t.Fatalf("Render = %v, want an AddressTooLong error on to", err)
	}
}

func TestCheck(t *testing.T) {
	long := strings.Repeat("x", 45)
	tests := []struct {
		name string
		edit func(*Letter)
		kind ProblemKind
		has  string
	}{
		{"no postcode", func(l *Letter) { l.To.Postcode = "" }, NoLocality, "no postcode"},
		{"no city", func(l *Letter) { l.To.City = "" }, NoLocality, "no city"},
		{"bad postcode", func(l *Letter) { l.To.Postcode = "750" }, NoLocality, "five digits"},
		{"seven lines", func(l *Letter) { l.To.Lines = []string{"a", "b", "c", "d", "e"} }, AddressTooLong, "7 lines"},
		{"45 characters", func(l *Letter) { l.To.Lines[0] = long }, AddressTooLong, "45 characters"},
		{"missing glyph", func(l *Letter) { l.Body += " 🙂" }, MissingGlyph, "U+1F642"},
		{"control character", func(l *Letter) { l.Subject += "\x07" }, MissingGlyph, "U+0007"},
		{"not a PDF", func(l *Letter) { l.Attachments = [][]byte{[]byte("hello")} }, NotPDF, "not a PDF"},
		{"bad logo", func(l *Letter) { l.Logo = []byte("GIF89a") }, BadLogo, "PNG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := sample()
			tc.edit(l)
			ps := l.Check()
			if len(ps) != 1 || ps[0].Kind != tc.kind || !strings.Contains(ps[0].Message, tc.has) {
				t.Fatalf("Check = %+v, want one %s mentioning %q", ps, tc.kind, tc.has)
			}
			if _, err := Render(l); err == nil {
				t.Error("Render accepted it")
			}
		})
	}
	abroad := sample()
	abroad.To = Address{Name: "A", Lines: []string{"b", "c", "d", "e"}, Postcode: "1000", City: "Bruxelles", Country: "Belgique"}
	if ps := abroad.Check(); len(ps) != 0 {
		t.Errorf("a 7-line address abroad: %v", ps)
	}
	if ps := sample().Check(); len(ps) != 0 {
		t.Errorf("the sample: %v", ps)
	}
}

func TestInputHash(t *testing.T) {
	a, b := sample(), sample()
	if a.InputHash() != b.InputHash() {
		t.Fatal("equal letters hash differently")
	}
	b.Attachments = [][]byte{attachment(t, "x")}
	c := sample()
	c.Window = pdf.Window{LeftMM: 20, TopMM: 45, WidthMM: 90, HeightMM: 35}
	if a.InputHash() == b.InputHash() || a.InputHash() == c.InputHash() {
		t.Error("an attachment or the window does not change the hash")
	}
}
