package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/postform/postform/internal/diag"
)

// scope is what an expression may refer to.
type scope struct {
	vars     map[string]cty.Value
	locals   map[string]cty.Value
	dir      string
	each     *eachValues     // nil outside a for_each mailing
	mailings map[string]bool // non-nil only in outputs: the mailing names
	mailing  cty.Value       // the mailing object, in EvalOutputs
	where    string          // "a local value", "a mailing", … for messages
	// base, when set, is the shared var/local/path context of the final
	// top-level scope, built once per Load instead of once per expression.
	base *hcl.EvalContext
	// child is base with each, built at the first expression of an
	// instance and used by all its others.
	child *hcl.EvalContext
	// refsOK, shared by the instances of one for_each, holds the
	// expressions whose references checkRefs found sound: every instance
	// has the same var, local, path and each names, so the answer is the
	// same for all, and a mail merge of 10,000 letters walks each
	// expression once instead of 10,000 times.
	refsOK map[hcl.Expression]bool
}

// eachValues is each in one instance. Its value, when the item came as
// JSON text (decodeJSONObjectItems), is made only when an expression needs
// it whole: each.value.file is read from the text (valueAt).
type eachValues struct {
	key    string
	keyVal cty.Value // made from key by keyValue
	keyOK  bool
	value  cty.Value // made from raw by val
	raw    string
	dec    *memberDecoder
	made   bool
	// broken is set when raw did not decode after it was checked: a bug,
	// which evalMailings reports.
	broken bool
}

// newEach is each of item it, its value made from its text by dec.
func newEach(it forEachItem, dec *memberDecoder) eachValues {
	// Normalised as cty.StringVal normalises it, so that key is each.key's
	// string (the keys of every for_each are NFC already: this is a check).
	return eachValues{key: cty.NormalizeString(it.key), value: it.value, raw: it.raw, dec: dec, made: it.raw == ""}
}

// keyValue is each.key; "bench-${each.key}" reads the string alone.
func (e *eachValues) keyValue() cty.Value {
	if !e.keyOK {
		e.keyVal, e.keyOK = cty.StringVal(e.key), true
	}
	return e.keyVal
}

// val is each.value.
func (e *eachValues) val() cty.Value {
	if !e.made {
		e.made = true
		v, ok := e.dec.value(forEachItem{raw: e.raw})
		if !ok {
			e.broken, v = true, cty.DynamicVal
		}
		e.value = v
	}
	return e.value
}

// valueAt is traverse(each.value, steps). An attribute of a value still
// in its JSON text is decoded alone, exactly as traverse reads it from the
// object: an object holding that attribute gives it, and the rest is
// traversed from there; anything else makes the value whole.
func (e *eachValues) valueAt(steps hcl.Traversal) (cty.Value, bool) {
	if !e.made && len(steps) > 0 {
		if a, ok := steps[0].(hcl.TraverseAttr); ok {
			v, found, ok := e.dec.attr(e.raw, a.Name)
			if !ok {
				e.broken = true
				return cty.NilVal, false
			}
			if found {
				return traverse(v, steps[1:])
			}
		}
	}
	return traverse(e.val(), steps)
}

// evalContext builds the HCL evaluation context for s.
func (s *scope) evalContext(fns funcsTable) *hcl.EvalContext {
	if s.base != nil && s.mailings == nil {
		if s.each == nil {
			return s.base
		}
		if s.child == nil {
			s.child = s.base.NewChild()
			s.child.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": s.each.keyValue(), "value": s.each.val()})}
		}
		return s.child
	}
	return s.fullContext(fns)
}

// fullContext builds the whole context of s from its maps.
func (s *scope) fullContext(fns funcsTable) *hcl.EvalContext {
	vars := map[string]cty.Value{
		"var":   objectOf(s.vars),
		"local": objectOf(s.locals),
		"path":  cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(s.dir), "root": cty.StringVal(s.dir)}),
	}
	if s.mailings != nil {
		vars["mailing"] = s.mailing
	}
	if s.each != nil {
		vars["each"] = cty.ObjectVal(map[string]cty.Value{"key": s.each.keyValue(), "value": s.each.val()})
	}
	return &hcl.EvalContext{Variables: vars, Functions: fns}
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// checkRefs reports every reference in expr to something s does not hold,
// with a message that says what is available instead. Evaluation of an
// expression with bad references is skipped, so the user sees one clear
// error rather than HCL's generic one.
func (s *scope) checkRefs(expr hcl.Expression) hcl.Diagnostics {
	if s.refsOK != nil && s.refsOK[expr] {
		return nil
	}
	diags := s.badRefs(expr)
	if s.refsOK != nil && len(diags) == 0 && len(s.refsOK) < maxRefsOK {
		s.refsOK[expr] = true
	}
	return diags
}

// maxRefsOK bounds refsOK: a mailing block has a few dozen expressions.
const maxRefsOK = 1 << 12

