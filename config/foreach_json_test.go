package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/postform/postform/internal/diag"
)

// ctyObjectItems is what the ordinary for_each path makes of jsondecode(src)
// with cty's own jsondecode: the object's members in cty's order. ok is
// false when cty gives anything but a known object.
func ctyObjectItems(src string) (items []forEachItem, ok bool) {
	v, err := stdlib.JSONDecodeFunc.Call([]cty.Value{cty.StringVal(src)})
	if err != nil || !v.IsWhollyKnown() || v.IsNull() || !v.Type().IsObjectType() {
		return nil, false
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		items = append(items, forEachItem{key: k.AsString(), value: e})
	}
	return items, true
}

// sameItems fails t unless the fast path's items are cty's, when the fast
// path takes src at all (it may leave any document to cty).
func sameItems(t *testing.T, src string) {
	t.Helper()
	fast, ok := decodeJSONObjectItems(src)
	if !ok {
		return
	}
	slow, ok := ctyObjectItems(src)
	if !ok {
		t.Fatalf("%q: the fast path took a document cty does not decode to an object", src)
	}
	if len(fast) != len(slow) {
		t.Fatalf("%q: %d items, cty gives %d", src, len(fast), len(slow))
	}
	// One decoder for all, as Load uses it: nothing of one member may
	// reach the next.
	var d memberDecoder
	for i := range fast {
		f, s := fast[i], slow[i]
		if f.raw == "" || f.value != cty.NilVal {
			t.Fatalf("%q: item %d made its value at once", src, i)
		}
		v, ok := d.value(f)
		if !ok {
			t.Fatalf("%q: item %d (%q) was taken, but its JSON %q does not decode", src, i, f.key, f.raw)
		}
		if f.key != s.key || !v.Type().Equals(s.value.Type()) || !v.RawEquals(s.value) {
			t.Fatalf("%q: item %d is %q = %#v, cty gives %q = %#v", src, i, f.key, v, s.key, s.value)
		}
		sameAttrs(t, &d, f.raw, s.value)
	}
}

// sameAttrs fails t unless reading each attribute of want from its JSON
// text raw (memberDecoder.attr) gives what traverse reads from want, for
// every attribute want has and a few it lacks: each.value.file read
// without the object must be the object's.
func sameAttrs(t *testing.T, d *memberDecoder, raw string, want cty.Value) {
	t.Helper()
	names := []string{"file", "check", "", "missing", "é", "check", "file", "file"}
	if want.Type().IsObjectType() {
		// Every order attr meets: forwards, backwards, each twice, as a
		// letter reads its attributes (attr resumes after the last found).
		attrs := slices.Sorted(maps.Keys(want.Type().AttributeTypes()))
		names = append(names, attrs...)
		for _, n := range slices.Backward(attrs) {
			names = append(names, n, n)
		}
		names = append(names, "missing")
		names = append(names, attrs...)
	}
	for _, n := range names {
		v, found, ok := d.attr(raw, n)
		if !ok {
			t.Fatalf("%q: attribute %q does not decode", raw, n)
		}
		has := want.Type().IsObjectType() && want.Type().HasAttribute(n)
		if found != has {
			t.Fatalf("%q: attribute %q found %v, the object has it: %v", raw, n, found, has)
		}
		if !has {
			continue
		}
		if w := want.GetAttr(n); !v.Type().Equals(w.Type()) || !v.RawEquals(w) {
			t.Fatalf("%q: attribute %q is %#v, the object's is %#v", raw, n, v, w)
		}
	}
}

func TestJSONObjectItemsMatchCty(t *testing.T) {
	taken := 0
	for _, c := range jsonDecodeCases {
		sameItems(t, c.src)
		if _, ok := decodeJSONObjectItems(c.src); ok {
			taken++
			// Exactly the objects decodeJSONFast takes.
			if v, fast := decodeJSONFast(c.src); !fast || !v.Type().IsObjectType() {
				t.Errorf("%s: items taken, but decodeJSONFast gives %#v, %v", c.name, v, fast)
			}
		} else if v, fast := decodeJSONFast(c.src); fast && v.Type().IsObjectType() {
			t.Errorf("%s: decodeJSONFast takes this object, the items path does not", c.name)
		}
	}
	for _, n := range []int{1, 2, 100, 1000} {
		src := letterJSON(n)
		sameItems(t, src)
		items, ok := decodeJSONObjectItems(src)
		if !ok || len(items) != n {
			t.Fatalf("letterJSON(%d): %d items, %v", n, len(items), ok)
		}
	}
	if taken < 5 {
		t.Fatalf("the fast path took only %d of the cases: the comparison shows nothing", taken)
	}
}

