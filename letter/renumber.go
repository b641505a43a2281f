package letter

import (
	"errors"
	"sort"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// renumber gives ctx's objects numbers in a canonical order: the order in
// which a walk from the catalog, then the Info dictionary, first reaches
// them, dictionary keys taken in sorted order. pdfcpu's merge numbers the
// appended objects in Go map order, different on every run. Objects the
// walk does not reach are dropped; a reference to a missing object becomes
// one past the table's end, which a reader takes for null.
func renumber(ctx *model.Context) error {
	if ctx.Root == nil {
		return errors.New("no catalog")
	}
	newNr := map[int]int{}
	var order []int
	var visit func(o types.Object)
	visitRef := func(r types.IndirectRef) {
		n := r.ObjectNumber.Value()
		if _, ok := newNr[n]; ok {
			return
		}
		e, ok := ctx.Table[n]
		if !ok || e == nil || e.Free || e.Object == nil {
			return
		}
		order = append(order, n)
		newNr[n] = len(order)
		visit(e.Object)
	}
	visit = func(o types.Object) {
		switch t := o.(type) {
		case types.IndirectRef:
			visitRef(t)
		case *types.IndirectRef:
			visitRef(*t)
		case types.Dict:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				visit(t[k])
			}
		case types.StreamDict:
			visit(t.Dict)
		case *types.StreamDict:
			visit(t.Dict)
		case types.Array:
			for _, x := range t {
				visit(x)
			}
		}
	}
	visitRef(*ctx.Root)
	if ctx.Info != nil {
		visitRef(*ctx.Info)
	}
	beyond := len(order) + 1
	ref := func(r types.IndirectRef) types.IndirectRef {
		n, ok := newNr[r.ObjectNumber.Value()]
		if !ok {
			n = beyond
		}
		return *types.NewIndirectRef(n, 0)
	}
	var patch func(o types.Object) types.Object
	patch = func(o types.Object) types.Object {
		switch t := o.(type) {
		case types.IndirectRef:
			return ref(t)
		case *types.IndirectRef:
			r := ref(*t)
			return &r
		case types.Dict:
			for k, v := range t {
				t[k] = patch(v)
			}
		case types.StreamDict:
			patch(t.Dict)
		case *types.StreamDict:
			patch(t.Dict)
		case types.Array:
			for i, v := range t {
				t[i] = patch(v)
			}
		}
		return o
	}
	table := map[int]*model.XRefTableEntry{0: model.NewFreeHeadXRefTableEntry()}
	for i, old := range order {
		e := ctx.Table[old]
		e.Object = patch(e.Object)
		zero := 0
		e.Generation = &zero
		table[i+1] = e
	}
	ctx.Table = table
	size := len(order) + 1
	ctx.Size = &size
	root := ref(*ctx.Root)
	ctx.Root = &root
	if ctx.Info != nil {
		info := ref(*ctx.Info)
		ctx.Info = &info
	}
	return nil
}
