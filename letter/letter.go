// Package letter lays out and renders a letter written as text (sender,
// recipient, date, subject, a Markdown body, signature, attachments) into
// the PDF that is posted.
//
// The same Letter always gives the same bytes, on any machine and any day:
// no creation time (the Info dates are fixed), no file identifier taken from
// the clock, objects in a stable order. So a rendered letter's sha256, and
// with it a mailing's content hash, a plan and a saved plan's check, stay
// stable while the letter's text does not change.
//
// Use:
//
//	l := &letter.Letter{To: letter.Address{Name: "Mme Durand", Lines: []string{"12 rue de la Paix"}, Postcode: "75002", City: "Paris"}, …}
//	if probs := l.Check(); len(probs) > 0 { … } // each with the Field at fault
//	out, err := letter.Render(l)                 // out.PDF, out.Pages
//
// The recipient is drawn inside l.Window (pdf.DefaultWindow when zero), the
// same frame plan reads the address from, so a rendered letter passes its
// own address preflight. Text is set in DejaVu Sans (regular, bold,
// oblique and bold oblique, embedded, see fonts/LICENSE).
package letter

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postform/postform/pdf"
)

// Version changes whenever the layout or the font changes the bytes of a
// rendered letter: it is part of InputHash, so cached renderings of an older
// layout are not reused.
const Version = "2"

// Address is a postal address. Lines are the lines between the name and
// the locality ("12 rue de la Paix", "Bâtiment B").
type Address struct {
	Name     string   `json:"name"`
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode"`
	City     string   `json:"city"`
	// Country is empty for a letter posted within France.
	Country string `json:"country"`
}

// Abroad reports whether the address is outside France.
func (a Address) Abroad() bool {
	c := strings.ToUpper(strings.TrimSpace(a.Country))
	return c != "" && c != "FRANCE"
}

// Locality is the postcode and city line, the city in capitals as La Poste
// asks ("75002 PARIS").
func (a Address) Locality() string {
	return strings.TrimSpace(strings.TrimSpace(a.Postcode) + " " + strings.ToUpper(strings.TrimSpace(a.City)))
}

// Printed is the address as printed, line by line: name, lines, locality,
// and the country in capitals when abroad. Empty lines are left out.
func (a Address) Printed() []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	add(a.Name)
	for _, l := range a.Lines {
		add(l)
	}
	add(a.Locality())
	if a.Abroad() {
		add(strings.ToUpper(a.Country))
	}
	return out
}

// Letter is everything a rendered letter is made of.
type Letter struct {
	// From is the sender, printed top left; only Name and Lines may be set
	// (a sender written as plain lines).
	From Address `json:"from"`
	To   Address `json:"to"`
	// Place and Date are printed as written ("Paris, le 1er décembre 2026");
	// a Date written YYYY-MM-DD is spelled out in French.
	Place string `json:"place"`
	Date  string `json:"date"`
	// Subject is printed in bold after "Objet : ".
	Subject string `json:"subject"`
	// Body is Markdown: paragraphs, *emphasis* (oblique), **strong**,
	// bullet and numbered lists, hard line breaks, headings.
	Body      string `json:"body"`
	Signature string `json:"signature"`
	// Footer is printed small at the bottom of every page (legal mentions).
	Footer string `json:"footer"`
	// Logo is a PNG or JPEG printed top left, 20 mm high at most.
	Logo []byte `json:"-"`
	// Attachments are PDFs appended after the letter's pages, in order.
	Attachments [][]byte `json:"-"`
	// AttachmentSums are the attachments' sha256 in hex, when the caller
	// has them (a mail merge appends one file to every letter: it need not
	// be hashed again for each). Empty: computed.
	AttachmentSums []string `json:"-"`
	// Window is where the recipient goes; the zero Window is pdf.DefaultWindow.
	Window pdf.Window `json:"window"`
}

func (l *Letter) window() pdf.Window {
	if l.Window == (pdf.Window{}) {
		return pdf.DefaultWindow
	}
	return l.Window
}

// SourceScheme tags SourceHash. It names the way the inputs are hashed, not
// the renderer: a postform that lays the same letter out differently keeps
// it, so a letter already posted is still known as the same letter. Change
// it only when the set or the encoding of the inputs changes.
const SourceScheme = "postform letter inputs 1"

