package letter

import (
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// md parses bodies: CommonMark, without raw HTML (there is no HTML in a
// letter; its text is printed as written).
var md = goldmark.New()

// listIndent is how far each list level moves the text right.
const listIndent = 7.0

// bodyWriter prints a Markdown body with fpdf's flowing Write, which wraps
// at the right margin and breaks pages by itself.
type bodyWriter struct {
	f      *fpdf.Fpdf
	st     *style
	src    []byte
	bold   int
	italic int
	pt     float64
	left   float64 // the current left margin
}

func body(st *style, src string) error {
	f := st.f
	b := &bodyWriter{f: f, st: st, src: []byte(src), pt: bodyPt, left: marginL}
	doc := md.Parser().Parse(text.NewReader(b.src))
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		b.block(n)
	}
	return f.Error()
}

func (b *bodyWriter) font() {
	b.st.set(b.bold > 0, b.italic > 0, b.pt)
}

func (b *bodyWriter) lh() float64 { return lineH(b.pt) }

func (b *bodyWriter) block(n ast.Node) {
	f := b.f
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		b.font()
		b.inlines(n)
		f.Ln(b.lh())
		if _, ok := n.(*ast.Paragraph); ok {
			f.Ln(b.lh() * 0.5)
		}
	case *ast.Heading:
		saved := b.pt
		b.pt = map[int]float64{1: 13, 2: 12}[n.Level]
		if b.pt == 0 {
			b.pt = 11
		}
		b.bold++
		b.font()
		f.Ln(b.lh() * 0.3)
		b.inlines(n)
		f.Ln(b.lh())
		b.bold--
		b.pt = saved
		f.Ln(b.lh() * 0.3)
	case *ast.List:
		start := n.Start
		i := 0
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			marker := "•"
			if n.IsOrdered() {
				marker = fmt.Sprintf("%d.", start+i)
			}
			i++
			b.item(it, marker)
		}
		if n.Parent() != nil && n.Parent().Kind() == ast.KindDocument {
			f.Ln(b.lh() * 0.5)
		}
	case *ast.Blockquote:
		b.indent(listIndent, func() {
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				b.block(c)
			}
		})
	case *ast.ThematicBreak:
		y := f.GetY() + b.lh()/2
		f.SetLineWidth(0.2)
		f.Line(b.left, y, pageW-marginR, y)
		f.Ln(b.lh())
	case *ast.CodeBlock, *ast.FencedCodeBlock, *ast.HTMLBlock:
		// Printed as written, line by line.
		b.font()
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			f.Write(b.lh(), strings.TrimRight(string(seg.Value(b.src)), "\r\n"))
			f.Ln(b.lh())
		}
		f.Ln(b.lh() * 0.5)
	default:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			b.block(c)
		}
	}
}

// item prints one list item: its marker in the indent, its text after it.
func (b *bodyWriter) item(it ast.Node, marker string) {
	f := b.f
	b.font()
	f.SetX(b.left)
	f.CellFormat(listIndent, b.lh(), marker, "", 0, "L", false, 0, "")
	b.indent(listIndent, func() {
		f.SetX(b.left)
		for c := it.FirstChild(); c != nil; c = c.NextSibling() {
			if p, ok := c.(*ast.Paragraph); ok {
				// A loose list's paragraphs: no space after each.
				b.font()
				b.inlines(p)
				f.Ln(b.lh())
				continue
			}
			b.block(c)
		}
	})
}

func (b *bodyWriter) indent(d float64, fn func()) {
	b.left += d
	b.f.SetLeftMargin(b.left)
	fn()
	b.left -= d
	b.f.SetLeftMargin(b.left)
}

func (b *bodyWriter) inlines(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		b.inline(c)
	}
}

func (b *bodyWriter) inline(n ast.Node) {
	f := b.f
	switch n := n.(type) {
	case *ast.Text:
		f.Write(b.lh(), string(n.Value(b.src)))
		switch {
		case n.HardLineBreak():
			f.Ln(b.lh())
		case n.SoftLineBreak():
			f.Write(b.lh(), " ")
		}
	case *ast.String:
		f.Write(b.lh(), string(n.Value))
	case *ast.Emphasis:
		if n.Level >= 2 {
			b.bold++
		} else {
			b.italic++
		}
		b.font()
		b.inlines(n)
		if n.Level >= 2 {
			b.bold--
		} else {
			b.italic--
		}
		b.font()
	case *ast.AutoLink:
		f.Write(b.lh(), string(n.URL(b.src)))
	case *ast.RawHTML:
		for i := 0; i < n.Segments.Len(); i++ {
			seg := n.Segments.At(i)
			f.Write(b.lh(), string(seg.Value(b.src)))
		}
	default: // code spans, links, images: their text
		b.inlines(n)
	}
}
