package config

import (
	"bytes"
	"slices"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// go-cty's (v1.20.0) jsondecode walks its input twice with encoding/json's
// Decoder.Token: once in its Type function (json.ImpliedType) and again in
// its Impl (json.Unmarshal, which moreover re-decodes every nested value
// from a RawMessage copy). For a 7 MB letters.json that is over a quarter of
// a plan. The fast path below decodes the document once with jsontext and
// builds the cty value directly, the way those two functions together
// would; whenever it meets anything it is not certain to treat as cty does
// (any syntax error, a duplicate or non-NFC object key, a number
// cty.ParseNumberVal refuses, data after the value, deep nesting), it gives
// up and cty's own code runs, so cty's results and error messages stand.

// jsonFastMaxDepth bounds the nesting the fast path accepts: encoding/json
// refuses documents nested more than 10,000 deep, jsontext likewise, and
// their exact limits need not agree.
const jsonFastMaxDepth = 1000

// decodeJSONFast returns the value cty's jsondecode gives for src, or false
// when the caller must use cty's function instead.
func decodeJSONFast(src string) (cty.Value, bool) {
	buf := []byte(src)
	// AllowDuplicateNames: duplicates are detected below (and sent to cty,
	// which accepts them only when their types agree). Invalid UTF-8 stays
	// an error, so such input goes to cty, which replaces it with U+FFFD.
	dec := jsontext.NewDecoder(bytes.NewBuffer(buf), jsontext.AllowDuplicateNames(true))
	p := jsonFastParser{dec: dec}
	v, ok := p.value(0)
	if !ok || !p.atEnd(buf) {
		return cty.NilVal, false
	}
	return v, true
}

// decodeJSONObjectItems is for_each = jsondecode(src) for a document that
// is one object: its members as for_each items, sorted by key as cty
// iterates an object, without the object itself. At 100,000 letters that
// object's type alone holds 100,000 attributes, and every walk of it (the
// known check, the unmarking, the iteration) sorts them again. It takes
// exactly the documents decodeJSONFast takes whose value is an object, and
// gives each member the value decodeJSONFast gives it.
//
// A member's value is not made here: the document is checked whole, as
// decodeJSONFast checks it, and each item keeps its member's JSON text, a
// part of src, from which memberDecoder makes the value when its letter is
// evaluated. 100,000 cty objects alive at once were most of what a mail
// merge's configuration held while it loaded.
func decodeJSONObjectItems(src string) ([]forEachItem, bool) {
	buf := []byte(src)
	dec := jsontext.NewDecoder(bytes.NewBuffer(buf), jsontext.AllowDuplicateNames(true))
	p := jsonFastParser{dec: dec, check: true}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, false
	}
	// Gathered in blocks and copied once: appended one by one, 100,000
	// items grow a quarter at a time and leave four times their size
	// behind as garbage.
	var blocks [][]forEachItem
	block := make([]forEachItem, 0, 64)
	for {
		if dec.PeekKind() == '}' {
			if _, err := dec.ReadToken(); err != nil {
				return nil, false
			}
			break
		}
		ktok, err := dec.ReadToken()
		if err != nil || ktok.Kind() != '"' {
			return nil, false
		}
		k := ktok.String()
		if cty.NormalizeString(k) != k {
			return nil, false // as members refuses it
		}
		start, ok := valueStart(buf, int(dec.InputOffset()))
		if !ok {
			return nil, false
		}
		if _, ok := p.value(memberDepth); !ok {
			return nil, false
		}
		if len(block) == cap(block) {
			blocks = append(blocks, block)
			block = make([]forEachItem, 0, min(2*cap(block), 4096))
		}
		block = append(block, forEachItem{key: k, raw: src[start:dec.InputOffset()]})
	}
	if !p.atEnd(buf) {
		return nil, false
	}
	items := block
	if len(blocks) > 0 {
		n := len(block)
		for _, b := range blocks {
			n += len(b)
		}
		items = make([]forEachItem, 0, n)
		for _, b := range blocks {
			items = append(items, b...)
		}
		items = append(items, block...)
	}
	slices.SortFunc(items, func(a, b forEachItem) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(items); i++ {
		if items[i].key == items[i-1].key {
			return nil, false // decodeJSONFast refuses duplicates too
		}
	}
	return items, true
}

// memberDepth is the depth of a top-level object's member, as value reads
// it: checked and made at the same depth, a member meets the same limit.
const memberDepth = 1

// valueStart is where a member's value begins in buf, at offset just after
// its key: past the white space, the colon and the white space that JSON
// allows there; false for anything else (which the decoder would refuse).
func valueStart(buf []byte, offset int) (int, bool) {
	i := skipSpace(buf, offset)
	if i == len(buf) || buf[i] != ':' {
		return 0, false
	}
	i = skipSpace(buf, i+1)
	return i, i < len(buf) && buf[i] != ':'
}

// memberDecoder makes for_each items' values from their JSON text, one
// decoder reused for every letter.
type memberDecoder struct {
	buf bytes.Buffer
	p   jsonFastParser
	// in, when not "", is the object whose members the decoder is
	// reading: attr found a member of it and stopped after its value.
	in string
}

// value is it's each.value: it.value itself, or the value of its JSON
// text, which decodeJSONObjectItems checked. false only if that check and
// this decoding disagree, which is a bug.
func (d *memberDecoder) value(it forEachItem) (cty.Value, bool) {
	if it.raw == "" {
		return it.value, true
	}
	d.reset(it.raw)
	v, ok := d.p.value(memberDepth)
	if !ok || int(d.p.dec.InputOffset()) != len(it.raw) {
		return cty.NilVal, false
	}
	return v, true
}

// attr is the value of attribute name of the object whose JSON text is
// raw, as decoding raw whole and reading the attribute gives it, without
// the object: cty.ObjectVal's maps were most of the cost of a letter's
// each.value.file. found is false when raw is not an object or has no
// such member; ok is false if raw does not decode, which is a bug.
//
// A letter reads several attributes of its each.value (each.value.file,
// each.value.check), mostly in the order they are written: an attribute
// of the object attr last found one in is first looked for in the members
// after it, without reading the object again from its start. A name is a
// member once at most (decodeJSONObjectItems refuses duplicates), so what
// it finds there is what a search from the start finds; an attribute not
// after it is searched from the start.
func (d *memberDecoder) attr(raw, name string) (v cty.Value, found, ok bool) {
	if v, found, ok := attrText(raw, name); ok {
		return v, found, true
	}
	if d.in != "" && d.in == raw {
		d.in = ""
		v, found, ok := d.members(raw, name)
		if found || !ok {
			return v, found, ok
		}
	}
	d.in = ""
	d.reset(raw)
	if tok, err := d.p.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return cty.NilVal, false, err == nil
	}
	return d.members(raw, name)
}

