package config

import (
	"bytes"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// HCL's parser lexes a whole file into tokens before it parses it: a mail
// merge's for_each = toset([...100,000 quoted keys...]) was 500,000 tokens
// (about 240 MB of them) and 200,000 expressions built from them, most of
// a plan's cost beyond what the same letters keyed by jsondecode cost.
// parseHCL hands HCL the file with each such list blanked out (blank),
// keeping its brackets, its length, its line count and its last line, so
// that every other position in the file is unchanged; then it builds the
// list's expressions itself, the ones HCL would have built: the same
// nodes, values and ranges (TestParseHCLAsHCL and FuzzParseHCL compare
// the two parses whole). Any doubt leads to HCL's own parse of the file as
// written.

// literalTuple is one list found by findLiteralTuples: its brackets at
// src[start] and src[end-1], and the offsets of each element's quotes.
type literalTuple struct {
	start, end int
	quotes     []int // opening, closing, opening, closing...
}

// parseHCL is hclsyntax.ParseConfig(src, name, start of file), with the
// for_each lists of quoted keys read as described above.
func parseHCL(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	if f, ok := parseLiteralTuples(src, name); ok {
		return f, nil
	}
	return hclsyntax.ParseConfig(src, name, hcl.InitialPos)
}

// parseLiteralTuples is parseHCL's own parse: false when src has no list
// it reads, or when HCL must parse src as written.
func parseLiteralTuples(src []byte, name string) (*hcl.File, bool) {
	tuples := findLiteralTuples(src)
	if len(tuples) == 0 {
		return nil, false
	}
	blanked := bytes.Clone(src)
	for _, t := range tuples {
		blank(blanked[t.start+1 : t.end-1])
	}
	f, diags := hclsyntax.ParseConfig(blanked, name, hcl.InitialPos)
	// Diagnostics (HCL's own words and counts) and a list HCL did not see
	// where it was looked for (in a heredoc, a local, a nested block...)
	// are both left to the parse of the source as written.
	if len(diags) > 0 || !fillLiteralTuples(f, tuples, src, name) {
		return nil, false
	}
	// Diagnostics quote the file's lines: the source as written.
	f.Bytes = src
	return f, true
}

// blank makes b, the inside of a list, spaces and one comment, of the
// same length, line count and last line; or spaces and its line breaks
// when it has no room for that. Nothing else of it counts: whitespace
// leaves no token, a comment is one, and the closing bracket starts where
// b ends. HCL counts a token's columns by grapheme clusters, one call
// each, and skips spaces by arithmetic: the comment holds the line
// breaks, and the spaces before it what the lines held, save the last
// line, which stays spaces (with "*/"), for the bracket's column.
func blank(b []byte) {
	breaks := bytes.Count(b, []byte("\n"))
	last := len(b) - bytes.LastIndexByte(b, '\n') - 1 // bytes on the last line
	head := len(b) - 2 - breaks - last
	for i, c := range b {
		if c != '\n' && c != '\r' {
			b[i] = ' '
		}
	}
	if breaks == 0 || last < 2 || head < 0 {
		return
	}
	for i := range b[:head] {
		b[i] = ' '
	}
	copy(b[head:], "/*")
	for i := head + 2; i < head+2+breaks; i++ {
		b[i] = '\n'
	}
	copy(b[head+2+breaks:], "*/")
	for i := head + 4 + breaks; i < len(b); i++ {
		b[i] = ' '
	}
}

// findLiteralTuples finds each `for_each = toset([` whose list holds only
// quoted strings of printable ASCII without escapes or template sequences,
// separated by commas, spaces, line breaks and line comments. It reads no further than
// that: whether the text is where it looks to be (an attribute of a
// mailing block, not inside a heredoc or a comment) is told by HCL's parse
// (fillLiteralTuples).
func findLiteralTuples(src []byte) []literalTuple {
	var out []literalTuple
	call := []byte("toset(")
	for from := 0; ; {
		i := bytes.Index(src[from:], call)
		if i < 0 {
			return out
		}
		at := from + i
		from = at + len(call)
		if !afterForEach(src, at) {
			continue
		}
		open := from
		for open < len(src) && src[open] == ' ' {
			open++
		}
		if t, ok := scanLiteralTuple(src, open); ok {
			out = append(out, t)
			from = t.end
		}
	}
}

// afterForEach tells whether src[:at] ends in `for_each =` (spaces only
// around the equals sign), the name not the tail of a longer identifier.
func afterForEach(src []byte, at int) bool {
	i := at
	for i > 0 && src[i-1] == ' ' {
		i--
	}
	if i == 0 || src[i-1] != '=' {
		return false
	}
	i--
	for i > 0 && src[i-1] == ' ' {
		i--
	}
	const name = "for_each"
	if i < len(name) || string(src[i-len(name):i]) != name {
		return false
	}
	i -= len(name)
	return i == 0 || !isIdentByte(src[i-1])
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// scanLiteralTuple reads a non-empty list of quoted keys starting at
// src[open] == '['; ok is false for anything else.
func scanLiteralTuple(src []byte, open int) (literalTuple, bool) {
	t := literalTuple{start: open}
	if open >= len(src) || src[open] != '[' {
		return t, false
	}
	// Room for the quotes up to the first ']' (the end, unless a key or a
	// comment holds one) at once: 100,000 keys grew the slice 20 times.
	if n := bytes.IndexByte(src[open:], ']'); n > 0 {
		t.quotes = make([]int, 0, bytes.Count(src[open:open+n], []byte{'"'}))
	}
	i, ok := skipSpaceAndNewlines(src, open+1)
	for ok {
		if i >= len(src) || src[i] != '"' {
			return t, false
		}
		j := i + 1
		for j < len(src) && plainKeyByte(src[j]) {
			j++
		}
		// An empty key is left to HCL: its template has no parts.
		if j == i+1 || j >= len(src) || src[j] != '"' {
			return t, false
		}
		t.quotes = append(t.quotes, i, j)
		if i, ok = skipSpaceAndNewlines(src, j+1); !ok {
			break
		}
		if i < len(src) && src[i] == ',' {
			i, ok = skipSpaceAndNewlines(src, i+1)
		} else if i >= len(src) || src[i] != ']' {
			return t, false // two keys without a comma between: HCL's error
		}
		if ok && i < len(src) && src[i] == ']' {
			t.end = i + 1
			return t, true
		}
	}
	return t, false
}

// plainKeyByte is a byte a quoted key may hold for findLiteralTuples: one
// that stands for itself in HCL and in every Unicode normalisation. '$'
// and '%' (template sequences), '\\' (escapes), control characters and
// everything beyond ASCII are left to HCL.
func plainKeyByte(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '$' && c != '%'
}

// skipSpaceAndNewlines skips spaces, line breaks (LF or CR LF) and line
// comments (# or //, to the end of their line) of printable UTF-8; ok is
// false at anything else HCL could lex as whitespace or comment (a tab, a
// lone CR, a /* comment, a control character or broken UTF-8 in a
// comment), as its blanking would not be HCL's reading of it.
func skipSpaceAndNewlines(src []byte, i int) (int, bool) {
	for i < len(src) {
		switch c := src[i]; {
		case c == ' ' || c == '\n':
			i++
		case c == '\r' && i+1 < len(src) && src[i+1] == '\n':
			i += 2
		case c == '#' || c == '/' && i+1 < len(src) && src[i+1] == '/':
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				return i, false
			}
			text := bytes.TrimSuffix(src[i:i+end], []byte("\r"))
			if !printableUTF8(text) {
				return i, false
			}
			i += end + 1
		case c == '\t' || c == '\r' || c == '/':
			return i, false
		default:
			return i, true
		}
	}
	return i, true
}

// printableUTF8 tells whether b is valid UTF-8 without control
// characters.
func printableUTF8(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 || r < 0x20 || r >= 0x7f && r < 0xa0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// fillLiteralTuples finds each blanked list in f as the empty list HCL
// parsed it into, the argument of toset in the for_each of a mailing
// block, and gives it the expressions HCL would have parsed from src.
// false: some list was not found so.
func fillLiteralTuples(f *hcl.File, tuples []literalTuple, src []byte, name string) bool {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return false
	}
	byStart := make(map[int]*literalTuple, len(tuples))
	for i := range tuples {
		byStart[tuples[i].start] = &tuples[i]
	}
	found := make(map[*hclsyntax.TupleConsExpr]*literalTuple, len(tuples))
	for _, b := range body.Blocks {
		if b.Type != "mailing" {
			continue
		}
		a, ok := b.Body.Attributes["for_each"]
		if !ok {
			continue
		}
		call, ok := a.Expr.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "toset" || len(call.Args) != 1 || call.ExpandFinal {
			continue
		}
		tu, ok := call.Args[0].(*hclsyntax.TupleConsExpr)
		if !ok || len(tu.Exprs) != 0 {
			continue
		}
		t := byStart[tu.SrcRange.Start.Byte]
		if t == nil || tu.SrcRange.End.Byte != t.end || tu.OpenRange.Start.Byte != t.start {
			continue
		}
		found[tu] = t
	}
	if len(found) != len(tuples) {
		return false
	}
	text := string(src) // one copy, which every key is a part of
	for tu, t := range found {
		tu.Exprs = literalExprs(t, text, name, tu.OpenRange.Start)
	}
	return true
}

// literalExprs builds the elements of t as HCL parses a quoted string
// without template sequences: a TemplateExpr of one LiteralValueExpr,
// their ranges the quotes and the text between them. open is the
// position of t's opening bracket; from there every byte is one column
// and a line break starts the next line: the keys, spaces and commas are
// ASCII, and a comment, whatever it holds, ends its line.
func literalExprs(t *literalTuple, text, name string, open hcl.Pos) []hclsyntax.Expression {
	n := len(t.quotes) / 2
	// One allocation per kind of node, not per key.
	templates := make([]hclsyntax.TemplateExpr, n)
	literals := make([]hclsyntax.LiteralValueExpr, n)
	parts := make([]hclsyntax.Expression, n)
	exprs := make([]hclsyntax.Expression, n)
	pos := open
	// advance moves pos to byte offset to, which is past pos.
	advance := func(to int) hcl.Pos {
		for ; pos.Byte < to; pos.Byte++ {
			if text[pos.Byte] == '\n' {
				pos.Line++
				pos.Column = 1
			} else {
				pos.Column++
			}
		}
		return pos
	}
	for i := range n {
		oq, cq := t.quotes[2*i], t.quotes[2*i+1]
		oqPos := advance(oq)
		litStart := advance(oq + 1)
		litEnd := advance(cq)
		cqEnd := advance(cq + 1)
		literals[i] = hclsyntax.LiteralValueExpr{
			Val:      cty.StringVal(text[oq+1 : cq]),
			SrcRange: hcl.Range{Filename: name, Start: litStart, End: litEnd},
		}
		parts[i] = &literals[i]
		templates[i] = hclsyntax.TemplateExpr{
			Parts:    parts[i : i+1 : i+1],
			SrcRange: hcl.Range{Filename: name, Start: oqPos, End: cqEnd},
		}
		exprs[i] = &templates[i]
	}
	return exprs
}
