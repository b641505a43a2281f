package letter

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/postform/postform/pdf"
)

// Result is a rendered letter.
type Result struct {
	PDF []byte
	// Pages counts the letter's own pages and its attachments'.
	Pages int
}

// Layout, in millimetres on an A4 portrait page (210 × 297).
const (
	pageW, pageH   = 210.0, 297.0
	marginL        = 20.0
	marginR        = 20.0
	marginT        = 15.0
	bottomMargin   = 25.0 // the body breaks to a new page above the footer
	textW          = pageW - marginL - marginR
	bodyPt         = 10.5
	senderPt       = 9.0
	addressPt      = 10.0
	minAddressPt   = 7.0
	footerPt       = 7.5
	windowPadLeft  = 4.0 // inside the window's frame, for the sheet's play
	windowPadTop   = 3.0
	windowPadRight = 3.0
	lineFactor     = 1.3 // line height per point of font size
	ptMM           = 25.4 / 72
	family         = "dejavu"
)

// fixedTime is every rendered letter's creation and modification date: a
// date from the clock would change the bytes on every run.
var fixedTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func lineH(pt float64) float64 { return pt * ptMM * lineFactor }

// Render lays out l and returns its PDF. It refuses a letter Check finds
// fault with, naming the first problem.
func Render(l *Letter) (*Result, error) {
	if probs := l.Check(); len(probs) > 0 {
		return nil, &Error{probs[0]}
	}
	l = l.printable()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreationDate(fixedTime)
	f.SetModificationDate(fixedTime)
	f.SetCatalogSort(true)
	f.SetProducer("postform letter "+Version, true)
	f.SetCompression(true)
	f.AddUTF8FontFromBytes(family, "", regularTTF)
	st := &style{f: f}
	// The text render mode is page state: a page begun by an automatic
	// break in bold text goes on in bold.
	f.SetHeaderFunc(func() { st.apply() })
	f.SetMargins(marginL, marginT, marginR)
	f.SetAutoPageBreak(true, bottomMargin)
	f.AliasNbPages("{nb}")
	if l.Subject != "" {
		f.SetTitle(l.Subject, true)
	}
	f.SetFooterFuncLpi(func(last bool) { footer(st, l.Footer, last) })
	f.AddPage()

	y := marginT
	if len(l.Logo) > 0 {
		opt := fpdf.ImageOptions{ImageType: imageType(l.Logo), ReadDpi: false}
		f.RegisterImageOptionsReader("logo", opt, bytes.NewReader(l.Logo))
		f.ImageOptions("logo", marginL, y, 0, 18, false, opt, 0, "")
		y += 22
	}
	y = sender(st, l.From, y)
	w := l.window()
	if err := recipient(st, l.To.Printed(), w); err != nil {
		return nil, err
	}

	// Place and date sit under the window, aligned with it.
	y = max(y+8, w.TopMM+w.HeightMM+10)
	st.set(false, false, bodyPt)
	if d := dateLine(l.Place, l.Date, l.From.City); d != "" {
		f.SetXY(w.LeftMM, y)
		f.CellFormat(pageW-marginR-w.LeftMM, lineH(bodyPt), d, "", 1, "L", false, 0, "")
		y += lineH(bodyPt) + 4
	}
	f.SetXY(marginL, y)
	if l.Subject != "" {
		st.set(true, false, bodyPt)
		f.MultiCell(textW, lineH(bodyPt), "Objet : "+l.Subject, "", "L", false)
		st.set(false, false, bodyPt)
		f.Ln(lineH(bodyPt))
	}
	if err := body(st, l.Body); err != nil {
		return nil, err
	}
	if l.Signature != "" {
		f.Ln(lineH(bodyPt))
		st.set(false, false, bodyPt)
		lines := strings.Split(strings.TrimSpace(l.Signature), "\n")
		// Keep the signature's lines together on one page.
		if f.GetY()+float64(len(lines))*lineH(bodyPt) > pageH-bottomMargin {
			f.AddPage()
		}
		for _, s := range lines {
			f.SetX(w.LeftMM)
			f.CellFormat(pageW-marginR-w.LeftMM, lineH(bodyPt), strings.TrimSpace(s), "", 1, "L", false, 0, "")
		}
	}
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("letter: laying out the PDF: %w", err)
	}
	pages := f.PageCount()
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("letter: writing the PDF: %w", err)
	}
	out, err := canonicalOrder(buf.Bytes(), fixToUnicode)
	if err != nil {
		return nil, fmt.Errorf("letter: fpdf's output: %w", err)
	}
	for i, a := range l.Attachments {
		n, err := attachmentPages(a, l.attachmentSum(i))
		if err != nil {
			return nil, fmt.Errorf("letter: an attachment %v", err)
		}
		pages += n
	}
	if len(l.Attachments) > 0 {
		if out, err = appendAttachments(out, l.Attachments); err != nil {
			return nil, err
		}
	}
	return &Result{PDF: out, Pages: pages}, nil
}

// sender prints the sender's block top left, from y; it returns where the
// block ends.
func sender(st *style, a Address, y float64) float64 {
	f := st.f
	lines := a.Printed()
	if len(lines) == 0 {
		return y
	}
	f.SetXY(marginL, y)
	for i, s := range lines {
		st.set(i == 0 && a.Name != "", false, senderPt)
		f.SetX(marginL)
		// The block stays left of the window (which starts at 110 mm by
		// default), so the sender is never read as the recipient.
		f.MultiCell(80, lineH(senderPt), s, "", "L", false)
	}
	st.set(false, false, senderPt)
	return f.GetY()
}