// FuzzJSONObjectItems compares the for_each fast path with cty's
// jsondecode and object iteration on any document.
func FuzzJSONObjectItems(f *testing.F) {
	for _, c := range jsonDecodeCases {
		if len(c.src) < 200 {
			f.Add(c.src)
		}
	}
	f.Add(letterJSON(3))
	f.Add(`{"b": {"file": "b.pdf", "check": true}, "a": {"file": "a.pdf", "check": false}, "é": null}`)
	f.Add(`{"a": {"\u0066ile": "x", "fil\"e": 1, "é": {"file": [true]}}, "b": "file", "c": {}}`)
	f.Fuzz(func(t *testing.T, src string) { sameItems(t, src) })
}

// TestForEachJSONMatchesTheObject checks the for_each = jsondecode(...)
// fast path (jsondecodeItems) through Load against the ordinary one: in
// parentheses, the call is not at the top and takes the ordinary path. Both
// must give the same letters in the same order, with the same job names
// (each.key and each.value in them), and the same diagnostics when the
// document is not one the fast path takes.
func TestForEachJSONMatchesTheObject(t *testing.T) {
	args := []string{
		`local.letters`,
		`file("letters.json")`,
		`var.letters`,
		`var.secret`,
		`"{\"b\": 1, \"a\": [1, \"x\"], \"c\": {\"d\": null}}"`,
		`"{}"`,
		`"{\"a\": 1, \"a\": 2}"`,
		`"{\"a\": 1, \"a\": \"x\"}"`,
		`"{\"cafe\u0301\": 1}"`,
		`"[\"a\", \"b\"]"`,
		`"\"a\""`,
		`"null"`,
		`"{\"a\": 1} x"`,
		`"{\"a\": 1}]"`,
		`"{\"a\": }"`,
		`""`,
		`null`,
		`42`,
		`local.missing`,
		`file("missing.json")`,
		`1 + "x"`,
	}
	for _, arg := range args {
		t.Run(arg, func(t *testing.T) {
			load := func(forEach string) ([]string, []string) {
				dir := t.TempDir()
				writeFiles(t, dir, map[string]string{
					"main.mail.hcl": `locals {
  letters = "{\"z\": {\"file\": \"a.pdf\"}, \"y\": {\"file\": \"a.pdf\", \"n\": 1.5}}"
}
variable "letters" {
  type    = string
  default = "{\"v2\": true, \"v1\": false}"
}
variable "secret" {
  type      = string
  default   = "{\"s1\": \"x\"}"
  sensitive = true
}
` + simple("for_each = "+forEach+"\njob_name = \"j-${each.key}-${jsonencode(each.value)}\""+doc),
					"a.pdf":        string(a4()),
					"letters.json": letterJSON(5),
				})
				cfg, diags := Load(dir, LoadOptions{})
				var got []string
				for _, m := range cfg.Mailings {
					got = append(got, m.Address+" "+m.JobName)
				}
				var ds []string
				for _, d := range diags {
					ds = append(ds, fmt.Sprintf("%v %s %s: %s", d.Subject, diag.Code(d), d.Summary, d.Detail))
				}
				return got, ds
			}
			fast, fastDiags := load("jsondecode(" + arg + ")")
			slow, slowDiags := load("(jsondecode(" + arg + "))")
			if !slices.Equal(fast, slow) {
				t.Errorf("letters differ:\n  jsondecode:   %v\n  (jsondecode): %v", fast, slow)
			}
			// The parentheses move the ranges of the for_each expression by
			// one column; everything else must be the same.
			for i := range slowDiags {
				slowDiags[i] = strings.ReplaceAll(slowDiags[i], "(jsondecode(", "jsondecode(")
			}
			if !sameDiagText(fastDiags, slowDiags) {
				t.Errorf("diagnostics differ:\n  jsondecode:   %s\n  (jsondecode): %s", strings.Join(fastDiags, "\n    "), strings.Join(slowDiags, "\n    "))
			}
		})
	}
}

// sameDiagText compares diagnostics by code, summary and detail, and by
// line of their subject (parentheses shift columns).
func sameDiagText(a, b []string) bool {
	strip := func(ds []string) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			subject, rest, _ := strings.Cut(d, " ")
			line, _, _ := strings.Cut(subject, ",")
			out[i] = line + " " + rest
		}
		return out
	}
	return slices.Equal(strip(a), strip(b))
}
