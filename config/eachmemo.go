package config

import (
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// An expression that refers to each is evaluated per instance, but its
// value depends only on the values it reads from each (var, local and path
// are the same for every instance, and postform's functions are pure), and
// in a mail merge many letters read the same values: preflight = { address
// = each.value.check } is one of two objects for 100,000 letters. eachMemo
// keeps such values by what the expression read, when everything it reads
// from each is a string or a bool.
type eachMemo struct {
	refs []eachRef
	vals map[string]*memoEntry
	hits int
	off  bool // the expression reads something else, or rarely repeats
}

// memoEntry is one value of a memoised expression, and what a caller made
// of it without diagnostics (preflightAttr's check): a function of the
// value alone, kept beside it.
type memoEntry struct {
	v       cty.Value
	derived any
}

// eachRef is one each.key... or each.value... traversal: the root and the
// steps after it.
type eachRef struct {
	key   bool
	steps hcl.Traversal
}

// maxEachMemo bounds the values kept for one expression: past it, an
// expression whose values mostly differ (a job name with each.key) stops
// being memoised.
const maxEachMemo = 64

// newEachMemo makes the memo of expr, off when expr reads from each other
// than by each.key or each.value traversals.
func newEachMemo(expr hcl.Expression) *eachMemo {
	m := &eachMemo{}
	for _, t := range expr.Variables() {
		if t.RootName() != "each" {
			continue
		}
		if len(t) < 2 {
			return &eachMemo{off: true}
		}
		step, isAttr := t[1].(hcl.TraverseAttr)
		if !isAttr || (step.Name != "key" && step.Name != "value") {
			return &eachMemo{off: true}
		}
		m.refs = append(m.refs, eachRef{key: step.Name == "key", steps: t[2:]})
	}
	if len(m.refs) == 0 {
		m.off = true
	}
	return m
}

// key is what expr reads from s.each, as a map key; false when some of it
// is not a known, unmarked, non-null string or bool.
func (m *eachMemo) key(s *scope) (string, bool) {
	var b strings.Builder
	for _, r := range m.refs {
		v, ok := s.eachAt(r.key, r.steps)
		if !ok {
			return "", false
		}
		if v.IsMarked() || !v.IsKnown() || v.IsNull() {
			return "", false
		}
		switch v.Type() {
		case cty.String:
			str := v.AsString()
			if b.Cap() == 0 {
				// One allocation for the key; none for a lone bool.
				b.Grow(len(str) + 8)
			}
			b.WriteByte('s')
			b.WriteString(strconv.Itoa(len(str)))
			b.WriteByte(':')
			b.WriteString(str)
		case cty.Bool:
			c := "f"
			if isTrue(v) {
				c = "t"
			}
			if len(m.refs) == 1 {
				return c, true
			}
			b.WriteString(c)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// evalEach is s.eval of an expression that refers to each, through its
// memo. A value with diagnostics is not kept: each instance evaluates it
// again, so its messages name it. The entry, when not nil, is the memo's
// for the value returned.
func (l *loader) evalEach(expr hcl.Expression, s *scope, ty cty.Type, what func() string) (cty.Value, hcl.Diagnostics, *memoEntry) {
	slow := func() (cty.Value, hcl.Diagnostics, *memoEntry) {
		v, diags := s.evalWhat(expr, l.funcs, ty, what)
		return v, diags, nil
	}
	if l.noEachFast {
		return slow()
	}
	if diags := s.checkRefs(expr); diags.HasErrors() {
		return slow() // which reports them
	}
	if v, ok := s.evalDirect(expr, ty); ok {
		l.eachFast++
		return v, nil, nil
	}
	// The memo is looked up only now: a job name or a file that
	// evalDirect gives needs none, and the lookup, by expression and
	// type, was a map access of two interfaces per letter.
	w := l.work()
	k := sharedKey{expr, ty}
	m := w.memos[k]
	if m == nil {
		m = newEachMemo(expr)
		w.memos[k] = m
	}
	if m.off {
		return slow()
	}
	key, ok := m.key(s)
	if !ok {
		return slow()
	}
	if e, ok := m.vals[key]; ok {
		m.hits++
		l.eachFast++
		return e.v, nil, e
	}
	v, diags := s.evalWhat(expr, l.funcs, ty, what)
	if len(diags) > 0 {
		return v, diags, nil
	}
	if len(m.vals) >= maxEachMemo && m.hits < len(m.vals) {
		m.off, m.vals = true, nil
		return v, diags, nil
	}
	if len(m.vals) >= 4*maxEachMemo {
		return v, diags, nil
	}
	if m.vals == nil {
		m.vals = map[string]*memoEntry{}
	}
	e := &memoEntry{v: v}
	m.vals[key] = e
	return v, diags, e
}

// evalDirect evaluates the shapes most per-letter arguments of a mail merge
// have, each.value.file and "bench-${each.key}", straight from s.each: no
// HCL evaluation context, whose each object is otherwise built for every
// letter. It gives the value HCL gives when every part is a known string
// read from each or written literally, or false, and the expression is
// evaluated as written. The caller has checked the references.
func (s *scope) evalDirect(expr hcl.Expression, ty cty.Type) (cty.Value, bool) {
	if ty != cty.String && ty != cty.DynamicPseudoType {
		return cty.NilVal, false
	}
	switch e := expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return s.eachString(e.Traversal)
	case *hclsyntax.TemplateWrapExpr:
		// "${each.key}" is the value of its expression, not converted.
		if t, ok := e.Wrapped.(*hclsyntax.ScopeTraversalExpr); ok {
			return s.eachString(t.Traversal)
		}
	case *hclsyntax.TemplateExpr:
		// The parts are joined once they are all known: the string is
		// then one allocation of its length (a Builder grew, part by
		// part).
		var buf [8]string
		parts := buf[:0]
		for _, part := range e.Parts {
			switch p := part.(type) {
			case *hclsyntax.LiteralValueExpr:
				if p.Val.IsMarked() || !p.Val.IsKnown() || p.Val.IsNull() || p.Val.Type() != cty.String {
					return cty.NilVal, false
				}
				parts = append(parts, p.Val.AsString())
			case *hclsyntax.ScopeTraversalExpr:
				if isEachKey(p.Traversal) {
					// A for_each key is a known string: no value
					// need be made of it.
					parts = append(parts, s.each.key)
					continue
				}
				v, ok := s.eachString(p.Traversal)
				if !ok {
					return cty.NilVal, false
				}
				parts = append(parts, v.AsString())
			default:
				return cty.NilVal, false
			}
		}
		return cty.StringVal(strings.Join(parts, "")), true
	}
	return cty.NilVal, false
}

// isEachKey reports whether t is each.key itself.
func isEachKey(t hcl.Traversal) bool {
	if len(t) != 2 || t.RootName() != "each" {
		return false
	}
	step, ok := t[1].(hcl.TraverseAttr)
	return ok && step.Name == "key"
}

// eachString is the value of an each.key... or each.value... traversal
// when it is a known, unmarked, non-null string.
func (s *scope) eachString(t hcl.Traversal) (cty.Value, bool) {
	if len(t) < 2 || t.RootName() != "each" {
		return cty.NilVal, false
	}
	step, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return cty.NilVal, false
	}
	if step.Name != "key" && step.Name != "value" {
		return cty.NilVal, false
	}
	v, ok := s.eachAt(step.Name == "key", t[2:])
	if !ok {
		return cty.NilVal, false
	}
	if v.IsMarked() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return cty.NilVal, false
	}
	return v, true
}

// eachAt is steps read from each.key (key) or each.value, false on any
// diagnostic.
func (s *scope) eachAt(key bool, steps hcl.Traversal) (cty.Value, bool) {
	if key {
		return traverse(s.each.keyValue(), steps)
	}
	return s.each.valueAt(steps)
}

// traverse is steps.TraverseRel(v), false on any diagnostic. An attribute
// of a known, unmarked object that has it is read directly, as hcl.GetAttr
// reads it, without the allocations of the general walk.
func traverse(v cty.Value, steps hcl.Traversal) (cty.Value, bool) {
	for i, step := range steps {
		a, ok := step.(hcl.TraverseAttr)
		if !ok || v.IsMarked() || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute(a.Name) {
			v, diags := steps[i:].TraverseRel(v)
			return v, !diags.HasErrors()
		}
		v = v.GetAttr(a.Name)
	}
	return v, true
}

// isTrue is v.RawEquals(cty.True), without RawEquals' walk of marks and
// types (a fifth of a letter's preflight): cty.True is a type and a Go bool,
// both comparable, so == is false for any other value (another type, a
// mark, an unknown) and never panics. TestIsTrueIsRawEquals compares the
// two on values made every way.
func isTrue(v cty.Value) bool { return v == cty.True }
