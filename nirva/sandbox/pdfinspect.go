package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func init() {
	// pdfcpu would otherwise create a configuration directory in the
	// user's home on first use; its built-in defaults are what we want.
	api.DisableConfigDir()
}

// errEncrypted: the platform cannot extract content from an encrypted PDF.
var errEncrypted = errors.New("the PDF is encrypted")

// pdfInfo is what the sandbox reads from an uploaded PDF.
type pdfInfo struct {
	Pages int
	// FirstPageText is the text shown on the first page, one line per
	// text-showing operator; TextKnown is false when some content could not
	// be decoded (an unsupported filter), in which case the page is assumed
	// to carry text.
	FirstPageText string
	TextKnown     bool
}

// HasText reports whether the first page shows any text.
func (i pdfInfo) HasText() bool { return !i.TextKnown || strings.TrimSpace(i.FirstPageText) != "" }

// inspectPDF parses and validates a PDF with pdfcpu (relaxed mode, as a
// production platform would be lenient with common defects), refuses
// encrypted files and files without pages, and extracts the strings shown
// on the first page. pdfcpu does not extract text, so the first page's
// decoded content stream (from pdfcpu) is scanned for text-showing
// operators here, following form XObjects.
func inspectPDF(data []byte) (info pdfInfo, err error) {
	defer func() {
		// pdfcpu recovers its own failures, but a malformed upload must
		// never take the sandbox down.
		if r := recover(); r != nil {
			info, err = pdfInfo{}, fmt.Errorf("malformed PDF: pdfcpu failed: %v", r)
		}
	}()
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return pdfInfo{}, errors.New("not a PDF (bad magic)")
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := api.ReadContext(bytes.NewReader(data), conf)
	if err != nil {
		if errors.Is(err, pdfcpu.ErrWrongPassword) || strings.Contains(err.Error(), "password") {
			return pdfInfo{}, errEncrypted
		}
		return pdfInfo{}, fmt.Errorf("malformed PDF: %v", err)
	}
	if ctx.Encrypt != nil || ctx.E != nil {
		return pdfInfo{}, errEncrypted
	}
	if err := api.ValidateContext(ctx); err != nil {
		return pdfInfo{}, fmt.Errorf("malformed PDF: %v", err)
	}
	if err := ctx.EnsurePageCount(); err != nil {
		return pdfInfo{}, fmt.Errorf("malformed PDF: page tree: %v", err)
	}
	if ctx.PageCount < 1 {
		return pdfInfo{}, errors.New("malformed PDF: no page")
	}
	info = pdfInfo{Pages: ctx.PageCount, TextKnown: true}
	page, _, inherited, err := ctx.PageDict(1, false)
	if err != nil {
		return pdfInfo{}, fmt.Errorf("malformed PDF: page 1: %v", err)
	}
	content, err := ctx.PageContent(page, 1)
	switch {
	case errors.Is(err, model.ErrNoContent):
		return info, nil
	case err != nil:
		info.TextKnown = false
		return info, nil
	}
	res := pageResources(ctx, page, inherited)
	var b strings.Builder
	info.TextKnown = contentText(ctx, content, res, 0, &b)
	info.FirstPageText = b.String()
	return info, nil
}

func pageResources(ctx *model.Context, page types.Dict, inherited *model.InheritedPageAttrs) types.Dict {
	if o, ok := page.Find("Resources"); ok {
		if d, err := ctx.DereferenceDict(o); err == nil && d != nil {
			return d
		}
	}
	if inherited != nil {
		return inherited.Resources
	}
	return nil
}

// Limits of the content scan: nested forms and text gathered.
const (
	maxFormDepth = 8
	maxText      = 1 << 20
)

