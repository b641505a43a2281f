package pdf

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// engine is shared by every test: one PDFium per process, as in postform.
var engine *Engine

// testCacheDir keeps wazero's compilation between test runs, so `go test
// ./pdf/` starts PDFium in about 0.1 s after the first run. wazero keys the
// entries by its version and the module's hash; a go-pdfium upgrade adds one.
var testCacheDir = filepath.Join(os.TempDir(), "postform-test-pdfium-cache")

func TestMain(m *testing.M) {
	engine = Open(Options{CacheDir: testCacheDir})
	code := m.Run()
	if err := engine.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing the engine:", err)
		code = 1
	}
	os.Exit(code)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kinds(ps []Problem) []ProblemKind {
	var k []ProblemKind
	for _, p := range ps {
		k = append(k, p.Kind)
	}
	return k
}

// Letters from real producers (see testdata/gen.sh). LibreOffice: subset
// TrueType fonts with ToUnicode maps, compressed streams, kerned TJ arrays,
// accents, a sender block top left, a date line just above the window, two
// pages. pdfcpu (cid.pdf): a Type0/CIDFontType2 subset, Identity-H, object streams.
func TestRecipientRealProducers(t *testing.T) {
	tests := []struct {
		file                    string
		lines                   []string
		postcode, city, country string
		problems                []ProblemKind
		crossing                bool
	}{
		{file: "letter.pdf",
			lines:    []string{"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"},
			postcode: "75009", city: "PARIS"},
		{file: "abroad.pdf",
			lines:    []string{"Herrn Jürgen Weiß", "Hauptstraße 5", "10115 Berlin", "ALLEMAGNE"},
			postcode: "10115", city: "Berlin", country: "ALLEMAGNE"},
		{file: "cid.pdf",
			lines:    []string{"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"},
			postcode: "75009", city: "PARIS"},
		{file: "topleft.pdf", problems: []ProblemKind{EmptyWindow}},
		{file: "crossing.pdf",
			lines:    []string{"Société Générale", "Résidence Les Grandes Terrasses du Parc, bâtiment B", "75009 PARIS"},
			postcode: "75009", city: "PARIS", crossing: true, problems: []ProblemKind{CrossingEdge}},
		{file: "nolocality.pdf",
			lines:    []string{"Madame Claire Léger", "Bâtiment C, escalier 2", "8 allée des Ormes"},
			problems: []ProblemKind{NoLocality}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := engine.Recipient(fixture(t, tt.file), DefaultWindow)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Lines, tt.lines) {
				t.Errorf("lines = %q, want %q", r.Lines, tt.lines)
			}
			if r.Postcode != tt.postcode || r.City != tt.city || r.Country != tt.country {
				t.Errorf("locality = %q %q %q, want %q %q %q", r.Postcode, r.City, r.Country, tt.postcode, tt.city, tt.country)
			}
			if got := kinds(r.Problems); !slices.Equal(got, tt.problems) {
				t.Errorf("problems = %v, want %v (%v)", got, tt.problems, r.Problems)
			}
			if r.Crossing != tt.crossing {
				t.Errorf("crossing = %v, want %v", r.Crossing, tt.crossing)
			}
			if r.Page != 1 || r.Pages != 2 {
				t.Errorf("page %d of %d, want 1 of 2", r.Page, r.Pages)
			}
		})
	}
}

func TestProblemMessages(t *testing.T) {
	r, err := engine.Recipient(fixture(t, "crossing.pdf"), DefaultWindow)
	if err != nil {
		t.Fatal(err)
	}
	p := r.Problems[0]
	if p.Line != "Résidence Les Grandes Terrasses du Parc, bâtiment B" || !strings.Contains(p.Message, "right edge") || p.Box.Right < 200 {
		t.Errorf("crossing problem = %+v", p)
	}
	r, err = engine.Recipient(fixture(t, "topleft.pdf"), DefaultWindow)
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Problems[0].Message; !strings.Contains(m, "page 1") || !strings.Contains(m, "85×33 mm at 110 mm from the left, 55 mm from the top") {
		t.Errorf("empty window message = %q", m)
	}
}