// attrText is attr read from the text itself, for what a mail merge's
// letters hold: member names without escapes, and the member's value a
// string without escapes, true, false or null, which it gives as the
// decoder does. raw is valid JSON (decodeJSONObjectItems checked it), so
// the scan only has to find where each name and value ends; on anything
// else (an escape, a number, an object, text it does not expect) ok is
// false and the decoder reads raw. FuzzJSONObjectItems compares attr with
// the object cty decodes.
func attrText(raw, name string) (v cty.Value, found, ok bool) {
	i := skipSpace(raw, 0)
	if i == len(raw) || raw[i] != '{' {
		return cty.NilVal, false, false
	}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] != '}' {
		// A name.
		if raw[i] != '"' {
			return cty.NilVal, false, false
		}
		end := strings.IndexByte(raw[i+1:], '"')
		if end < 0 {
			return cty.NilVal, false, false
		}
		key := raw[i+1 : i+1+end]
		if strings.IndexByte(key, '\\') >= 0 {
			return cty.NilVal, false, false
		}
		i = skipSpace(raw, i+end+2)
		if i == len(raw) || raw[i] != ':' {
			return cty.NilVal, false, false
		}
		i = skipSpace(raw, i+1)
		if key == name {
			return scalarText(raw[i:])
		}
		// Another member's value, skipped.
		if i = skipValueText(raw, i); i < 0 {
			return cty.NilVal, false, false
		}
		switch i = skipSpace(raw, i); {
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		case i < len(raw) && raw[i] == '}':
		default:
			return cty.NilVal, false, false
		}
	}
	if i == len(raw) {
		return cty.NilVal, false, false
	}
	return cty.NilVal, false, true
}

