package config

import (
	"fmt"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

var convertTargets = []cty.Type{
	cty.List(cty.DynamicPseudoType),
	cty.Set(cty.DynamicPseudoType),
	cty.Map(cty.DynamicPseudoType),
}

func convertCases() map[string]cty.Value {
	obj := func(name string, n int) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(name),
			"n":    cty.NumberIntVal(int64(n)),
			"tags": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal(name)}),
			"addr": cty.ObjectVal(map[string]cty.Value{"city": cty.StringVal("Lyon")}),
		})
	}
	s := cty.StringVal
	return map[string]cty.Value{
		"strings":            cty.TupleVal([]cty.Value{s("a"), s("b"), s("c")}),
		"duplicate strings":  cty.TupleVal([]cty.Value{s("a"), s("b"), s("a")}),
		"one string":         cty.TupleVal([]cty.Value{s("a")}),
		"numbers":            cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)}),
		"bools":              cty.TupleVal([]cty.Value{cty.True, cty.False, cty.True}),
		"null element":       cty.TupleVal([]cty.Value{s("a"), cty.NullVal(cty.String)}),
		"only nulls":         cty.TupleVal([]cty.Value{cty.NullVal(cty.String), cty.NullVal(cty.String)}),
		"unknown element":    cty.TupleVal([]cty.Value{s("a"), cty.UnknownVal(cty.String)}),
		"refined unknown":    cty.TupleVal([]cty.Value{s("a"), cty.UnknownVal(cty.String).RefineNotNull()}),
		"dynamic unknown":    cty.TupleVal([]cty.Value{s("a"), cty.DynamicVal}),
		"only dynamic":       cty.TupleVal([]cty.Value{cty.DynamicVal, cty.DynamicVal}),
		"dynamic null":       cty.TupleVal([]cty.Value{cty.NullVal(cty.DynamicPseudoType)}),
		"mixed string num":   cty.TupleVal([]cty.Value{s("a"), cty.NumberIntVal(1)}),
		"mixed num string":   cty.TupleVal([]cty.Value{cty.NumberIntVal(1), s("a")}),
		"mixed bool string":  cty.TupleVal([]cty.Value{cty.True, s("x")}),
		"mixed incompatible": cty.TupleVal([]cty.Value{s("a"), cty.ListValEmpty(cty.String)}),
		"marked element":     cty.TupleVal([]cty.Value{s("a"), s("secret").Mark("sensitive")}),
		"marked null":        cty.TupleVal([]cty.Value{s("a"), cty.NullVal(cty.String).Mark("sensitive")}),
		"marked whole":       cty.TupleVal([]cty.Value{s("a"), s("b")}).Mark("sensitive"),
		"empty tuple":        cty.EmptyTupleVal,
		"null tuple":         cty.NullVal(cty.Tuple([]cty.Type{cty.String})),
		"unknown tuple":      cty.UnknownVal(cty.Tuple([]cty.Type{cty.String, cty.String})),
		"nested objects":     cty.TupleVal([]cty.Value{obj("a", 1), obj("b", 2)}),
		"objects differing": cty.TupleVal([]cty.Value{obj("a", 1), cty.ObjectVal(map[string]cty.Value{
			"name": s("b"), "n": cty.NumberIntVal(2), "tags": cty.ListValEmpty(cty.String),
			"addr": cty.ObjectVal(map[string]cty.Value{"city": cty.NumberIntVal(3)}),
		})}),
		"objects other attrs": cty.TupleVal([]cty.Value{obj("a", 1), cty.ObjectVal(map[string]cty.Value{"x": s("y")})}),
		"lists":               cty.TupleVal([]cty.Value{cty.ListVal([]cty.Value{s("a")}), cty.ListVal([]cty.Value{s("b"), s("c")})}),
		"empty lists":         cty.TupleVal([]cty.Value{cty.ListValEmpty(cty.String), cty.ListValEmpty(cty.String)}),
		"lists and tuple":     cty.TupleVal([]cty.Value{cty.ListVal([]cty.Value{s("a")}), cty.TupleVal([]cty.Value{s("b")})}),
		"tuples":              cty.TupleVal([]cty.Value{cty.TupleVal([]cty.Value{s("a"), cty.True}), cty.TupleVal([]cty.Value{s("b"), cty.False})}),
		"list input":          cty.ListVal([]cty.Value{s("a"), s("b")}),
		"set input":           cty.SetVal([]cty.Value{s("a"), s("b")}),
		"string input":        s("a"),
		"null string":         cty.NullVal(cty.String),
		"object strings":      cty.ObjectVal(map[string]cty.Value{"a": s("x"), "b": s("y")}),
		"object null attr":    cty.ObjectVal(map[string]cty.Value{"a": s("x"), "b": cty.NullVal(cty.String)}),
		"object unknown attr": cty.ObjectVal(map[string]cty.Value{"a": s("x"), "b": cty.UnknownVal(cty.String)}),
		"object mixed":        cty.ObjectVal(map[string]cty.Value{"a": s("x"), "b": cty.NumberIntVal(1)}),
		"object of objects":   cty.ObjectVal(map[string]cty.Value{"a": obj("a", 1), "b": obj("b", 2)}),
		"object of lists":     cty.ObjectVal(map[string]cty.Value{"a": cty.ListVal([]cty.Value{s("a")}), "b": cty.ListValEmpty(cty.String)}),
		"object marked attr":  cty.ObjectVal(map[string]cty.Value{"a": s("x"), "b": s("y").Mark("sensitive")}),
		"empty object":        cty.EmptyObjectVal,
		"map input":           cty.MapVal(map[string]cty.Value{"a": s("x")}),
	}
}

