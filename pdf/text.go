package pdf

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/klippa-app/go-pdfium/requests"
)

// MMPerPoint converts PDF points (1/72 inch) to millimetres.
const MMPerPoint = 25.4 / 72

// Rect is a box in millimetres from the top-left corner of the page as it is
// displayed (after the page's /Rotate), x to the right, y downwards.
type Rect struct {
	Left, Top, Right, Bottom float64
}

// Overlaps reports whether r and o share some area.
func (r Rect) Overlaps(o Rect) bool {
	return r.Left < o.Right && o.Left < r.Right && r.Top < o.Bottom && o.Top < r.Bottom
}

// Inside reports whether r lies within o.
func (r Rect) Inside(o Rect) bool {
	return r.Left >= o.Left && r.Right <= o.Right && r.Top >= o.Top && r.Bottom <= o.Bottom
}

func (r Rect) String() string {
	return fmt.Sprintf("%.1f,%.1f–%.1f,%.1f mm", r.Left, r.Top, r.Right, r.Bottom)
}

func (r Rect) union(o Rect) Rect {
	return Rect{math.Min(r.Left, o.Left), math.Min(r.Top, o.Top), math.Max(r.Right, o.Right), math.Max(r.Bottom, o.Bottom)}
}

// Line is a run of text on one line: the characters PDFium gives in content
// order, split where PDFium starts a new line, where the baseline changes, and
// at a horizontal gap wider than about one and a half character heights (a
// tab stop or another column: a sender and a recipient typed on the same
// lines with tabs become two runs).
type Line struct {
	Text string
	// Box is the union of the glyphs' ink boxes (spaces excluded).
	Box Rect
	// Unmapped counts the glyphs PDFium could not map to Unicode (a font
	// without a ToUnicode map, for instance): Text lacks them.
	Unmapped int
}

// Page is the positioned text of one page.
type Page struct {
	Index             int // 0-based
	WidthMM, HeightMM float64
	Rotation          int // the page's /Rotate, degrees clockwise
	// Lines in reading order: by top, then by left.
	Lines []Line
}

// Page returns the text of page index (0-based) of file with positions.
func (e *Engine) Page(file []byte, index int) (*Page, error) {
	var p *Page
	err := e.withDoc(file, func(d *doc) error {
		var err error
		p, err = d.readPage(index)
		return err
	})
	return p, err
}

// affine maps PDF user space (points) to display millimetres.
type affine struct{ a, b, c, d, e, f float64 }

func (m affine) apply(x, y float64) (float64, float64) {
	return m.a*x + m.c*y + m.e, m.b*x + m.d*y + m.f
}

// deviceScale is how many device units FPDF_PageToDevice gets per point: its
// answers are integers, so a fine grid keeps the derived matrix exact to 1/1000 pt.
const deviceScale = 1000

// displayMatrix asks PDFium itself how user space lands on the displayed
// page (crop box origin, /Rotate), by mapping three points, so rotation and
// offset boxes follow PDFium's rules rather than a copy of them.
func (d *doc) displayMatrix(pg requests.Page, wPt, hPt float64) (affine, error) {
	sx, sy := int(math.Round(wPt*deviceScale)), int(math.Round(hPt*deviceScale))
	at := func(x, y float64) (float64, float64, error) {
		r, err := d.inst.FPDF_PageToDevice(&requests.FPDF_PageToDevice{Page: pg, SizeX: sx, SizeY: sy, PageX: x, PageY: y})
		if err != nil {
			return 0, 0, err
		}
		return float64(r.DeviceX), float64(r.DeviceY), nil
	}
	x0, y0, err := at(0, 0)
	if err != nil {
		return affine{}, err
	}
	x1, y1, err := at(1000, 0)
	if err != nil {
		return affine{}, err
	}
	x2, y2, err := at(0, 1000)
	if err != nil {
		return affine{}, err
	}
	k := MMPerPoint / deviceScale
	return affine{
		a: (x1 - x0) / 1000 * k, b: (y1 - y0) / 1000 * k,
		c: (x2 - x0) / 1000 * k, d: (y2 - y0) / 1000 * k,
		e: x0 * k, f: y0 * k,
	}, nil
}

func (d *doc) readPage(index int) (*Page, error) {
	n, err := d.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: d.ref})
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= n.PageCount {
		return nil, fmt.Errorf("page %d does not exist: the document has %d", index+1, n.PageCount)
	}
	pg := d.page(index)
	w, err := d.inst.FPDF_GetPageWidthF(&requests.FPDF_GetPageWidthF{Page: pg})
	if err != nil {
		return nil, err
	}
	h, err := d.inst.FPDF_GetPageHeightF(&requests.FPDF_GetPageHeightF{Page: pg})
	if err != nil {
		return nil, err
	}
	rot, err := d.inst.FPDFPage_GetRotation(&requests.FPDFPage_GetRotation{Page: pg})
	if err != nil {
		return nil, err
	}
	m, err := d.displayMatrix(pg, float64(w.PageWidth), float64(h.PageHeight))
	if err != nil {
		return nil, err
	}
	chars, err := d.chars(pg)
	if err != nil {
		return nil, err
	}
	return &Page{
		Index:    index,
		WidthMM:  float64(w.PageWidth) * MMPerPoint,
		HeightMM: float64(h.PageHeight) * MMPerPoint,
		Rotation: int(rot.PageRotation) * 90,
		Lines:    groupLines(chars, m),
	}, nil
}