// scalarText is the value at the start of text when it is a string without
// escapes, true, false or null, as jsonFastParser.value makes it; ok false
// for any other.
func scalarText(text string) (v cty.Value, found, ok bool) {
	switch {
	case strings.HasPrefix(text, "true"):
		return cty.True, true, true
	case strings.HasPrefix(text, "false"):
		return cty.False, true, true
	case strings.HasPrefix(text, "null"):
		return cty.NullVal(cty.DynamicPseudoType), true, true
	case strings.HasPrefix(text, `"`):
		end := strings.IndexByte(text[1:], '"')
		if end < 0 || strings.IndexByte(text[1:1+end], '\\') >= 0 {
			return cty.NilVal, false, false
		}
		// A copy: a part of raw would keep the whole document alive
		// as long as the letter.
		return cty.StringVal(strings.Clone(text[1 : 1+end])), true, true
	}
	return cty.NilVal, false, false
}

// skipValueText is the offset in raw just after the JSON value at i, -1 if
// it cannot tell. Strings are skipped escapes and all, and objects and
// arrays to their matching bracket, brackets in strings aside.
func skipValueText(raw string, i int) int {
	depth := 0
	for i < len(raw) {
		switch c := raw[i]; c {
		case '"':
			i++
			for i < len(raw) && raw[i] != '"' {
				if raw[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(raw) {
				return -1
			}
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i // the end of the enclosing object
			}
			depth--
			i++
		case ',':
			if depth == 0 {
				return i
			}
			i++
		default:
			i++
		}
		if depth == 0 && i < len(raw) && (raw[i] == ',' || raw[i] == '}' || raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			return i
		}
	}
	return -1
}

// skipSpace is the offset of the first byte at or after i that is not
// JSON white space.
func skipSpace[T ~string | ~[]byte](s T, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// members is attr's search of the members from the decoder's position in
// raw to the object's end.
func (d *memberDecoder) members(raw, name string) (v cty.Value, found, ok bool) {
	dec := d.p.dec
	for dec.PeekKind() != '}' {
		k, err := dec.ReadValue() // the quoted name, escapes and all
		if err != nil {
			return cty.NilVal, false, false
		}
		if quotedEquals(k, name) {
			// The depth the whole object's attributes are made at.
			v, ok := d.p.value(memberDepth + 1)
			if ok {
				d.in = raw
			}
			return v, ok, ok
		}
		if err := dec.SkipValue(); err != nil {
			return cty.NilVal, false, false
		}
	}
	return cty.NilVal, false, true
}

// quotedEquals reports whether the JSON string q is name, unquoted.
func quotedEquals(q jsontext.Value, name string) bool {
	if bytes.IndexByte(q, '\\') < 0 {
		return len(q) == len(name)+2 && string(q[1:len(q)-1]) == name
	}
	u, err := jsontext.AppendUnquote(nil, q)
	return err == nil && string(u) == name
}

func (d *memberDecoder) reset(raw string) {
	d.in = ""
	d.buf.Reset()
	d.buf.WriteString(raw)
	if d.p.dec == nil {
		d.p.dec = jsontext.NewDecoder(&d.buf, jsontext.AllowDuplicateNames(true))
	} else {
		d.p.dec.Reset(&d.buf, jsontext.AllowDuplicateNames(true))
	}
}

// atEnd reports whether only JSON whitespace follows the value read; cty
// tolerates some other trailing bytes (a stray "]" or "}"), which it then
// handles itself.
func (p *jsonFastParser) atEnd(buf []byte) bool {
	return skipSpace(buf, int(p.dec.InputOffset())) == len(buf)
}

type jsonFastParser struct {
	dec *jsontext.Decoder
	// check makes value only check its input, refusing exactly what it
	// refuses when it makes values, and return cty.NilVal for each.
	check bool
	// scratch holds one attribute map per nesting depth, reused:
	// cty.ObjectVal copies the attributes out, so an object's map is free
	// again once its value is made (100,000 letters are 100,000 maps
	// fewer).
	scratch []map[string]cty.Value
}

// attrs is the empty scratch map of depth.
func (p *jsonFastParser) attrs(depth int) map[string]cty.Value {
	for len(p.scratch) <= depth {
		p.scratch = append(p.scratch, nil)
	}
	// A map that held a big object is not reused: clearing it costs its
	// size again at every later object of that depth.
	if m := p.scratch[depth]; m != nil && len(m) <= 64 {
		clear(m)
		return m
	}
	m := make(map[string]cty.Value)
	p.scratch[depth] = m
	return m
}

func (p *jsonFastParser) value(depth int) (cty.Value, bool) {
	tok, err := p.dec.ReadToken()
	if err != nil {
		return cty.NilVal, false
	}
	switch tok.Kind() {
	case 'n':
		// ImpliedType types a null as DynamicPseudoType, and Unmarshal
		// gives cty.NullVal of that type.
		return cty.NullVal(cty.DynamicPseudoType), true
	case 't':
		return cty.True, true
	case 'f':
		return cty.False, true
	case '"':
		if p.check {
			return cty.NilVal, true
		}
		return cty.StringVal(tok.String()), true
	case '0':
		// tok.String() is the literal as written, which is what
		// encoding/json's UseNumber hands cty.ParseNumberVal.
		v, err := cty.ParseNumberVal(tok.String())
		if err != nil {
			return cty.NilVal, false
		}
		if p.check {
			return cty.NilVal, true
		}
		return v, true
	case '{':
		if depth >= jsonFastMaxDepth {
			return cty.NilVal, false
		}
		attrs := p.attrs(depth)
		ok := p.members(depth, func(k string, v cty.Value) bool {
			// A key already there leaves the map's length unchanged.
			n := len(attrs)
			attrs[k] = v
			return len(attrs) > n
		})
		if !ok {
			return cty.NilVal, false
		}
		if p.check {
			return cty.NilVal, true
		}
		if len(attrs) == 0 {
			return cty.EmptyObjectVal, true
		}
		return cty.ObjectVal(attrs), true
	case '[':
		if depth >= jsonFastMaxDepth {
			return cty.NilVal, false
		}
		var elems []cty.Value
		for {
			if p.dec.PeekKind() == ']' {
				if _, err := p.dec.ReadToken(); err != nil {
					return cty.NilVal, false
				}
				break
			}
			v, ok := p.value(depth + 1)
			if !ok {
				return cty.NilVal, false
			}
			if !p.check {
				elems = append(elems, v)
			}
		}
		if p.check {
			return cty.NilVal, true
		}
		if len(elems) == 0 {
			return cty.EmptyTupleVal, true
		}
		return cty.TupleVal(elems), true
	default:
		return cty.NilVal, false
	}
}

// members reads an object's members up to and including its "}", its "{"
// read already, handing each to add; false when a member or add refuses.
func (p *jsonFastParser) members(depth int, add func(k string, v cty.Value) bool) bool {
	for {
		if p.dec.PeekKind() == '}' {
			_, err := p.dec.ReadToken()
			return err == nil
		}
		ktok, err := p.dec.ReadToken()
		if err != nil || ktok.Kind() != '"' {
			return false
		}
		k := ktok.String()
		// ImpliedType keeps keys as written while cty.ObjectVal
		// normalises them to NFC; only NFC keys are the same for both.
		if cty.NormalizeString(k) != k {
			return false
		}
		v, ok := p.value(depth + 1)
		if !ok || !add(k, v) {
			return false
		}
	}
}

// jsonDecodeCache carries the value decoded by the Type function to the
// Impl of the same call, so the document is decoded once. It is keyed by
// the document itself: a value found under the same string is the value
// for that string, whichever call put it there.
type jsonDecodeCache struct {
	mu  sync.Mutex
	src string
	val cty.Value
	set bool
}

func (c *jsonDecodeCache) put(src string, v cty.Value) {
	c.mu.Lock()
	c.src, c.val, c.set = src, v, true
	c.mu.Unlock()
}

func (c *jsonDecodeCache) take(src string) (cty.Value, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.set || c.src != src {
		return cty.NilVal, false
	}
	v := c.val
	c.src, c.val, c.set = "", cty.NilVal, false
	return v, true
}

// makeJSONDecodeFunc is stdlib.JSONDecodeFunc with the fast path: the same
// parameter (so the same null, type, unknown and mark handling by
// function.Call), the same type and value for every document the fast path
// takes, and cty's own code for everything else.
func makeJSONDecodeFunc() function.Function {
	slow := stdlib.JSONDecodeFunc
	cache := &jsonDecodeCache{}
	return function.New(&function.Spec{
		Description: slow.Description(),
		Params:      slow.Params(),
		Type: func(args []cty.Value) (cty.Type, error) {
			str := args[0]
			if str.IsKnown() {
				src := str.AsString()
				if v, ok := decodeJSONFast(src); ok {
					cache.put(src, v)
					return v.Type(), nil
				}
			}
			return slow.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			src := args[0].AsString()
			if v, ok := cache.take(src); ok {
				return v, nil
			}
			// What stdlib.JSONDecodeFunc's Impl does.
			return ctyjson.Unmarshal([]byte(src), retType)
		},
	})
}
