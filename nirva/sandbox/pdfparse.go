package sandbox

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// A minimal PDF object reader: enough to find the page tree and the text
// operators of a page, tolerant of garbage, bounded in depth and size.

type (
	pdfName    string
	pdfKeyword string
	pdfString  []byte
	pdfArray   []any
	pdfDict    map[string]any
	pdfRef     struct{ num, gen int }
	pdfStream  struct {
		dict pdfDict
		raw  []byte
	}
)

const maxParseDepth = 64

type parser struct {
	data []byte
	pos  int
}

func isWS(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return strings.IndexByte("()<>[]{}/%", c) >= 0
}

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if isWS(c) {
			p.pos++
		} else if c == '%' {
			for p.pos < len(p.data) && p.data[p.pos] != '\n' && p.data[p.pos] != '\r' {
				p.pos++
			}
		} else {
			return
		}
	}
}

func (p *parser) token() string {
	start := p.pos
	for p.pos < len(p.data) && !isWS(p.data[p.pos]) && !isDelim(p.data[p.pos]) {
		p.pos++
	}
	return string(p.data[start:p.pos])
}

// parse reads one object; nil at the end of input or on garbage (after
// consuming at least one byte, so loops always progress).
func (p *parser) parse(depth int) any {
	p.skipWS()
	if p.pos >= len(p.data) || depth > maxParseDepth {
		p.pos = len(p.data)
		return nil
	}
	c := p.data[p.pos]
	switch {
	case c == '/':
		p.pos++
		return pdfName(p.token())
	case c == '<' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '<':
		p.pos += 2
		d := pdfDict{}
		for {
			p.skipWS()
			if p.pos >= len(p.data) {
				return d
			}
			if p.data[p.pos] == '>' {
				p.pos++
				if p.pos < len(p.data) && p.data[p.pos] == '>' {
					p.pos++
				}
				return d
			}
			k := p.parse(depth + 1)
			name, ok := k.(pdfName)
			if !ok {
				continue
			}
			d[string(name)] = p.parse(depth + 1)
		}
	case c == '<':
		p.pos++
		end := bytes.IndexByte(p.data[p.pos:], '>')
		if end < 0 {
			end = len(p.data) - p.pos
		}
		hex := p.data[p.pos : p.pos+end]
		p.pos += end + 1
		return decodeHex(hex)
	case c == '(':
		return p.literal()
	case c == '[':
		p.pos++
		var a pdfArray
		for {
			p.skipWS()
			if p.pos >= len(p.data) {
				return a
			}
			if p.data[p.pos] == ']' {
				p.pos++
				return a
			}
			a = append(a, p.parse(depth+1))
		}
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		p.pos++
		return nil
	}
	tok := p.token()
	if tok == "" {
		p.pos++
		return nil
	}
	if n, err := strconv.ParseFloat(tok, 64); err == nil {
		// "N G R" is a reference.
		save := p.pos
		if n == float64(int(n)) && n >= 0 {
			p.skipWS()
			g := p.token()
			p.skipWS()
			if gn, err := strconv.Atoi(g); err == nil && p.pos < len(p.data) && p.data[p.pos] == 'R' &&
				(p.pos+1 == len(p.data) || isWS(p.data[p.pos+1]) || isDelim(p.data[p.pos+1])) {
				p.pos++
				return pdfRef{num: int(n), gen: gn}
			}
		}
		p.pos = save
		return n
	}
	switch tok {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	return pdfKeyword(tok)
}

func (p *parser) literal() pdfString {
	p.pos++ // (
	var out []byte
	depth := 1
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		p.pos++
		switch c {
		case '\\':
			if p.pos >= len(p.data) {
				return out
			}
			e := p.data[p.pos]
			p.pos++
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r', '\n':
				if e == '\r' && p.pos < len(p.data) && p.data[p.pos] == '\n' {
					p.pos++
				}
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '7'; i++ {
						v = v*8 + int(p.data[p.pos]-'0')
						p.pos++
					}
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		case '(':
			depth++
			out = append(out, c)
		case ')':
			depth--
			if depth == 0 {
				return out
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

func decodeHex(h []byte) pdfString {
	var out []byte
	var cur byte
	half := false
	for _, c := range h {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue
		}
		if half {
			out = append(out, cur<<4|v)
			half = false
		} else {
			cur, half = v, true
		}
	}
	if half {
		out = append(out, cur<<4)
	}
	return out
}

// pdfDoc holds the indirect objects found in a file.
type pdfDoc struct {
	data    []byte
	objects map[int]any
}

var objHeader = regexp.MustCompile(`(\d+)\s+(\d+)\s+obj\b`)

// loadObjects scans the file for "N G obj" headers (later definitions win,
// as with incremental updates) and unpacks object streams.
func loadObjects(data []byte) *pdfDoc {
	doc := &pdfDoc{data: data, objects: map[int]any{}}
	var objStreams []pdfStream
	for _, m := range objHeader.FindAllSubmatchIndex(data, -1) {
		num, err := strconv.Atoi(string(data[m[2]:m[3]]))
		if err != nil {
			continue
		}
		p := &parser{data: data, pos: m[1]}
		v := p.parse(0)
		if d, ok := v.(pdfDict); ok {
			p.skipWS()
			if bytes.HasPrefix(data[p.pos:], []byte("stream")) {
				s := pdfStream{dict: d, raw: streamData(data, p.pos+len("stream"), d)}
				if t, _ := d["Type"].(pdfName); t == "ObjStm" {
					objStreams = append(objStreams, s)
				}
				v = s
			}
		}
		doc.objects[num] = v
	}
	for _, s := range objStreams {
		doc.unpackObjStm(s)
	}
	return doc
}

func streamData(data []byte, pos int, d pdfDict) []byte {
	if pos < len(data) && data[pos] == '\r' {
		pos++
	}
	if pos < len(data) && data[pos] == '\n' {
		pos++
	}
	if pos > len(data) {
		return nil
	}
	if n, ok := d["Length"].(float64); ok && n >= 0 && pos+int(n) <= len(data) {
		rest := bytes.TrimLeft(data[pos+int(n):], " \r\n\t")
		if bytes.HasPrefix(rest, []byte("endstream")) {
			return data[pos : pos+int(n)]
		}
	}
	end := bytes.Index(data[pos:], []byte("endstream"))
	if end < 0 {
		return data[pos:]
	}
	return bytes.TrimRight(data[pos:pos+end], "\r\n")
}

func (doc *pdfDoc) unpackObjStm(s pdfStream) {
	body, ok := decodeStream(s)
	if !ok {
		return
	}
	n, _ := s.dict["N"].(float64)
	firstOff, _ := s.dict["First"].(float64)
	if n <= 0 || n > 1e6 || firstOff < 0 || int(firstOff) > len(body) {
		return
	}
	p := &parser{data: body}
	for i := 0; i < int(n); i++ {
		num, ok1 := p.parse(0).(float64)
		off, ok2 := p.parse(0).(float64)
		if !ok1 || !ok2 {
			return
		}
		at := int(firstOff) + int(off)
		if at < 0 || at >= len(body) {
			continue
		}
		if _, exists := doc.objects[int(num)]; exists {
			continue
		}
		op := &parser{data: body, pos: at}
		doc.objects[int(num)] = op.parse(0)
	}
}

// decodeStream applies the stream's filters; ok is false for a filter the
// sandbox does not implement or corrupt data.
func decodeStream(s pdfStream) ([]byte, bool) {
	var filters []pdfName
	switch f := s.dict["Filter"].(type) {
	case pdfName:
		filters = []pdfName{f}
	case pdfArray:
		for _, x := range f {
			if n, ok := x.(pdfName); ok {
				filters = append(filters, n)
			}
		}
	}
	data := s.raw
	for _, f := range filters {
		switch f {
		case "FlateDecode", "Fl":
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, false
			}
			out, err := io.ReadAll(io.LimitReader(zr, 64<<20))
			if err != nil && len(out) == 0 {
				return nil, false
			}
			data = out
		default:
			return nil, false
		}
	}
	return data, true
}

func (doc *pdfDoc) resolve(v any) any {
	for i := 0; i < 16; i++ {
		r, ok := v.(pdfRef)
		if !ok {
			return v
		}
		v = doc.objects[r.num]
	}
	return nil
}

func (doc *pdfDoc) dict(v any) pdfDict {
	switch x := doc.resolve(v).(type) {
	case pdfDict:
		return x
	case pdfStream:
		return x.dict
	}
	return nil
}

// findRoot reads /Root from the last trailer or cross-reference stream,
// falling back to any object of /Type /Catalog.
func (doc *pdfDoc) findRoot() pdfDict {
	if i := bytes.LastIndex(doc.data, []byte("trailer")); i >= 0 {
		p := &parser{data: doc.data, pos: i + len("trailer")}
		if d, ok := p.parse(0).(pdfDict); ok {
			if root := doc.dict(d["Root"]); root != nil {
				return root
			}
		}
	}
	for _, v := range doc.objects {
		if s, ok := v.(pdfStream); ok {
			if t, _ := s.dict["Type"].(pdfName); t == "XRef" {
				if root := doc.dict(s.dict["Root"]); root != nil {
					return root
				}
			}
		}
	}
	for _, v := range doc.objects {
		if d, ok := v.(pdfDict); ok {
			if t, _ := d["Type"].(pdfName); t == "Catalog" {
				return d
			}
		}
	}
	return nil
}

func (doc *pdfDoc) walkPages(node pdfDict, depth int, leaves *[]pdfDict) {
	if depth > 32 || len(*leaves) > 100000 {
		return
	}
	kids, ok := doc.resolve(node["Kids"]).(pdfArray)
	if t, _ := node["Type"].(pdfName); t == "Page" || (!ok && node["Contents"] != nil) {
		*leaves = append(*leaves, node)
		return
	}
	for _, k := range kids {
		if d := doc.dict(k); d != nil {
			doc.walkPages(d, depth+1, leaves)
		}
	}
}

// pageText extracts the strings shown by text operators on a page,
// following form XObjects; known is false if some content could not be
// decoded.
func (doc *pdfDoc) pageText(page pdfDict) (string, bool) {
	var b strings.Builder
	known := true
	var streams []any
	switch c := doc.resolve(page["Contents"]).(type) {
	case pdfArray:
		streams = c
	case pdfStream:
		streams = []any{c}
	}
	var content []byte
	for _, s := range streams {
		st, ok := doc.resolve(s).(pdfStream)
		if !ok {
			continue
		}
		data, ok := decodeStream(st)
		if !ok {
			known = false
			continue
		}
		content = append(content, data...)
		content = append(content, '\n')
	}
	res := doc.dict(page["Resources"])
	if !doc.contentText(content, res, 0, &b) {
		known = false
	}
	return b.String(), known
}

func (doc *pdfDoc) contentText(content []byte, res pdfDict, depth int, b *strings.Builder) bool {
	if depth > 8 {
		return true
	}
	known := true
	p := &parser{data: content}
	var operands []any
	for p.pos < len(p.data) && b.Len() < 1<<20 {
		v := p.parse(0)
		kw, ok := v.(pdfKeyword)
		if !ok {
			operands = append(operands, v)
			if len(operands) > 64 {
				operands = operands[1:]
			}
			continue
		}
		last := func() any {
			if len(operands) == 0 {
				return nil
			}
			return operands[len(operands)-1]
		}
		switch kw {
		case "Tj", "'", "\"":
			if s, ok := last().(pdfString); ok {
				b.Write(s)
				b.WriteByte('\n')
			}
		case "TJ":
			if a, ok := last().(pdfArray); ok {
				for _, x := range a {
					if s, ok := x.(pdfString); ok {
						b.Write(s)
					}
				}
				b.WriteByte('\n')
			}
		case "Do":
			name, _ := last().(pdfName)
			xobjs := doc.dict(res["XObject"])
			if st, ok := doc.resolve(xobjs[string(name)]).(pdfStream); ok {
				if sub, _ := st.dict["Subtype"].(pdfName); sub == "Form" {
					data, ok := decodeStream(st)
					if !ok {
						known = false
					} else {
						r := doc.dict(st.dict["Resources"])
						if r == nil {
							r = res
						}
						if !doc.contentText(data, r, depth+1, b) {
							known = false
						}
					}
				}
			}
		case "BI":
			// Skip inline image data up to "EI".
			if i := bytes.Index(p.data[p.pos:], []byte("ID")); i >= 0 {
				p.pos += i + 2
				if j := bytes.Index(p.data[p.pos:], []byte("EI")); j >= 0 {
					p.pos += j + 2
				} else {
					p.pos = len(p.data)
				}
			}
		}
		operands = operands[:0]
	}
	return known
}
