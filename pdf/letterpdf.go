package pdf

import (
	"bytes"
	"fmt"
)

// MakePDF returns a valid one-page A4 PDF whose address window shows lines
// as text (Helvetica 12, WinAnsi; characters outside Latin-1 become '?'):
// the recipient of a letter, as postform's plan and the sandbox read it.
// With no lines the page carries no text at all, which both read as "no
// postal address in the address window". postform init writes its example
// letter with it; the sandbox its proofs; the tests their letters.
func MakePDF(lines ...string) ([]byte, error) { return MakeLetter(lines) }

// Where MakeLetter writes, in PDF points from the bottom-left corner of an
// A4 page (841.89 pt high): the address starts 3 mm inside the top-left
// corner of DefaultWindow (110 mm from the left, 55 mm from the top), its
// first baseline 9 pt lower, so that six lines of 14 pt fit the 33 mm
// window; the body starts 20 mm below the window.
const (
	addressX    = (110 + 3) * 72 / 25.4
	addressY    = 841.89 - (55+3)*72/25.4 - 9
	bodyX       = 25 * 72 / 25.4
	bodyY       = 841.89 - (55+33+20)*72/25.4
	lineSpacing = 14
)

// MakeLetter is MakePDF with body lines below the address window, at the
// left margin, as a letter's text would be.
func MakeLetter(address []string, body ...string) ([]byte, error) {
	var content bytes.Buffer
	block := func(x, y float64, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&content, "BT\n/F1 12 Tf\n%d TL\n%.2f %.2f Td\n", lineSpacing, x, y)
		for i, l := range lines {
			if i > 0 {
				content.WriteString("T*\n")
			}
			content.WriteString("(")
			content.Write(literal(l))
			content.WriteString(") Tj\n")
		}
		content.WriteString("ET\n")
	}
	block(addressX, addressY, address)
	block(bodyX, bodyY, body)
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	return WriteObjects(objects), nil
}

// literal encodes s as the bytes of a PDF literal string (without the
// parentheses), in WinAnsi as far as Latin-1 reaches.
func literal(s string) []byte {
	var b bytes.Buffer
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			b.WriteByte('?')
		case r < 0x100:
			b.WriteByte(byte(r))
		default:
			b.WriteByte('?')
		}
	}
	return b.Bytes()
}
