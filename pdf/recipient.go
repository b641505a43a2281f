package pdf

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/klippa-app/go-pdfium/requests"
)

// Recipient is what the envelope's window shows of page 1.
type Recipient struct {
	// Lines are the text lines in the window, top to bottom.
	Lines []string
	// Postcode and City come from the locality line when it is recognised:
	// a French "75009 PARIS" line, or the line above a country line.
	Postcode, City string
	// Country is the last line when it is a country written in capitals
	// ("ALLEMAGNE"); empty for a French address without one.
	Country string
	// Crossing is set when a line overlaps the window but reaches past its
	// edge by more than ToleranceMM: the envelope would cut it.
	Crossing bool
	// Page is the 1-based page read (always 1: the one the window shows).
	Page int
	// Pages is the document's page count, read in the same pass.
	Pages int
	// Problems found by the preflight; empty for a readable address.
	Problems []Problem
}

// String is the address on one line, its lines joined by " · ".
func (r *Recipient) String() string { return strings.Join(r.Lines, " · ") }

// ProblemKind names a preflight problem, stable for mapping to PF codes.
type ProblemKind string

const (
	// EmptyWindow: no text in the window (the address is elsewhere on the
	// page, or drawn as an image or outlines that PDFium cannot read as text).
	EmptyWindow ProblemKind = "empty-window"
	// NoLocality: the window's last lines hold neither a French postcode and
	// city ("75009 PARIS") nor a country written in capitals.
	NoLocality ProblemKind = "no-locality"
	// CrossingEdge: a line is partly inside the window (Problem.Line says which).
	CrossingEdge ProblemKind = "crossing-edge"
	// Unreadable: glyphs in the window have no Unicode mapping (a font
	// embedded without a ToUnicode map): the address cannot be read back.
	Unreadable ProblemKind = "unreadable"
)

// Problem is one preflight finding about the address window.
type Problem struct {
	Kind ProblemKind
	// Line is the text concerned, when one line is (CrossingEdge, Unreadable).
	Line string
	// Box is that line's box, in millimetres (zero otherwise).
	Box Rect
	// Message says what is wrong and what to do, without the file name
	// (the caller knows it).
	Message string
}

func (p Problem) String() string { return p.Message }

// Recipient reads page 1 of file and returns what the window w shows.
// An error means the PDF could not be read at all; what is wrong with the
// address is in Recipient.Problems.
func (e *Engine) Recipient(file []byte, w Window) (*Recipient, error) {
	if err := w.Valid(); err != nil {
		return nil, err
	}
	var r *Recipient
	err := e.withDoc(file, func(d *doc) error {
		n, err := d.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: d.ref})
		if err != nil {
			return err
		}
		p, err := d.readPage(0)
		if err != nil {
			return err
		}
		r = RecipientOf(p, w)
		r.Pages = n.PageCount
		return nil
	})
	return r, err
}

// RecipientOf is the reading of Recipient on a page already extracted.
func RecipientOf(p *Page, w Window) *Recipient {
	r := &Recipient{Page: p.Index + 1}
	frame, outer := w.Rect(), w.grown(ToleranceMM)
	seen := false // any glyph in the window, readable or not
	for _, l := range p.Lines {
		if !l.Box.Overlaps(frame) {
			continue
		}
		seen = true
		if l.Text != "" {
			r.Lines = append(r.Lines, l.Text)
		}
		if !l.Box.Inside(outer) {
			r.Crossing = true
			r.Problems = append(r.Problems, Problem{
				Kind: CrossingEdge, Line: l.Text, Box: l.Box,
				Message: fmt.Sprintf("page %d: the line %q (%v) runs past the %s edge of the address window (%v): the envelope would cut it; move or shorten it, or set address_window to where the address is",
					r.Page, l.Text, l.Box, edges(l.Box, outer), w),
			})
		}
		if l.Unmapped > 0 {
			r.Problems = append(r.Problems, Problem{
				Kind: Unreadable, Line: l.Text, Box: l.Box,
				Message: fmt.Sprintf("page %d: %d character(s) of the address line at %v have no Unicode mapping (a font embedded without a ToUnicode table): the address cannot be read back; export the PDF again with the fonts embedded normally",
					r.Page, l.Unmapped, l.Box),
			})
		}
	}
	if !seen {
		r.Problems = append(r.Problems, Problem{
			Kind: EmptyWindow,
			Message: fmt.Sprintf("page %d: the address window (%v) holds no text: put the recipient's address there, or set address_window to where it is (an address drawn as an image cannot be read)",
				r.Page, w),
		})
		return r
	}
	if len(r.Lines) == 0 {
		return r // Unreadable says it all
	}
	if !r.parseLocality() {
		r.Problems = append(r.Problems, Problem{
			Kind: NoLocality, Line: r.Lines[len(r.Lines)-1],
			Message: fmt.Sprintf("page %d: the address in the window ends with %q, which is neither a French postcode and city (\"75009 PARIS\") nor a country in capitals: the platform cannot route it; complete the address",
				r.Page, r.Lines[len(r.Lines)-1]),
		})
	}
	return r
}

func edges(b, o Rect) string {
	var e []string
	if b.Top < o.Top {
		e = append(e, "top")
	}
	if b.Bottom > o.Bottom {
		e = append(e, "bottom")
	}
	if b.Left < o.Left {
		e = append(e, "left")
	}
	if b.Right > o.Right {
		e = append(e, "right")
	}
	return strings.Join(e, " and ")
}

var (
	// A French locality line: five digits, then the city (and CEDEX, if any).
	frenchLocality = regexp.MustCompile(`^(\d{5}) +(\p{L}.*)$`)
	// A foreign locality line with a postcode before or after the city
	// ("10115 Berlin", "SW1A 1AA LONDON" is read as far as it goes).
	foreignLocality = regexp.MustCompile(`^([0-9][0-9A-Z-]{2,9}) +(\p{L}.*)$`)
)

// parseLocality fills Postcode, City and Country from the last lines and
// reports whether a plausible locality was found.
func (r *Recipient) parseLocality() bool {
	n := len(r.Lines)
	last := r.Lines[n-1]
	if m := frenchLocality.FindStringSubmatch(last); m != nil {
		r.Postcode, r.City = m[1], m[2]
		return true
	}
	// A country line needs something above it besides a name: a country
	// alone, or a name then a capitalised city, is not an address.
	if !isCountryLine(last) || n < 3 {
		return false
	}
	r.Country = last
	prev := r.Lines[n-2]
	if r.Country == "FRANCE" {
		m := frenchLocality.FindStringSubmatch(prev)
		if m == nil {
			return false
		}
		r.Postcode, r.City = m[1], m[2]
		return true
	}
	if m := foreignLocality.FindStringSubmatch(prev); m != nil {
		r.Postcode, r.City = m[1], m[2]
	} else {
		r.City = prev
	}
	return true
}

// isCountryLine: capital letters, spaces, hyphens and apostrophes only, with
// at least three letters ("ALLEMAGNE", "ROYAUME-UNI", "CÔTE D'IVOIRE").
func isCountryLine(s string) bool {
	letters := 0
	for _, c := range s {
		switch {
		case unicode.IsUpper(c):
			letters++
		case c == ' ' || c == '-' || c == '\'' || c == '’':
		default:
			return false
		}
	}
	return letters >= 3
}
