package letter

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
)

// canonicalOrder rewrites a PDF with a classic cross-reference table so that
// its objects come in object-number order, each passed through edit when
// edit is not nil (it gets and returns an object's bytes, "N 0 obj" to
// "endobj"). pdfcpu writes objects in the
// order it walks its dictionaries, which are Go maps: the same merge gives
// the same objects in a different order from run to run. The objects are
// cut at the offsets the table gives (each object's bytes end where the
// next one starts), so streams are copied as they are, never parsed.
func canonicalOrder(b []byte, edit func([]byte) []byte) ([]byte, error) {
	sx := bytes.LastIndex(b, []byte("startxref"))
	if sx < 0 {
		return nil, fmt.Errorf("no startxref")
	}
	f := bytes.Fields(b[sx+len("startxref"):])
	if len(f) == 0 {
		return nil, fmt.Errorf("no xref offset")
	}
	xref, err := strconv.Atoi(string(f[0]))
	if err != nil || xref <= 0 || xref >= sx || !bytes.HasPrefix(b[xref:], []byte("xref")) {
		return nil, fmt.Errorf("no classic xref table at the startxref offset")
	}
	tr := bytes.Index(b[xref:], []byte("trailer"))
	if tr < 0 {
		return nil, fmt.Errorf("no trailer")
	}
	trailer := bytes.TrimSpace(b[xref+tr+len("trailer") : sx])

	type obj struct{ nr, off int }
	var objs []obj
	size := 0
	lines := bytes.Split(b[xref+len("xref"):xref+tr], []byte("\n"))
	nr := 0
	for _, l := range lines {
		w := bytes.Fields(l)
		switch len(w) {
		case 0:
			continue
		case 2: // a subsection: first object number, count
			first, err1 := strconv.Atoi(string(w[0]))
			n, err2 := strconv.Atoi(string(w[1]))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("bad xref subsection %q", l)
			}
			nr, size = first, max(size, first+n)
		case 3:
			if string(w[2]) == "n" {
				off, err := strconv.Atoi(string(w[0]))
				if err != nil || off <= 0 || off >= xref {
					return nil, fmt.Errorf("bad xref entry %q", l)
				}
				objs = append(objs, obj{nr, off})
			}
			nr++
		default:
			return nil, fmt.Errorf("bad xref line %q", l)
		}
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no objects")
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].off < objs[j].off })
	spans := map[int][]byte{}
	for i, o := range objs {
		end := xref
		if i+1 < len(objs) {
			end = objs[i+1].off
		}
		if !bytes.HasPrefix(b[o.off:], []byte(strconv.Itoa(o.nr)+" ")) {
			return nil, fmt.Errorf("object %d is not at offset %d", o.nr, o.off)
		}
		spans[o.nr] = bytes.TrimRight(b[o.off:end], " \r\n")
		if edit != nil {
			spans[o.nr] = edit(spans[o.nr])
		}
	}
	out := bytes.NewBuffer(make([]byte, 0, len(b)))
	out.Write(b[:objs[0].off]) // the header
	offsets := make([]int, size)
	for n := 0; n < size; n++ {
		if s, ok := spans[n]; ok {
			offsets[n] = out.Len()
			out.Write(s)
			out.WriteByte('\n')
		}
	}
	start := out.Len()
	fmt.Fprintf(out, "xref\n0 %d\n", size)
	for n := 0; n < size; n++ {
		if _, ok := spans[n]; ok {
			fmt.Fprintf(out, "%010d 00000 n \n", offsets[n])
		} else {
			out.WriteString("0000000000 65535 f \n")
		}
	}
	fmt.Fprintf(out, "trailer\n%s\nstartxref\n%d\n%%%%EOF\n", trailer, start)
	return out.Bytes(), nil
}

// fpdfToUnicode is the start of the CMap fpdf gives every UTF-8 font: one
// range <0000> <FFFF> → U+0000, which a range may not be (its ends must
// differ in the last byte only), so PDFium maps only U+0000–U+00FF with it
// and reads ’, €, — and • as nothing.
var fpdfToUnicode = []byte("/CIDInit /ProcSet findresource begin")

// toUnicodeObject is the same identity map, written as 248 lawful ranges
// (the surrogates, D800–DFFF, are no characters).
var toUnicodeCMap = func() string {
	var ranges []string
	for hi := 0; hi < 256; hi++ {
		if hi >= 0xD8 && hi <= 0xDF {
			continue
		}
		ranges = append(ranges, fmt.Sprintf("<%02X00> <%02XFF> <%02X00>", hi, hi, hi))
	}
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(ranges) > 0 {
		n := min(100, len(ranges)) // at most 100 entries a block
		fmt.Fprintf(&b, "%d beginbfrange\n", n)
		for _, r := range ranges[:n] {
			b.WriteString(r + "\n")
		}
		b.WriteString("endbfrange\n")
		ranges = ranges[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	return b.String()
}()

// fixToUnicode replaces fpdf's ToUnicode stream object by a lawful one.
func fixToUnicode(obj []byte) []byte {
	i := bytes.Index(obj, []byte(" 0 obj"))
	if i < 0 || !bytes.Contains(obj, fpdfToUnicode) || !bytes.Contains(obj, []byte("<0000> <FFFF> <0000>")) {
		return obj
	}
	return fmt.Appendf(nil, "%s 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj", obj[:i], len(toUnicodeCMap), toUnicodeCMap)
}