// SourceHash is the sha256 of every input of the rendering (sender,
// recipient, place, date, subject, body, signature, footer, window, the
// sha256 of the logo and of each attachment) under SourceScheme, and not
// Version: the same letter hashes the same whatever postform renders it.
func (l *Letter) SourceHash() string {
	// Each field length-prefixed, in a fixed order: no two letters write
	// the same bytes (and this is 10,000 times faster to redo than JSON).
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	addr := func(a Address) {
		put(a.Name)
		put(strconv.Itoa(len(a.Lines)))
		for _, x := range a.Lines {
			put(x)
		}
		put(a.Postcode)
		put(a.City)
		put(a.Country)
	}
	put(SourceScheme)
	addr(l.From)
	addr(l.To)
	for _, s := range []string{l.Place, l.Date, l.Subject, l.Body, l.Signature, l.Footer, l.window().String()} {
		put(s)
	}
	if len(l.Logo) > 0 {
		put(sum(l.Logo))
	} else {
		put("")
	}
	put(strconv.Itoa(len(l.Attachments)))
	for i := range l.Attachments {
		put(l.attachmentSum(i))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// InputHash is the sha256 of everything that makes the rendered bytes:
// the letter's SourceHash and Version. Two letters with one InputHash
// render to the same PDF; a new layout gives every letter a new InputHash,
// so renderings cached by an older one are not reused.
func (l *Letter) InputHash() string {
	return RenderKey(l.SourceHash())
}

// RenderKey is InputHash from a SourceHash already computed.
func RenderKey(source string) string {
	return sum([]byte("postform letter " + Version + "\n" + source))
}

func (l *Letter) attachmentSum(i int) string {
	if len(l.AttachmentSums) == len(l.Attachments) {
		return l.AttachmentSums[i]
	}
	return sum(l.Attachments[i])
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Field names a part of a Letter, for diagnostics.
type Field string

// The fields a Problem can be about.
const (
	FieldFrom        Field = "from"
	FieldTo          Field = "to"
	FieldPlace       Field = "place"
	FieldDate        Field = "date"
	FieldSubject     Field = "subject"
	FieldBody        Field = "body"
	FieldSignature   Field = "signature"
	FieldFooter      Field = "footer"
	FieldLogo        Field = "logo"
	FieldAttachments Field = "attachments"
)

// ProblemKind says what is wrong, stable for mapping to diagnostic codes.
type ProblemKind string

const (
	// NoLocality: the recipient has no city, or (in France) no postcode
	// of five digits.
	NoLocality ProblemKind = "no-locality"
	// AddressTooLong: more than MaxLines lines (MaxLinesAbroad with the
	// country), or a line over MaxLineChars characters.
	AddressTooLong ProblemKind = "address-too-long"
	// MissingGlyph: a character the embedded font cannot draw.
	MissingGlyph ProblemKind = "missing-glyph"
	// NotPDF: an attachment that is not a PDF pdfcpu can read.
	NotPDF ProblemKind = "not-pdf"
	// BadLogo: a logo that is not a PNG or JPEG.
	BadLogo ProblemKind = "bad-logo"
)

// The French postal addressing rule (La Poste, NF Z10-011): at most six
// lines of at most 38 characters, seven lines for a letter abroad, whose
// last line is the country.
const (
	MaxLines       = 6
	MaxLinesAbroad = 7
	MaxLineChars   = 38
)

// Problem is one reason a Letter cannot be rendered as written.
type Problem struct {
	Field   Field
	Kind    ProblemKind
	Message string
	// Index is the attachment's position, for FieldAttachments.
	Index int
}

func (p Problem) String() string { return p.Message }

var frenchPostcode = regexp.MustCompile(`^[0-9]{5}$`)

// Check returns every reason l cannot be rendered: the recipient's address
// against the postal rule, characters the font lacks, attachments that are
// not PDFs. Render refuses a letter Check finds fault with.
func (l *Letter) Check() []Problem {
	var out []Problem
	to := l.To
	switch {
	case strings.TrimSpace(to.City) == "":
		out = append(out, Problem{Field: FieldTo, Kind: NoLocality, Message: "the recipient has no city: set to.city (and to.postcode)"})
	case !to.Abroad() && strings.TrimSpace(to.Postcode) == "":
		out = append(out, Problem{Field: FieldTo, Kind: NoLocality, Message: "the recipient has no postcode: set to.postcode (five digits for France)"})
	case !to.Abroad() && !frenchPostcode.MatchString(strings.TrimSpace(to.Postcode)):
		out = append(out, Problem{Field: FieldTo, Kind: NoLocality, Message: fmt.Sprintf("the recipient's postcode %q is not five digits; for an address abroad, set to.country", to.Postcode)})
	}
	lines := to.Printed()
	limit := MaxLines
	if to.Abroad() {
		limit = MaxLinesAbroad
	}
	if len(lines) > limit {
		abroad := fmt.Sprintf("%d lines abroad, the country last", MaxLinesAbroad)
		if to.Abroad() {
			abroad = fmt.Sprintf("%d in France", MaxLines)
		}
		out = append(out, Problem{Field: FieldTo, Kind: AddressTooLong, Message: fmt.Sprintf("the recipient's address has %d lines; the postal rule allows %d (%s): merge or drop lines", len(lines), limit, abroad)})
	}
	for _, line := range lines {
		if n := utf8.RuneCountInString(line); n > MaxLineChars {
			out = append(out, Problem{Field: FieldTo, Kind: AddressTooLong, Message: fmt.Sprintf("the recipient's address line %q has %d characters; the postal rule allows %d: abbreviate it or split it over two lines", line, n, MaxLineChars)})
		}
	}
	check := func(f Field, s string) {
		if r, ok := missingGlyph(s); ok {
			out = append(out, Problem{Field: f, Kind: MissingGlyph, Message: fmt.Sprintf("the character %q (U+%04X) is not in the letter's font (DejaVu Sans) and would print as a blank: replace it", r, r)})
		}
	}
	check(FieldFrom, strings.Join(l.From.Printed(), "\n"))
	check(FieldTo, strings.Join(lines, "\n"))
	check(FieldPlace, l.Place)
	check(FieldDate, l.Date)
	check(FieldSubject, l.Subject)
	check(FieldBody, l.Body)
	check(FieldSignature, l.Signature)
	check(FieldFooter, l.Footer)
	if len(l.Logo) > 0 && imageType(l.Logo) == "" {
		out = append(out, Problem{Field: FieldLogo, Kind: BadLogo, Message: "the logo is neither a PNG nor a JPEG"})
	}
	for i, a := range l.Attachments {
		if _, err := attachmentPages(a, l.attachmentSum(i)); err != nil {
			out = append(out, Problem{Field: FieldAttachments, Kind: NotPDF, Index: i, Message: fmt.Sprintf("attachment %d %v", i+1, err)})
		}
	}
	return out
}

// imageType is fpdf's name for the logo's format, or "".
func imageType(b []byte) string {
	switch {
	case len(b) > 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "PNG"
	case len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "JPEG"
	}
	return ""
}