// char is one character of PDFium's text page: its box is in user space.
type char struct {
	r                        rune
	left, top, right, bottom float64
	// unmapped: PDFium found no Unicode for it and made r up from the
	// character code (FPDFText_HasUnicodeMapError).
	unmapped bool
}

// chars reads the text page's characters. (go-pdfium's GetPageTextStructured
// reads the same boxes but not the Unicode map errors.)
func (d *doc) chars(pg requests.Page) ([]char, error) {
	tp, err := d.inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: pg})
	if err != nil {
		return nil, err
	}
	defer d.inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	n, err := d.inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil {
		return nil, err
	}
	cs := make([]char, 0, n.Count)
	for i := range n.Count {
		u, err := d.inst.FPDFText_GetUnicode(&requests.FPDFText_GetUnicode{TextPage: tp.TextPage, Index: i})
		if err != nil {
			return nil, err
		}
		c := char{r: rune(u.Unicode)}
		if c.r == '\r' || c.r == '\n' || unicode.IsSpace(c.r) {
			cs = append(cs, c) // no box needed
			continue
		}
		b, err := d.inst.FPDFText_GetCharBox(&requests.FPDFText_GetCharBox{TextPage: tp.TextPage, Index: i})
		if err != nil {
			return nil, err
		}
		c.left, c.top, c.right, c.bottom = b.Left, b.Top, b.Right, b.Bottom
		e, err := d.inst.FPDFText_HasUnicodeMapError(&requests.FPDFText_HasUnicodeMapError{TextPage: tp.TextPage, Index: i})
		if err != nil {
			return nil, err
		}
		c.unmapped = e.HasUnicodeMapError || c.r == 0 || c.r == unicode.ReplacementChar
		cs = append(cs, c)
	}
	return cs, nil
}

// groupLines turns PDFium's character stream into runs (see Line).
func groupLines(chars []char, m affine) []Line {
	var (
		lines []Line
		cur   strings.Builder
		box   Rect
		inked bool // box holds at least one glyph
		charH float64
		unmap int
	)
	flush := func() {
		text := strings.Join(strings.Fields(cur.String()), " ")
		if inked && (text != "" || unmap > 0) {
			lines = append(lines, Line{Text: text, Box: box, Unmapped: unmap})
		}
		cur.Reset()
		inked, charH, unmap = false, 0, 0
	}
	for _, c := range chars {
		if c.r == '\r' || c.r == '\n' {
			flush()
			continue
		}
		if unicode.IsSpace(c.r) {
			cur.WriteByte(' ')
			continue
		}
		x0, y0 := m.apply(c.left, c.top)
		x1, y1 := m.apply(c.right, c.bottom)
		g := Rect{math.Min(x0, x1), math.Min(y0, y1), math.Max(x0, x1), math.Max(y0, y1)}
		if g.Right-g.Left <= 0 && g.Bottom-g.Top <= 0 {
			// No geometry (a character PDFium generated): text only.
			if c.r != 0 {
				cur.WriteRune(c.r)
			}
			continue
		}
		if inked {
			sameLine := g.Top < box.Bottom && box.Top < g.Bottom
			gap := g.Left - box.Right
			h := math.Max(charH, g.Bottom-g.Top)
			if !sameLine || gap > 1.5*h || gap < -h {
				flush()
			}
		}
		if !inked {
			box, inked = g, true
		} else {
			box = box.union(g)
		}
		charH = math.Max(charH, g.Bottom-g.Top)
		if c.unmapped {
			// Whatever PDFium made up from the character code is not text.
			unmap++
			continue
		}
		if c.r == '\u00ad' {
			// A drawn soft hyphen is a hyphen: fonts map one glyph to both
			// U+002D and U+00AD, and some producers' ToUnicode picks U+00AD
			// (pdfcpu does for "Jean-François").
			c.r = '-'
		}
		cur.WriteRune(c.r)
	}
	flush()
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i].Box, lines[j].Box
		// Same line when their boxes overlap vertically by half the smaller height.
		ov := math.Min(a.Bottom, b.Bottom) - math.Max(a.Top, b.Top)
		if ov > 0.5*math.Min(a.Bottom-a.Top, b.Bottom-b.Top) {
			return a.Left < b.Left
		}
		return a.Top < b.Top
	})
	return lines
}