func (s *scope) badRefs(expr hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range expr.Variables() {
		rng := t.SourceRange()
		root := t.RootName()
		attr, hasAttr := traversalAttr(t)
		switch root {
		case "var":
			if hasAttr {
				if _, ok := s.vars[attr]; !ok {
					diags = append(diags, errorf(diag.CodeBadReference, &rng, "Reference to undeclared input variable",
						fmt.Sprintf("An input variable with the name %q has not been declared.%s Declare it with a variable %q {} block.", attr, suggest(attr, keysOf(s.vars)), attr)))
				}
			}
		case "local":
			if hasAttr {
				if _, ok := s.locals[attr]; !ok {
					diags = append(diags, errorf(diag.CodeBadReference, &rng, "Reference to undeclared local value",
						fmt.Sprintf("A local value with the name %q has not been declared.%s", attr, suggest(attr, keysOf(s.locals)))))
				}
			}
		case "each":
			if s.each == nil {
				diags = append(diags, errorf(diag.CodeBadReference, &rng, "Reference to \"each\" in context without for_each",
					fmt.Sprintf("The \"each\" object can be used only in a mailing block that has for_each set; this is %s.", s.where)))
			} else if hasAttr && attr != "key" && attr != "value" {
				diags = append(diags, errorf(diag.CodeBadReference, &rng, "Invalid \"each\" attribute",
					fmt.Sprintf("The \"each\" object has only the attributes \"key\" and \"value\", not %q.", attr)))
			}
		case "path":
			if hasAttr && attr != "module" && attr != "root" {
				diags = append(diags, errorf(diag.CodeBadReference, &rng, "Invalid \"path\" attribute",
					fmt.Sprintf("The \"path\" object has only the attributes \"module\" and \"root\" (both the configuration directory), not %q.", attr)))
			}
		case "mailing":
			if s.mailings == nil {
				diags = append(diags, errorf(diag.CodeBadReference, &rng, "Reference to a mailing outside an output",
					fmt.Sprintf("Mailing attributes come from the postal platform after posting, so only output blocks can refer to them; this is %s.", s.where)))
			} else if hasAttr {
				if _, ok := s.mailings[attr]; !ok {
					names := make([]string, 0, len(s.mailings))
					for n := range s.mailings {
						names = append(names, n)
					}
					diags = append(diags, errorf(diag.CodeBadReference, &rng, "Reference to undeclared mailing",
						fmt.Sprintf("A mailing with the name %q has not been declared.%s", attr, suggest(attr, names))))
				}
			}
		default:
			avail := "var.NAME, local.NAME, path.module"
			if s.each != nil {
				avail += ", each.key, each.value"
			}
			if s.mailings != nil {
				avail += ", mailing.NAME"
			}
			diags = append(diags, errorf(diag.CodeBadReference, &rng, "Reference to unknown name",
				fmt.Sprintf("There is no %q here. In %s you can refer to %s.", root, s.where, avail)))
		}
	}
	return diags
}

// traversalAttr returns the name after the root: x in var.x or var["x"].
func traversalAttr(t hcl.Traversal) (string, bool) {
	if len(t) < 2 {
		return "", false
	}
	switch step := t[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), true
		}
	}
	return "", false
}

func keysOf[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// suggest returns ` Did you mean "x"?` for the closest name, or "".
func suggest(name string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := levenshtein.Distance(name, n, nil); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// eval evaluates expr in s after checking its references, and converts the
// result to ty (cty.DynamicPseudoType: no conversion). what names the value
// in messages, e.g. `the "service" argument`.
func (s *scope) eval(expr hcl.Expression, fns funcsTable, ty cty.Type, what string) (cty.Value, hcl.Diagnostics) {
	return s.evalWhat(expr, fns, ty, func() string { return what })
}

// evalWhat is eval with what made only for a message.
func (s *scope) evalWhat(expr hcl.Expression, fns funcsTable, ty cty.Type, what func() string) (cty.Value, hcl.Diagnostics) {
	if diags := s.checkRefs(expr); diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	val, diags := expr.Value(s.evalContext(fns))
	classify(diags, diag.CodeInvalidExpression)
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	rng := expr.Range()
	if !val.IsWhollyKnown() {
		return cty.DynamicVal, append(diags, errorf(diag.CodeInvalidExpression, &rng, "Value not known",
			fmt.Sprintf("The value of %s is not known while loading the configuration.", what())))
	}
	// A string, a number or a bool holds no nested marks: a shallow
	// unmark does, without walking (the body of every letter is one).
	if val.Type().IsPrimitiveType() {
		val, _ = val.Unmark()
	} else {
		val, _ = val.UnmarkDeep()
	}
	if ty == cty.DynamicPseudoType {
		return val, diags
	}
	cv, err := convert.Convert(val, ty)
	if err != nil {
		return cty.DynamicVal, append(diags, errorf(diag.CodeWrongType, &rng, "Incorrect value type",
			fmt.Sprintf("Invalid value for %s: %s.", what(), convertErrorText(err))))
	}
	return cv, diags
}

// convertErrorText renders a cty conversion error with its path.
func convertErrorText(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("%s: %s", pathString(pe.Path), pe.Error())
	}
	return err.Error()
}

func pathString(p cty.Path) string {
	var b strings.Builder
	for _, step := range p {
		switch s := step.(type) {
		case cty.GetAttrStep:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			} else {
				b.WriteString("[…]")
			}
		}
	}
	if b.Len() == 0 {
		return "value"
	}
	return b.String()
}

func convertString(v cty.Value) (cty.Value, error) {
	return convert.Convert(v, cty.String)
}

// stringOf returns a known string value as a Go string; null gives "".
func stringOf(v cty.Value) string {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}