// contentText appends to b the strings shown by Tj, TJ, ' and " in a
// content stream, one line per operator, and recurses into form XObjects
// drawn with Do. It returns false when some content could not be decoded.
func contentText(ctx *model.Context, content []byte, res types.Dict, depth int, b *strings.Builder) bool {
	if depth > maxFormDepth {
		return true
	}
	known := true
	s := string(content)
	var operands []types.Object
	for b.Len() < maxText {
		s = skipSpaceAndComments(s)
		if s == "" {
			break
		}
		if startsOperand(s) {
			rest := s
			o, err := model.ParseObject(&rest)
			if err != nil || len(rest) >= len(s) {
				// Garbage: skip one token and carry on, as readers do.
				s = s[max(1, tokenEnd(s)):]
				operands = operands[:0]
				continue
			}
			s = rest
			if len(operands) < 64 {
				operands = append(operands, o)
			}
			continue
		}
		n := max(1, tokenEnd(s))
		op := s[:n]
		s = s[n:]
		var last types.Object
		if len(operands) > 0 {
			last = operands[len(operands)-1]
		}
		switch op {
		case "Tj", "'", `"`:
			if t, ok := pdfText(last); ok {
				b.WriteString(t)
				b.WriteByte('\n')
			}
		case "TJ":
			if a, ok := last.(types.Array); ok {
				for _, x := range a {
					if t, ok := pdfText(x); ok {
						b.WriteString(t)
					}
				}
				b.WriteByte('\n')
			}
		case "Do":
			if name, ok := last.(types.Name); ok {
				if !formText(ctx, res, string(name), depth, b) {
					known = false
				}
			}
		case "BI":
			s = skipInlineImage(s)
		}
		operands = operands[:0]
	}
	return known
}

// formText extracts the text of the form XObject name of res.
func formText(ctx *model.Context, res types.Dict, name string, depth int, b *strings.Builder) bool {
	if res == nil {
		return true
	}
	xo, ok := res.Find("XObject")
	if !ok {
		return true
	}
	xobjects, err := ctx.DereferenceDict(xo)
	if err != nil || xobjects == nil {
		return true
	}
	ref, ok := xobjects.Find(name)
	if !ok {
		return true
	}
	sd, _, err := ctx.DereferenceStreamDict(ref)
	if err != nil || sd == nil {
		return true
	}
	if st := sd.Subtype(); st == nil || *st != "Form" {
		return true
	}
	if err := sd.Decode(); err != nil {
		return false
	}
	formRes := res
	if o, ok := sd.Find("Resources"); ok {
		if d, err := ctx.DereferenceDict(o); err == nil && d != nil {
			formRes = d
		}
	}
	return contentText(ctx, sd.Content, formRes, depth+1, b)
}

// pdfText decodes a string operand. Simple fonts in the sandbox's PDFs use
// single-byte encodings; bytes are read as Latin-1, which is enough to find
// an address or a marker word.
func pdfText(o types.Object) (string, bool) {
	var raw []byte
	switch v := o.(type) {
	case types.StringLiteral:
		b, err := types.Unescape(string(v))
		if err != nil {
			return "", false
		}
		raw = b
	case types.HexLiteral:
		b, err := v.Bytes()
		if err != nil {
			return "", false
		}
		raw = b
	default:
		return "", false
	}
	return types.CP1252ToUTF8(string(raw)), true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelimiter(c byte) bool { return strings.IndexByte("()<>[]{}/%", c) >= 0 }

func skipSpaceAndComments(s string) string {
	for s != "" {
		switch {
		case isSpace(s[0]):
			s = s[1:]
		case s[0] == '%':
			i := strings.IndexAny(s, "\r\n")
			if i < 0 {
				return ""
			}
			s = s[i:]
		default:
			return s
		}
	}
	return s
}

// startsOperand reports whether s starts an object (as opposed to an
// operator keyword).
func startsOperand(s string) bool {
	switch c := s[0]; {
	case c == '(' || c == '<' || c == '[' || c == '/':
		return true
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return true
	}
	for _, kw := range []string{"true", "false", "null"} {
		if strings.HasPrefix(s, kw) && (len(s) == len(kw) || isSpace(s[len(kw)]) || isDelimiter(s[len(kw)])) {
			return true
		}
	}
	return false
}

// tokenEnd is the length of the regular-character token at the start of s.
func tokenEnd(s string) int {
	i := 0
	for i < len(s) && !isSpace(s[i]) && !isDelimiter(s[i]) {
		i++
	}
	return i
}

// skipInlineImage skips an inline image's dictionary and data, up to and
// including the EI operator.
func skipInlineImage(s string) string {
	i := strings.Index(s, "ID")
	if i < 0 {
		return ""
	}
	s = s[i+2:]
	for {
		j := strings.Index(s, "EI")
		if j < 0 {
			return ""
		}
		if j > 0 && isSpace(s[j-1]) && (j+2 == len(s) || isSpace(s[j+2])) {
			return s[j+2:]
		}
		s = s[j+2:]
	}
}
