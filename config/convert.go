package config

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// go-cty (v1.20.0) unifies the element types of a tuple or object it
// converts to list(any), set(any) or map(any) by comparing every pair of
// them (convert.unify → sortTypes), even when they are all the same type:
// toset([...100,000 strings...]) takes minutes. When every element type is
// equal, unification can only give that type, so the fast path below builds
// the result without it; anything else goes to cty unchanged. The upstream
// fix is docs/go-cty-unify-fast-path.patch.

// uniformElementType returns T when in is a non-empty tuple (or object)
// whose element (attribute) types are all T, and T holds no dynamic type:
// the only element type cty's unification can choose for it.
func uniformElementType(in cty.Type) (cty.Type, bool) {
	var first cty.Type
	n := 0
	same := func(t cty.Type) bool {
		n++
		if n == 1 {
			first = t
			return !t.HasDynamicTypes()
		}
		return t.Equals(first)
	}
	switch {
	case in.IsTupleType():
		for _, t := range in.TupleElementTypes() {
			if !same(t) {
				return cty.NilType, false
			}
		}
	case in.IsObjectType():
		for _, t := range in.AttributeTypes() {
			if !same(t) {
				return cty.NilType, false
			}
		}
	default:
		return cty.NilType, false
	}
	return first, n > 0
}

// fastConvertible tells whether fastConvert handles a value of type in
// converted to want: list(any) or set(any) from a tuple, map(any) from an
// object, all of whose elements have one type.
func fastConvertible(in, want cty.Type) (cty.Type, bool) {
	switch {
	case want.Equals(cty.List(cty.DynamicPseudoType)), want.Equals(cty.Set(cty.DynamicPseudoType)):
		if !in.IsTupleType() {
			return cty.NilType, false
		}
	case want.Equals(cty.Map(cty.DynamicPseudoType)):
		if !in.IsObjectType() {
			return cty.NilType, false
		}
	default:
		return cty.NilType, false
	}
	return uniformElementType(in)
}

// fastConvert converts v to want as convert.Convert does, without the
// pairwise unification; ok is false when it cannot, and the caller must
// then use convert.Convert. Each branch repeats exactly what cty does
// once unification has chosen the element type T.
func fastConvert(v cty.Value, want cty.Type) (cty.Value, bool, error) {
	ety, ok := fastConvertible(v.Type(), want)
	if !ok || v.IsMarked() || !v.IsKnown() || v.IsNull() {
		return cty.NilVal, false, nil
	}
	switch {
	case want.IsSetType():
		// Tuple to set(T) needs no unification in cty when T is given;
		// it still normalises null elements, so let cty do it.
		out, err := convert.Convert(v, cty.Set(ety))
		return out, true, err
	case want.IsListType():
		// cty converts no element (all are T already), then unifies the
		// elements' types again (all T), then builds the list.
		return cty.ListVal(v.AsValueSlice()), true, nil
	default:
		// Likewise for an object of T to a map.
		return cty.MapVal(v.AsValueMap()), true, nil
	}
}

// convertValue is convert.Convert with the fast path.
func convertValue(v cty.Value, want cty.Type) (cty.Value, error) {
	if out, ok, err := fastConvert(v, want); ok {
		return out, err
	}
	return convert.Convert(v, want)
}

// makeToFunc is stdlib.MakeToFunc(wantTy) (tolist, toset, tomap...) with
// the fast path; every other argument goes to the stdlib function, so its
// results and error messages are cty's.
func makeToFunc(wantTy cty.Type) function.Function {
	slow := stdlib.MakeToFunc(wantTy)
	return function.New(&function.Spec{
		Description: slow.Description(),
		Params:      slow.Params(),
		Type: func(args []cty.Value) (cty.Type, error) {
			// A uniform tuple or object always converts, so cty's type
			// check would answer wantTy too.
			if _, ok := fastConvertible(args[0].Type(), wantTy); ok {
				return wantTy, nil
			}
			return slow.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			if out, ok, err := fastConvert(args[0], wantTy); ok && err == nil {
				return out, nil
			}
			return slow.Call(args)
		},
	})
}
