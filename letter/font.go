package letter

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font/sfnt"
)

// The embedded face: DejaVu Sans 2.37 (fonts/LICENSE: the Bitstream Vera
// licence, DejaVu changes in the public domain), cut to Latin, Greek,
// Cyrillic, punctuation, currency, letterlike, arrow, mathematical and box
// characters: accents, €, « », typographic apostrophes. Bold is drawn from
// it (see style). The ligature characters ﬁ ﬂ … are printed as their letters.
//
//go:embed fonts/DejaVuSans.ttf
var regularTTF []byte

// The italic face: DejaVu Sans Oblique 2.37, cut to the same characters
// (fonts/LICENSE), so a character either face lacks is refused by Check
// wherever it stands in the letter.
//
//go:embed fonts/DejaVuSans-Oblique.ttf
var obliqueTTF []byte

var (
	facesOnce sync.Once
	faces     []*sfnt.Font
	facesErr  error
	// covered caches the answer per rune: Check runs for every letter.
	covered sync.Map // rune → bool
)

func loadFaces() ([]*sfnt.Font, error) {
	facesOnce.Do(func() {
		for _, b := range [][]byte{regularTTF, obliqueTTF} {
			f, err := sfnt.Parse(b)
			if err != nil {
				facesErr = err
				return
			}
			faces = append(faces, f)
		}
	})
	return faces, facesErr
}

// hasGlyph reports whether the face can draw r.
func hasGlyph(r rune) bool {
	if v, ok := covered.Load(r); ok {
		return v.(bool)
	}
	fs, err := loadFaces()
	if err != nil {
		panic("letter: the embedded font is broken: " + err.Error())
	}
	var buf sfnt.Buffer
	ok := true
	for _, f := range fs {
		if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
			ok = false
		}
	}
	covered.Store(r, ok)
	return ok
}

// ligatures are the presentation forms a text may hold (copied from a PDF
// or a word processor); the face has their letters instead.
var ligatures = strings.NewReplacer("ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "ſt", "ﬆ", "st")

// missingGlyph returns the first character of s the font lacks. Line
// breaks and tabs are layout, not glyphs.
func missingGlyph(s string) (rune, bool) {
	for _, r := range ligatures.Replace(s) {
		if r == '\n' || r == '\r' || r == '\t' || (r >= ' ' && r <= '~') {
			// Both faces have every printable ASCII character
			// (TestFacesCoverASCII): most of a letter is not looked up.
			continue
		}
		// fpdf encodes characters in two bytes: none past U+FFFF.
		if unicode.IsControl(r) || r > 0xFFFF || !hasGlyph(r) {
			return r, true
		}
	}
	return 0, false
}