// Error is Render's refusal of a letter as written: the first problem.
type Error struct{ Problem }

func (e *Error) Error() string { return "letter: " + e.Message }

// errAddressFit: the address does not fit the window even at the smallest size.
var errAddressFit = &Error{Problem{Field: FieldTo, Kind: AddressTooLong,
	Message: fmt.Sprintf("the recipient's address does not fit in the address window, even in %g pt: shorten its lines or make address_window larger", minAddressPt)}}

// recipient prints the address inside the window's frame, in the largest
// size up to 10 pt that fits its width and height.
func recipient(st *style, lines []string, w pdf.Window) error {
	f := st.f
	availW := w.WidthMM - windowPadLeft - windowPadRight
	availH := w.HeightMM - 2*windowPadTop
	pt := addressPt
	for ; pt >= minAddressPt; pt -= 0.5 {
		st.set(false, false, pt)
		fits := float64(len(lines))*lineH(pt) <= availH
		for _, s := range lines {
			fits = fits && f.GetStringWidth(s) <= availW
		}
		if fits {
			break
		}
	}
	if pt < minAddressPt {
		return errAddressFit
	}
	y := w.TopMM + windowPadTop
	cm := f.GetCellMargin()
	for _, s := range lines {
		f.SetXY(w.LeftMM+windowPadLeft, y)
		// No cell margin: the text starts exactly at the padding.
		f.SetCellMargin(0)
		f.CellFormat(availW, lineH(pt), s, "", 0, "L", false, 0, "")
		y += lineH(pt)
	}
	f.SetCellMargin(cm)
	return nil
}

// dateLine is "Paris, le 1er décembre 2026"; a date written otherwise than
// YYYY-MM-DD is printed as written.
func dateLine(place, date, fallbackPlace string) string {
	date = strings.TrimSpace(date)
	if date == "" {
		return ""
	}
	if t, err := time.Parse("2006-01-02", date); err == nil {
		day := fmt.Sprint(t.Day())
		if t.Day() == 1 {
			day = "1er"
		}
		date = fmt.Sprintf("le %s %s %d", day, frenchMonths[t.Month()-1], t.Year())
	}
	if place == "" {
		place = strings.TrimSpace(fallbackPlace)
	}
	if place == "" {
		return strings.ToUpper(date[:1]) + date[1:]
	}
	return place + ", " + date
}

var frenchMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// footer prints the legal mentions and, on letters of several pages, the
// page number as 1/2.
func footer(st *style, text string, last bool) {
	f := st.f
	y := pageH - 18
	// The footer is never bold, whatever the text it interrupts; the next
	// page's header gives that text its style back.
	f.SetFont(family, "", footerPt)
	f.SetTextRenderingMode(0)
	if !(last && f.PageNo() == 1) {
		f.SetXY(pageW-marginR-20, y)
		f.CellFormat(20, lineH(footerPt), fmt.Sprintf("%d/{nb}", f.PageNo()), "", 0, "R", false, 0, "")
	}
	if text = strings.TrimSpace(text); text != "" {
		f.SetXY(marginL+20, y)
		f.MultiCell(textW-40, lineH(footerPt), text, "", "C", false)
	}
}

// style is the current text style. Bold is its face drawn filled and
// outlined (text render mode 2): a second embedded face would double the
// font work fpdf does for every document, parsing and subsetting it (about
// 6 ms a letter, measured), and 1,000 letters must render in 5 s. Italic is
// DejaVu Sans Oblique, added to a document only at its first italic word,
// so a letter without emphasis pays nothing for it; bold italic is the
// oblique face drawn in bold's way.
type style struct {
	f            *fpdf.Fpdf
	bold, italic bool
	pt           float64
	oblique      bool // the oblique face is in the document
}

func (s *style) set(bold, italic bool, pt float64) {
	s.bold, s.italic, s.pt = bold, italic, pt
	s.apply()
}

func (s *style) apply() {
	if s.pt == 0 {
		return
	}
	st := ""
	if s.italic {
		if !s.oblique {
			s.f.AddUTF8FontFromBytes(family, "I", obliqueTTF)
			s.oblique = true
		}
		st = "I"
	}
	s.f.SetFont(family, st, s.pt)
	if s.bold {
		s.f.SetLineWidth(s.pt * ptMM * 0.035)
		s.f.SetTextRenderingMode(2)
	} else {
		s.f.SetTextRenderingMode(0)
	}
}

// printable is a copy of l whose text the face can draw as it is.
func (l *Letter) printable() *Letter {
	c := *l
	r := ligatures.Replace
	each := func(a *Address) {
		a.Name, a.Postcode, a.City, a.Country = r(a.Name), r(a.Postcode), r(a.City), r(a.Country)
		a.Lines = append([]string(nil), a.Lines...)
		for i := range a.Lines {
			a.Lines[i] = r(a.Lines[i])
		}
	}
	each(&c.From)
	each(&c.To)
	c.Place, c.Date, c.Subject, c.Body, c.Signature, c.Footer = r(c.Place), r(c.Date), r(c.Subject), r(c.Body), r(c.Signature), r(c.Footer)
	return &c
}
