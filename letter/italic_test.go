package letter

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"
)

// run is text the content stream shows, with the face and the rendering
// mode it is shown in.
type run struct {
	text, font string
	bold       bool
}

var (
	streamRE   = regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)
	fontResRE  = regexp.MustCompile(`/(F[0-9a-f]+) (\d+) 0 R`)
	tokenRE    = regexp.MustCompile(`(?s)/(F[0-9a-f]+) [0-9.]+ Tf|(\d) Tr|\(((?:\\.|[^\\)])*)\)Tj`)
	baseFontRE = regexp.MustCompile(`/BaseFont /(\S+)`)
)

// runs reads back every Tj of a rendered letter with the BaseFont of its
// face and whether it is drawn bold (text render mode 2).
func runs(t *testing.T, doc []byte) []run {
	t.Helper()
	fonts := map[string]string{}
	for _, m := range fontResRE.FindAllSubmatch(doc, -1) {
		obj := regexp.MustCompile(`(?s)\n` + string(m[2]) + ` 0 obj(.*?)endobj`).FindSubmatch(doc)
		if obj == nil {
			continue
		}
		if b := baseFontRE.FindSubmatch(obj[1]); b != nil {
			fonts[string(m[1])] = string(b[1])
		}
	}
	var out []run
	var font string
	bold := false
	for _, s := range streamRE.FindAllSubmatch(doc, -1) {
		z, err := zlib.NewReader(bytes.NewReader(s[1]))
		if err != nil {
			continue
		}
		content, err := io.ReadAll(z)
		if err != nil || !bytes.Contains(content, []byte(" Tf")) {
			continue
		}
		for _, tok := range tokenRE.FindAllSubmatch(content, -1) {
			switch {
			case tok[1] != nil:
				font = fonts[string(tok[1])]
			case tok[2] != nil:
				bold = string(tok[2]) == "2"
			default:
				out = append(out, run{text: utf16Text(tok[3]), font: font, bold: bold})
			}
		}
	}
	return out
}

// utf16Text decodes a Tj string of fpdf's UTF-8 fonts: UTF-16BE, with
// the PDF string escapes.
func utf16Text(b []byte) string {
	var raw []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			i++
			switch b[i] {
			case 'n':
				raw = append(raw, '\n')
			case 'r':
				raw = append(raw, '\r')
			case 't':
				raw = append(raw, '\t')
			default:
				raw = append(raw, b[i])
			}
			continue
		}
		raw = append(raw, b[i])
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = binary.BigEndian.Uint16(raw[2*i:])
	}
	return string(utf16.Decode(u))
}

// *emphasis* is set in DejaVu Sans Oblique, ***both*** in the oblique face
// drawn bold; the words around stay upright, and PDFium reads them all.
func TestItalic(t *testing.T) {
	l := sample()
	l.Body = "Votre facture reste *impayée* et ***urgente***, mais **due**."
	doc := render(t, l).PDF
	styles := map[string]run{}
	for _, r := range runs(t, doc) {
		r.text = strings.TrimSpace(r.text)
		styles[r.text] = r
	}
	const oblique, regular = "utf8dejavuI", "utf8dejavu"
	for _, want := range []run{
		{"Votre facture reste", regular, false},
		{"impayée", oblique, false},
		{"urgente", oblique, true},
		{"due", regular, true},
		{"Objet : Mise en demeure de payer", regular, true},
	} {
		got, ok := styles[want.text]
		if !ok || got != want {
			t.Errorf("%q drawn as %+v (found %v), want %+v", want.text, got, ok, want)
		}
	}
	if !bytes.Contains(doc, []byte("/FontFile2")) || bytes.Count(doc, []byte("/Type /FontDescriptor")) != 2 {
		t.Error("the letter does not embed both faces")
	}
	p, err := engine.Page(doc, 0)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, line := range p.Lines {
		text.WriteString(line.Text + "\n")
	}
	if !strings.Contains(text.String(), "Votre facture reste impayée et urgente, mais due.") {
		t.Errorf("page 1 reads:\n%s", text.String())
	}
	if !bytes.Equal(doc, render(t, l).PDF) {
		t.Error("a letter with italics renders to other bytes the second time")
	}

	// A letter without emphasis does not carry the oblique face.
	plain := sample()
	plain.Body = "Votre facture reste **impayée**."
	if d := render(t, plain).PDF; bytes.Contains(d, []byte(oblique+"\n")) || bytes.Contains(d, []byte("/"+oblique)) {
		t.Error("a letter without italics embeds the oblique face")
	}
}

// missingGlyph takes printable ASCII as drawn without asking the faces:
// both must have all of it.
func TestFacesCoverASCII(t *testing.T) {
	for r := ' '; r <= '~'; r++ {
		if !hasGlyph(r) {
			t.Errorf("the embedded faces lack %q", r)
		}
	}
}