// A window of one's own: the top-left letter read where its address is.
func TestRecipientCustomWindow(t *testing.T) {
	r, err := engine.Recipient(fixture(t, "topleft.pdf"), Window{LeftMM: 18, TopMM: 14, WidthMM: 80, HeightMM: 20})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"}
	if !slices.Equal(r.Lines, want) || len(r.Problems) != 0 {
		t.Errorf("lines = %q, problems %v", r.Lines, r.Problems)
	}
	if _, err := engine.Recipient(fixture(t, "topleft.pdf"), Window{WidthMM: 0, HeightMM: 10}); err == nil {
		t.Error("a window without width was accepted")
	}
}

func TestPageText(t *testing.T) {
	b := fixture(t, "letter.pdf")
	p, err := engine.Page(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rotation != 0 || p.WidthMM < 209.5 || p.WidthMM > 210.5 || p.HeightMM < 296.5 || p.HeightMM > 297.5 {
		t.Errorf("page %v×%v mm rotated %d, want A4 portrait", p.WidthMM, p.HeightMM, p.Rotation)
	}
	var texts []string
	for _, l := range p.Lines {
		texts = append(texts, l.Text)
	}
	// The sender's frame is at 20 mm, 15 mm; its first line's ink starts just inside.
	if texts[0] != "Jean-François Dupré" || p.Lines[0].Box.Left < 19.5 || p.Lines[0].Box.Left > 21 || p.Lines[0].Box.Top < 15 || p.Lines[0].Box.Top > 17 {
		t.Errorf("first line %q at %v", texts[0], p.Lines[0].Box)
	}
	if !slices.Contains(texts, "Objet : « Contestation de la facture n° 2025-117 »") {
		t.Errorf("no object line with guillemets in %q", texts)
	}
	c, err := engine.Page(fixture(t, "cid.pdf"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Lines[0].Text; got != "Jean-François Dupré" {
		t.Errorf("cid.pdf's first line = %+q", got)
	}
	p2, err := engine.Page(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Lines) == 0 || p2.Lines[0].Text != "Pièce jointe : reçu du 12 février 2025, relevé de compteur, échéancier." {
		t.Errorf("page 2 = %+v", p2.Lines)
	}
	if _, err := engine.Page(b, 2); err == nil || !strings.Contains(err.Error(), "has 2") {
		t.Errorf("page 3 of 2: err = %v", err)
	}
	if n, err := engine.PageCount(b); err != nil || n != 2 {
		t.Errorf("PageCount = %d, %v", n, err)
	}
}

// Hand-made PDFs for what LibreOffice does not write: word spaces made only
// by TJ offsets, a sender and a recipient typed on the same lines (one TJ
// with a wide offset, as tabs give), text inside a form XObject, a page
// displayed rotated.
func TestRecipientHandmade(t *testing.T) {
	want := []string{"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"}
	// Kerning inside words, spaces only as TJ offsets (-280/1000 em).
	kerned := textAt(111, 60,
		`(Soci) 15 (\351t\351) -280 (G) 20 (\351n\351rale)`,
		`(Service) -280 (Contentieux)`,
		`(29) -280 (boulevard) -280 (Haussmann)`,
		`(75009) -280 (PARIS)`)
	// Sender and recipient on the same baselines, 90 mm apart in one TJ.
	sameLines := textAt(20, 60,
		`(Jean Dupont) -22000 (Soci\351t\351 G\351n\351rale)`,
		`(12 rue des Lilas) -20000 (Service Contentieux)`,
		`(69003 Lyon) -22500 (29 boulevard Haussmann)`,
		`() -27000 (75009 PARIS)`)
	// The address drawn by a form XObject placed at (111 mm, 60 mm from the top).
	form := "BT /F1 11 Tf 0 0 Td [(Soci\\351t\\351 G\\351n\\351rale)] TJ 0 -12.76 Td (Service Contentieux) Tj 0 -12.76 Td (29 boulevard Haussmann) Tj 0 -12.76 Td (75009 PARIS) Tj ET"
	formMtx := fmt.Sprintf("1 0 0 1 %.2f %.2f", 111*mm, a4[3]-60*mm)
	// A landscape media box shown rotated 90° clockwise: the text is drawn
	// rotated 90° counterclockwise in user space so that it reads normally.
	// Displayed x is user y; displayed y from the top is user x.
	var rotated strings.Builder
	for i, l := range []string{`(Soci\351t\351 G\351n\351rale)`, `(Service Contentieux)`, `(29 boulevard Haussmann)`, `(75009 PARIS)`} {
		fmt.Fprintf(&rotated, "BT /F1 11 Tf 0 1 -1 0 %.2f %.2f Tm %s Tj ET\n", (60+4.5*float64(i))*mm, 111*mm, l)
	}
	fmt.Fprintf(&rotated, "BT /F1 11 Tf 0 1 -1 0 %.2f %.2f Tm (Jean Dupont) Tj ET\n", 20*mm, 20*mm)

	tests := []struct {
		name string
		page handPage
		rot  int
	}{
		{"kerned TJ", handPage{mediaBox: a4, content: kerned}, 0},
		{"sender on the same lines", handPage{mediaBox: a4, content: sameLines}, 0},
		{"form XObject", handPage{mediaBox: a4, content: "q /X1 Do Q", form: form, formMtx: formMtx}, 0},
		{"rotated page", handPage{mediaBox: [4]float64{0, 0, a4[3], a4[2]}, rotate: 90, content: rotated.String()}, 90},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := handPDF(tt.page, handPage{mediaBox: a4, content: textAt(20, 30, "(Page 2)")})
			r, err := engine.Recipient(b, DefaultWindow)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Lines, want) || len(r.Problems) != 0 || r.Postcode != "75009" || r.Pages != 2 {
				t.Errorf("got %q (%s %s), problems %v, %d pages", r.Lines, r.Postcode, r.City, r.Problems, r.Pages)
			}
			p, err := engine.Page(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.Rotation != tt.rot || p.WidthMM > 211 || p.HeightMM < 296 {
				t.Errorf("page %.1f×%.1f mm rotated %d, want A4 portrait as displayed, rotation %d", p.WidthMM, p.HeightMM, p.Rotation, tt.rot)
			}
		})
	}
}

func TestNotAPDF(t *testing.T) {
	_, err := engine.Recipient([]byte("%PDF-1.4\nthis is not a PDF at all"), DefaultWindow)
	if err == nil || !strings.Contains(err.Error(), "not a readable PDF") {
		t.Fatalf("err = %v", err)
	}
	// The instance that failed is still good for the next letter.
	if _, err := engine.Recipient(fixture(t, "letter.pdf"), DefaultWindow); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrent(t *testing.T) {
	files := []string{"letter.pdf", "abroad.pdf", "topleft.pdf", "crossing.pdf"}
	want := map[string]string{}
	for _, f := range files {
		r, err := engine.Recipient(fixture(t, f), DefaultWindow)
		if err != nil {
			t.Fatal(err)
		}
		want[f] = fmt.Sprint(r.Lines, kinds(r.Problems))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			f := files[i%len(files)]
			r, err := engine.Recipient(fixture(t, f), DefaultWindow)
			if err != nil {
				errs <- err
				return
			}
			if got := fmt.Sprint(r.Lines, kinds(r.Problems)); got != want[f] {
				errs <- fmt.Errorf("%s: %s, want %s", f, got, want[f])
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRenderPNG(t *testing.T) {
	const dpi = 50
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"letter", fixture(t, "letter.pdf")},
		{"rotated", handPDF(handPage{mediaBox: [4]float64{0, 0, a4[3], a4[2]}, rotate: 90,
			content: "BT /F1 11 Tf 0 1 -1 0 170 312 Tm (75009 PARIS) Tj ET"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := engine.RenderPNG(tc.file, 0, dpi, &DefaultWindow)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			// A4 at 50 dpi, portrait as displayed (PDFium rounds the size up).
			if s := img.Bounds().Size(); s.X != 414 || s.Y != 585 {
				t.Fatalf("size %v, want 414×585", s)
			}
			px := func(mm float64) int { return int(mm/25.4*dpi + 0.5) }
			// The outline's top edge, at (150 mm, 55 mm), is WindowColor.
			if r, g, bl, _ := img.At(px(150), px(DefaultWindow.TopMM)).RGBA(); r>>8 != 0xd0 || g>>8 != 0x10 || bl>>8 != 0x10 {
				t.Errorf("outline pixel = %x %x %x", r>>8, g>>8, bl>>8)
			}
			// Text is drawn inside the window, and the corner outside is white.
			dark := 0
			for y := px(56); y < px(88); y++ {
				for x := px(111); x < px(194); x++ {
					if r, _, _, _ := img.At(x, y).RGBA(); r>>8 < 0x80 {
						dark++
					}
				}
			}
			if dark == 0 {
				t.Error("no text rendered in the window")
			}
			if r, g, bl, a := img.At(2, 2).RGBA(); r>>8 != 0xff || g>>8 != 0xff || bl>>8 != 0xff || a>>8 != 0xff {
				t.Errorf("corner pixel = %x %x %x %x, want white", r>>8, g>>8, bl>>8, a>>8)
			}
		})
	}
	if _, err := engine.RenderPNG(fixture(t, "letter.pdf"), 0, 1000, nil); err == nil {
		t.Error("1000 dpi accepted")
	}
}

// The locality rules on their own, on lines as they would come from the window.
func TestLocality(t *testing.T) {
	tests := []struct {
		lines                   []string
		postcode, city, country string
		ok                      bool
	}{
		{[]string{"M. Paul Roux", "3 rue Vieille", "13001 MARSEILLE"}, "13001", "MARSEILLE", "", true},
		{[]string{"Impôts", "TSA 10001", "75094 PARIS CEDEX 12"}, "75094", "PARIS CEDEX 12", "", true},
		{[]string{"M. Paul Roux", "3 rue Vieille", "13001 MARSEILLE", "FRANCE"}, "13001", "MARSEILLE", "FRANCE", true},
		{[]string{"M. Paul Roux", "3 rue Vieille", "MARSEILLE", "FRANCE"}, "", "", "FRANCE", false},
		{[]string{"Ms Ann Lee", "10 Downing Street", "London SW1A 2AA", "ROYAUME-UNI"}, "", "London SW1A 2AA", "ROYAUME-UNI", true},
		{[]string{"Mme Awa Koné", "BP 1234", "Abidjan", "CÔTE D'IVOIRE"}, "", "Abidjan", "CÔTE D'IVOIRE", true},
		{[]string{"M. Paul Roux", "ESPAGNE"}, "", "", "", false},
		{[]string{"M. Paul Roux", "3 rue Vieille", "1300 MARSEILLE"}, "", "", "", false},
		{[]string{"M. Paul Roux", "3 rue Vieille"}, "", "", "", false},
	}
	for _, tt := range tests {
		r := &Recipient{Lines: tt.lines}
		ok := r.parseLocality()
		if ok != tt.ok || r.Postcode != tt.postcode || r.City != tt.city || r.Country != tt.country {
			t.Errorf("%q: %v %q %q %q, want %v %q %q %q", tt.lines, ok, r.Postcode, r.City, r.Country, tt.ok, tt.postcode, tt.city, tt.country)
		}
	}
}

// Glyphs without Unicode: PDFium makes characters up from the codes ("AB");
// the reading must not pass them off as an address.
func TestRecipientUnreadable(t *testing.T) {
	all := textAt(111, 60, "(ABBA)", "(BAAB)")
	all = strings.ReplaceAll(all, "/F1", "/T3")
	r, err := engine.Recipient(handPDF(handPage{mediaBox: a4, content: all}), DefaultWindow)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Lines) != 0 || !slices.Equal(kinds(r.Problems), []ProblemKind{Unreadable, Unreadable}) {
		t.Errorf("lines %q, problems %v", r.Lines, kinds(r.Problems))
	}
	// A readable locality under an unreadable name: the name is flagged, the locality read.
	mixed := strings.ReplaceAll(textAt(111, 60, "(ABBA)"), "/F1", "/T3") + textAt(111, 64.5, "(3 rue Vieille)", "(13001 MARSEILLE)")
	r, err = engine.Recipient(handPDF(handPage{mediaBox: a4, content: mixed}), DefaultWindow)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Lines, []string{"3 rue Vieille", "13001 MARSEILLE"}) || r.Postcode != "13001" || !slices.Equal(kinds(r.Problems), []ProblemKind{Unreadable}) {
		t.Errorf("lines %q %q, problems %v", r.Lines, r.Postcode, r.Problems)
	}
}
