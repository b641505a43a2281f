package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// handPDF writes a small, valid PDF by hand (through WriteObjects) for
// what the LibreOffice fixtures do not show: a page with /Rotate, text drawn
// inside a form XObject, TJ arrays whose offsets make the word spaces. Fonts
// are the standard Helvetica in WinAnsiEncoding (é is \351) as /F1, and an
// unmappable Type3 font as /T3; contents are
// Flate-compressed like a real producer's.
type handPage struct {
	mediaBox [4]float64
	rotate   int
	content  string // page content stream
	form     string // when not empty: a form XObject /X1 the content can Do
	formMtx  string // its /Matrix, e.g. "1 0 0 1 300 500"
}

func handPDF(pages ...handPage) []byte {
	var objs []string // objs[i] is object i+1
	add := func(s string) int { objs = append(objs, s); return len(objs) }
	stream := func(dict, data string) string {
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write([]byte(data))
		w.Close()
		return fmt.Sprintf("<< %s /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", dict, z.Len(), z.String())
	}
	catalog := add("") // object 1, as WriteObjects wants; filled below
	pagesObj := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	// /T3: a Type3 font whose glyph names no glyph list knows, without a
	// ToUnicode map: PDFium cannot tell what its characters are.
	glyph := add(stream("", "1000 0 0 0 750 750 d1 0 0 750 750 re f"))
	t3 := add(fmt.Sprintf("<< /Type /Font /Subtype /Type3 /FontBBox [0 0 750 750] /FontMatrix [0.001 0 0 0.001 0 0] /CharProcs << /zq1 %d 0 R /zq2 %d 0 R >> /Encoding << /Type /Encoding /Differences [65 /zq1 /zq2] >> /FirstChar 65 /LastChar 66 /Widths [1000 1000] /Resources << >> >>", glyph, glyph))
	var kids []string
	for _, p := range pages {
		res := fmt.Sprintf("/Font << /F1 %d 0 R /T3 %d 0 R >>", font, t3)
		if p.form != "" {
			x := add(stream(fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 600 300] /Matrix [%s] /Resources << /Font << /F1 %d 0 R >> >>", p.formMtx, font), p.form))
			res += fmt.Sprintf(" /XObject << /X1 %d 0 R >>", x)
		}
		c := add(stream("", p.content))
		pg := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [%g %g %g %g] /Rotate %d /Resources << %s >> /Contents %d 0 R >>",
			pagesObj, p.mediaBox[0], p.mediaBox[1], p.mediaBox[2], p.mediaBox[3], p.rotate, res, c))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj)
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	return WriteObjects(objs)
}

const mm = 72 / 25.4 // points per millimetre

// a4 is an A4 portrait media box.
var a4 = [4]float64{0, 0, 595.28, 841.89}

// textAt draws lines at x mm from the left, the first baseline y mm from the
// top of an unrotated A4 page, 11 pt, 4.5 mm apart. Each line is a raw TJ array body.
func textAt(xMM, yMM float64, tj ...string) string {
	var b bytes.Buffer
	for i, t := range tj {
		fmt.Fprintf(&b, "BT /F1 11 Tf 1 0 0 1 %.2f %.2f Tm [%s] TJ ET\n", xMM*mm, a4[3]-(yMM+4.5*float64(i))*mm, t)
	}
	return b.String()
}