// sameConversion fails t unless the two results are identical: type,
// value, marks, and error text.
func sameConversion(t *testing.T, what string, got, want cty.Value, gotErr, wantErr error) {
	t.Helper()
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%s: error %v, cty gives %v", what, gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	if !got.RawEquals(want) {
		t.Fatalf("%s: got %#v (%s), cty gives %#v (%s)", what, got, got.Type().GoString(), want, want.Type().GoString())
	}
}

func TestConvertValueMatchesCty(t *testing.T) {
	for name, v := range convertCases() {
		for _, want := range convertTargets {
			got, gotErr := convertValue(v, want)
			ref, refErr := convert.Convert(v, want)
			sameConversion(t, fmt.Sprintf("%s to %s", name, want.FriendlyNameForConstraint()), got, ref, gotErr, refErr)
		}
	}
}

func TestToFunctionsMatchCty(t *testing.T) {
	for name, v := range convertCases() {
		for _, want := range convertTargets {
			what := fmt.Sprintf("%s to %s", name, want.FriendlyNameForConstraint())
			fast, slow := makeToFunc(want), stdlib.MakeToFunc(want)
			gotTy, gotErr := fast.ReturnTypeForValues([]cty.Value{v})
			refTy, refErr := slow.ReturnTypeForValues([]cty.Value{v})
			if (gotErr == nil) != (refErr == nil) || !gotTy.Equals(refTy) {
				t.Fatalf("%s: type %#v, %v; cty gives %#v, %v", what, gotTy, gotErr, refTy, refErr)
			}
			got, gotErr := fast.Call([]cty.Value{v})
			ref, refErr := slow.Call([]cty.Value{v})
			sameConversion(t, what, got, ref, gotErr, refErr)
		}
	}
}

// TestFastPathTaken guards the point of it all: the uniform cases above
// must not reach cty's pairwise unification.
func TestFastPathTaken(t *testing.T) {
	for _, c := range []struct {
		name string
		want cty.Type
		fast bool
	}{
		{"strings", cty.Set(cty.DynamicPseudoType), true},
		{"strings", cty.List(cty.DynamicPseudoType), true},
		{"nested objects", cty.Set(cty.DynamicPseudoType), true},
		{"object of objects", cty.Map(cty.DynamicPseudoType), true},
		{"null element", cty.Set(cty.DynamicPseudoType), true},
		{"mixed string num", cty.Set(cty.DynamicPseudoType), false},
		{"dynamic unknown", cty.List(cty.DynamicPseudoType), false},
		{"empty tuple", cty.List(cty.DynamicPseudoType), false},
		{"strings", cty.Map(cty.DynamicPseudoType), false},
	} {
		_, ok, _ := fastConvert(convertCases()[c.name], c.want)
		if ok != c.fast {
			t.Errorf("%s to %s: fast path %v, want %v", c.name, c.want.FriendlyNameForConstraint(), ok, c.fast)
		}
	}
}

// TestToSetLinear: cty's pairwise unification needs tens of seconds for
// toset over 50,000 strings; the fast path, milliseconds.
func TestToSetLinear(t *testing.T) {
	elems := make([]cty.Value, 50000)
	for i := range elems {
		elems[i] = cty.StringVal(fmt.Sprintf("key-%d", i))
	}
	tuple := cty.TupleVal(elems)
	start := time.Now()
	for _, name := range []string{"toset", "tolist"} {
		out, err := Functions(t.TempDir())[name].Call([]cty.Value{tuple})
		if err != nil || out.LengthInt() != len(elems) {
			t.Fatalf("%s: %v, %d elements", name, err, out.LengthInt())
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("toset and tolist over %d strings took %s; the conversion is quadratic again", len(elems), d)
	}
}

// FuzzConvertValue builds tuples and objects of a few element kinds from
// the input bytes and checks the fast path against cty.
func FuzzConvertValue(f *testing.F) {
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{4, 4, 5})
	f.Add([]byte{6, 6, 7, 7})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64 {
			b = b[:64]
		}
		elem := func(i int, c byte) cty.Value {
			s := cty.StringVal(fmt.Sprint(i % 3))
			switch c % 10 {
			case 0:
				return s
			case 1:
				return cty.NumberIntVal(int64(i % 2))
			case 2:
				return cty.NullVal(cty.String)
			case 3:
				return cty.UnknownVal(cty.String)
			case 4:
				return cty.ObjectVal(map[string]cty.Value{"a": s})
			case 5:
				return cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1)})
			case 6:
				return cty.ListVal([]cty.Value{s})
			case 7:
				return cty.ListValEmpty(cty.String)
			case 8:
				return s.Mark("sensitive")
			default:
				return cty.DynamicVal
			}
		}
		elems := make([]cty.Value, len(b))
		attrs := make(map[string]cty.Value, len(b))
		for i, c := range b {
			elems[i] = elem(i, c)
			attrs[fmt.Sprint("k", i)] = elems[i]
		}
		for _, v := range []cty.Value{cty.TupleVal(elems), cty.ObjectVal(attrs)} {
			for _, want := range convertTargets {
				got, gotErr := convertValue(v, want)
				ref, refErr := convert.Convert(v, want)
				sameConversion(t, fmt.Sprintf("%#v to %s", v, want.FriendlyNameForConstraint()), got, ref, gotErr, refErr)
			}
		}
	})
}
