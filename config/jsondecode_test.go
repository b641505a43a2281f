package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// jsonDecodeCases are documents for jsondecode; fast tells whether the
// fast path must take them (false: cty's own code must run).
var jsonDecodeCases = []struct {
	name, src string
	fast      bool
}{
	{"string", `"hello"`, true},
	{"empty string", `""`, true},
	{"true", `true`, true},
	{"false", `false`, true},
	{"null", `null`, true},
	{"zero", `0`, true},
	{"negative zero", `-0`, true},
	{"integer", `42`, true},
	{"negative", `-17`, true},
	{"big integer", `123456789012345678901234567890123456789012345678901234567890`, true},
	{"fraction", `3.14159265358979323846264338327950288419716939937510582097494459`, true},
	{"exponent", `1e10`, true},
	{"negative exponent", `-2.5E-7`, true},
	{"exponent plus", `6.02e+23`, true},
	{"huge exponent", `1e400`, true},
	{"tiny exponent", `1e-400`, true},
	{"overflowing exponent", `1e9999999999999999999`, false},
	{"overflowing exponent in a member", `{"a": {"b": 1}, "c": {"d": [1, 1e9999999999999999999]}}`, false},
	{"members with escaped names", `{"a": {"\u0066ile": "x", "fil\"e": 1, "\u00e9": {"file": [true]}}, "b": "file", "c": {}, "d": [{"file": 1}]}`, true},
	{"member with spaces around its colon", "{\"a\" \t\n: \r {\"b\" : [ 1 , \"x\" ] } , \"c\":true}", true},
	{"unicode escapes", `"caf\u00e9 \u20ac \ud83d\ude00 \n\t\"\\\/"`, true},
	{"raw unicode", `"café €😀"`, true},
	{"decomposed string", "\"cafe\u0301\"", true},
	{"lone surrogate", `"\ud800"`, false},
	{"invalid utf8", "\"a\xffb\"", false},
	{"empty object", `{}`, true},
	{"empty array", `[]`, true},
	{"whitespace", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n ", true},
	{"object", `{"a": 1, "b": "x", "c": true, "d": null}`, true},
	{"nested", `{"a": {"b": {"c": [1, {"d": [[], {}, null]}]}}, "e": []}`, true},
	{"array mixed", `[1, "a", true, null, {}, [], {"x": null}, [null]]`, true},
	{"array of objects", `[{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c"}]`, true},
	{"nulls everywhere", `{"a": null, "b": [null, null], "c": {"d": null}}`, true},
	{"unicode key", `{"caf\u00e9": 1, "€": 2, "": 3}`, true},
	{"decomposed key", "{\"cafe\u0301\": 1}", false},
	{"keys equal after NFC", "{\"caf\u00e9\": 1, \"cafe\u0301\": 2}", false},
	{"escaped key", `{"a\"b": 1, "a\\b": 2}`, true},
	{"duplicate key same type", `{"a": 1, "a": 2}`, false},
	{"duplicate key other type", `{"a": 1, "a": "x"}`, false},
	{"duplicate key via escape", `{"a": 1, "\u0061": 2}`, false},
	{"duplicate nested", `[{"k": null, "k": null}]`, false},
	{"letters", `{"c000000": "letters/c000000.pdf", "c000001": "letters/c000001.pdf"}`, true},
	// Letters whose members hide names, quotes, brackets and escapes
	// from a scan of the text (memberDecoder.attr, attrText).
	{"letters with escapes", `{"a": {"x": "q\"}, \"file\": \"evil", "file": "good.pdf", "check": true},
	  "b": {"n": [1, {"file": "no"}, "]"], "file": "b.pdf"}, "c": {"s": "\\", "file": "c\u00e9.pdf", "check": null},
	  "d": {"x": {"check": false, "y": "}"}, "check": false, "file": 1.5}, "e": {"fi\u006ce": "escaped.pdf", "check": true},
	  "f": {"check":true,"file":"tight.pdf"}, "g": {"file": "", "check": "true"}, "h": {}, "i": "flat", "j": {"file": {"a": 1}}}`, true},
	{"empty input", ``, false},
	{"only spaces", `   `, false},
	{"invalid", `{"a": }`, false},
	{"unterminated", `{"a": [1, 2`, false},
	{"trailing comma", `[1, 2,]`, false},
	{"single quotes", `{'a': 1}`, false},
	{"bare word", `nope`, false},
	{"leading zero", `01`, false},
	{"plus number", `+1`, false},
	{"dot number", `.5`, false},
	{"hex", `0x10`, false},
	{"NaN", `NaN`, false},
	{"trailing garbage", `{"a": 1} x`, false},
	{"trailing value", `1 2`, false},
	{"trailing object", `{} {}`, false},
	{"trailing bracket", `{"a": 1}]`, false},
	{"trailing brace", `[1]}`, false},
	{"non-string key", `{1: 2}`, false},
	{"bom", "\ufeff{}", false},
	{"control char", "\"a\x01b\"", false},
	{"deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), true},
	{"too deep for fast path", strings.Repeat("[", jsonFastMaxDepth+1) + strings.Repeat("]", jsonFastMaxDepth+1), false},
}

// sameJSONDecode fails t unless the fast function and cty's give the same
// type, value (RawEquals: type, value and marks) and error.
func sameJSONDecode(t *testing.T, what string, arg cty.Value) {
	t.Helper()
	fast, slow := makeJSONDecodeFunc(), stdlib.JSONDecodeFunc
	args := []cty.Value{arg}
	sameErr := func(stage string, got, want error) {
		t.Helper()
		if fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", want, want) {
			t.Fatalf("%s: %s error %T %v, cty gives %T %v", what, stage, got, got, want, want)
		}
	}
	gotTy, gotErr := fast.ReturnTypeForValues(args)
	refTy, refErr := slow.ReturnTypeForValues(args)
	sameErr("type", gotErr, refErr)
	if refErr == nil && !gotTy.Equals(refTy) {
		t.Fatalf("%s: type %#v, cty gives %#v", what, gotTy, refTy)
	}
	got, gotErr := fast.Call(args)
	ref, refErr := slow.Call(args)
	sameErr("call", gotErr, refErr)
	if refErr != nil {
		return
	}
	if !got.Type().Equals(ref.Type()) || !got.RawEquals(ref) {
		t.Fatalf("%s: got %#v (%#v), cty gives %#v (%#v)", what, got, got.Type(), ref, ref.Type())
	}
}

func TestJSONDecodeMatchesCty(t *testing.T) {
	for _, c := range jsonDecodeCases {
		sameJSONDecode(t, c.name, cty.StringVal(c.src))
		sameJSONDecode(t, c.name+" (sensitive)", cty.StringVal(c.src).Mark("sensitive"))
	}
	for name, arg := range map[string]cty.Value{
		"unknown":          cty.UnknownVal(cty.String),
		"unknown object":   cty.UnknownVal(cty.String).Refine().StringPrefixFull(`{"a`).NewValue(),
		"unknown string":   cty.UnknownVal(cty.String).Refine().StringPrefixFull(`"a`).NewValue(),
		"unknown bad":      cty.UnknownVal(cty.String).Refine().StringPrefixFull(`x`).NewValue(),
		"unknown marked":   cty.UnknownVal(cty.String).Mark("sensitive"),
		"dynamic":          cty.DynamicVal,
		"null":             cty.NullVal(cty.String),
		"number":           cty.NumberIntVal(1),
		"deep mark":        cty.StringVal(`[1]`).Mark("a").Mark("b"),
		"marked dup error": cty.StringVal(`{"a": 1, "a": "x"}`).Mark("sensitive"),
	} {
		sameJSONDecode(t, name, arg)
	}
}

// TestJSONDecodeFastPathTaken guards the point of it all: ordinary
// documents are decoded by the fast path, the doubtful ones by cty.
func TestJSONDecodeFastPathTaken(t *testing.T) {
	for _, c := range jsonDecodeCases {
		if _, ok := decodeJSONFast(c.src); ok != c.fast {
			t.Errorf("%s: fast path %v, want %v", c.name, ok, c.fast)
		}
	}
}

// TestJSONDecodeInFunctions: the function table's jsondecode is the fast
// one, and HCL sees cty's values through it.
func TestJSONDecodeInFunctions(t *testing.T) {
	f := Functions(t.TempDir())["jsondecode"]
	src := letterJSON(1000)
	got, err := f.Call([]cty.Value{cty.StringVal(src)})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := stdlib.JSONDecodeFunc.Call([]cty.Value{cty.StringVal(src)})
	if err != nil || !got.RawEquals(ref) {
		t.Fatalf("jsondecode of 1000 letters differs from cty: %v", err)
	}
}

// letterJSON is a letters.json of n entries, as bench/gen writes it.
func letterJSON(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"c%06d":"letters/c%06d.pdf"`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// BenchmarkJSONDecode decodes a 100,000-letter letters.json with cty's
// jsondecode and with postform's.
func BenchmarkJSONDecode(b *testing.B) {
	args := []cty.Value{cty.StringVal(letterJSON(100000))}
	for _, c := range []struct {
		name string
		call func([]cty.Value) (cty.Value, error)
	}{
		{"cty", stdlib.JSONDecodeFunc.Call},
		{"fast", makeJSONDecodeFunc().Call},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.call(args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzJSONDecode checks postform's jsondecode against cty's on any
// document: same type, value and error.
func FuzzJSONDecode(f *testing.F) {
	for _, c := range jsonDecodeCases {
		if len(c.src) < 200 {
			f.Add(c.src)
		}
	}
	f.Add(letterJSON(3))
	f.Fuzz(func(t *testing.T, src string) {
		sameJSONDecode(t, "document", cty.StringVal(src))
	})
}
