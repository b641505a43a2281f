package config

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/postform/postform/internal/diag"
)

// EnvVarPrefix prefixes environment variables that set input variables.
const EnvVarPrefix = "POSTFORM_VAR_"

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}, {Name: "nullable"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

type varDecl struct {
	v           *Variable
	typ         cty.Type
	defaults    *typeexpr.Defaults
	hasDefault  bool
	def         cty.Value
	nullable    bool
	validations []*validationRule
	// literal: --var and POSTFORM_VAR_ values are taken as strings, not
	// parsed as HCL (type string, or no type at all).
	literal bool
}

type validationRule struct {
	condition, message hcl.Expression
	rng                hcl.Range
}

// assigned is a value given for a variable, with where it came from.
type assigned struct {
	val    cty.Value
	rng    *hcl.Range // nil for --var and the environment
	source string     // for messages: "--var", "POSTFORM_VAR_x", a file name
}

func (l *loader) decodeVariables() {
	for _, b := range l.uniqueBlocks("variable", true) {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.add(errorf(diag.CodeInvalidValue, b.LabelRanges[0].Ptr(), "Invalid variable name",
				"A variable name must start with a letter or underscore and contain only letters, digits, underscores and dashes."))
			continue
		}
		d := &varDecl{
			v:        &Variable{Name: name, DeclRange: b.DefRange},
			typ:      cty.DynamicPseudoType,
			nullable: true,
			literal:  true,
		}
		content, diags := decodeBody(b.Body, variableSchema)
		l.add(diags...)
		attrs := content.Attributes
		if a, ok := attrs["type"]; ok {
			ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
			l.add(classify(diags, diag.CodeWrongType)...)
			if !diags.HasErrors() {
				d.typ, d.defaults = ty, defaults
				d.literal = ty == cty.String || ty == cty.DynamicPseudoType
			}
		}
		if a, ok := attrs["description"]; ok {
			d.v.Description = l.literal(a, cty.String).AsString()
		}
		if a, ok := attrs["sensitive"]; ok {
			d.v.Sensitive = l.literal(a, cty.Bool).True()
		}
		if a, ok := attrs["nullable"]; ok {
			d.nullable = l.literal(a, cty.Bool).True()
		}
		if a, ok := attrs["default"]; ok {
			val, diags := a.Expr.Value(nil)
			l.add(classify(diags, diag.CodeInvalidValue)...)
			if !diags.HasErrors() {
				d.hasDefault = true
				d.def, diags = d.finish(val, a.Expr.Range().Ptr(), "its default")
				l.add(diags...)
			}
		}
		for _, vb := range content.Blocks {
			vc, diags := decodeBody(vb.Body, validationSchema)
			l.add(diags...)
			if diags.HasErrors() {
				continue
			}
			d.validations = append(d.validations, &validationRule{
				condition: vc.Attributes["condition"].Expr,
				message:   vc.Attributes["error_message"].Expr,
				rng:       vb.DefRange,
			})
		}
		l.decls[name] = d
	}
}

// literal evaluates an attribute that must be a constant of type ty; it
// returns a usable (non-null) zero value on error.
func (l *loader) literal(a *hcl.Attribute, ty cty.Type) cty.Value {
	zero := cty.StringVal("")
	if ty == cty.Bool {
		zero = cty.False
	}
	v, diags := a.Expr.Value(nil)
	l.add(classify(diags, diag.CodeInvalidValue)...)
	if diags.HasErrors() {
		return zero
	}
	cv, err := convert.Convert(v, ty)
	if err != nil || cv.IsNull() || !cv.IsKnown() {
		l.add(errorf(diag.CodeWrongType, a.Expr.Range().Ptr(), "Incorrect value type",
			fmt.Sprintf("The %q argument must be a %s.", a.Name, ty.FriendlyName())))
		return zero
	}
	return cv
}

// finish applies optional() defaults and converts val to the variable's
// type; null is returned as is (the caller decides what null means).
func (d *varDecl) finish(val cty.Value, rng *hcl.Range, from string) (cty.Value, hcl.Diagnostics) {
	val, _ = val.UnmarkDeep()
	if val.IsNull() {
		return cty.NullVal(d.typ), nil
	}
	if d.defaults != nil {
		val = d.defaults.Apply(val)
	}
	cv, err := convert.Convert(val, d.typ)
	if err != nil {
		return cty.DynamicVal, hcl.Diagnostics{errorf(diag.CodeWrongType, rng, "Invalid value for variable",
			fmt.Sprintf("The value for var.%s from %s is not a %s: %s.", d.v.Name, from, typeexpr.TypeString(d.typ), convertErrorText(err)))}
	}
	if d.defaults != nil {
		// Defaults again: conversion may have created the objects that
		// carry optional attributes (e.g. a map of objects from a tuple).
		cv = d.defaults.Apply(cv)
		if cv2, err := convert.Convert(cv, d.typ); err == nil {
			cv = cv2
		}
	}
	return cv, nil
}

// assignVariables gives every declared variable its value. Precedence, from
// lowest to highest, as in Terraform: the default, POSTFORM_VAR_name, the
// *.auto.vars.hcl and *.auto.vars.json files in alphabetical order, then the
// --var-file and --var options in their command-line order (VarArgs; with
// only Vars and VarFiles, all files come before all --var flags).
func (l *loader) assignVariables(autoVars []string) {
	given := map[string]assigned{}
	for _, kv := range l.opts.Env {
		k, raw, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvVarPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, EnvVarPrefix)
		d, ok := l.decls[name]
		if !ok {
			continue // the environment may hold anything; ignore the rest
		}
		if v, ok := l.rawValue(d, raw, k); ok {
			given[name] = assigned{val: v, source: "the environment variable " + k}
		}
	}
	for _, f := range autoVars {
		l.readVarsFile(f, given)
	}
	args := l.opts.VarArgs
	if len(args) == 0 {
		for _, f := range l.opts.VarFiles {
			args = append(args, VarArg{File: true, Value: f})
		}
		for _, v := range l.opts.Vars {
			args = append(args, VarArg{Value: v})
		}
	}
	for _, a := range args {
		if a.File {
			l.readVarsFile(a.Value, given)
		} else {
			l.assignVarFlag(a.Value, given)
		}
	}

	vals := map[string]cty.Value{}
	for _, name := range keysOf(l.decls) {
		d := l.decls[name]
		a, ok := given[name]
		var val cty.Value
		switch {
		case ok:
			v, diags := d.finish(a.val, a.rng, a.source)
			l.add(diags...)
			if diags.HasErrors() {
				continue
			}
			val = v
			if val.IsNull() && !d.nullable {
				if d.hasDefault && !d.def.IsNull() {
					val = d.def
				} else {
					l.add(errorf(diag.CodeInvalidValue, subjectOr(a.rng, d.v.DeclRange), "Null value for non-nullable variable",
						fmt.Sprintf("var.%s is declared with nullable = false, but %s sets it to null.", name, a.source)))
					continue
				}
			}
		case d.hasDefault:
			val = d.def
			if val.IsNull() && !d.nullable {
				l.add(errorf(diag.CodeInvalidValue, d.v.DeclRange.Ptr(), "Null default for non-nullable variable",
					fmt.Sprintf("var.%s is declared with nullable = false, so its default cannot be null.", name)))
				continue
			}
		case l.opts.Prompt != nil && !(l.opts.Offline && l.onlyCredentials(name)) && l.prompted(d, given):
			a := given[name]
			v, diags := d.finish(a.val, a.rng, a.source)
			l.add(diags...)
			if diags.HasErrors() {
				continue
			}
			val = v
		case l.opts.Offline && l.onlyCredentials(name):
			if l.deferred == nil {
				l.deferred = map[string]bool{}
			}
			l.deferred[name] = true
			continue
		default:
			l.add(errorf(diag.CodeMissingVariable, d.v.DeclRange.Ptr(), "No value for required variable",
				fmt.Sprintf("The variable %q declared at %s has no default, and no value was given. Set it with --var %s=…, a *%s file or the environment variable %s%s.",
					name, d.v.DeclRange, name, AutoVarsFileSuffix, EnvVarPrefix, name)))
			continue
		}
		d.v.Value = val
		vals[name] = val
		l.cfg.Variables[name] = d.v
	}
	l.cfg.varVals = vals
	if l.diags.HasErrors() {
		return
	}
	l.validateVariables(given)
}

// prompted asks opts.Prompt for d's value and records it in given.
func (l *loader) prompted(d *varDecl, given map[string]assigned) bool {
	raw, ok := l.opts.Prompt(d.v)
	if !ok {
		return false
	}
	v, ok := l.rawValue(d, raw, "the value entered for var."+d.v.Name)
	if !ok {
		return false
	}
	given[d.v.Name] = assigned{val: v, source: "the value entered"}
	return true
}

func subjectOr(r *hcl.Range, def hcl.Range) *hcl.Range {
	if r != nil {
		return r
	}
	return def.Ptr()
}

// rawValue reads a --var or environment value: the string itself for a
// string (or unconstrained) variable, else an HCL expression.
func (l *loader) rawValue(d *varDecl, raw, source string) (cty.Value, bool) {
	if d.literal {
		return cty.StringVal(raw), true
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if !diags.HasErrors() {
		var more hcl.Diagnostics
		var v cty.Value
		v, more = expr.Value(nil)
		diags = append(diags, more...)
		if !diags.HasErrors() {
			return v, true
		}
	}
	// Re-home the diagnostics: the pseudo-file has no source to show.
	l.add(errorf(diag.CodeInvalidVariableFlag, nil, "Invalid value for variable",
		fmt.Sprintf("The value %q from %s for var.%s (a %s) is not a valid HCL expression: %s. Quote strings inside lists and maps, e.g. '[\"a\", \"b\"]'.",
			raw, source, d.v.Name, typeexpr.TypeString(d.typ), diagsText(diags))))
	return cty.NilVal, false
}

func diagsText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			parts = append(parts, strings.TrimSuffix(d.Summary+": "+d.Detail, "."))
		}
	}
	return strings.Join(parts, "; ")
}

// readVarsFile reads name = value pairs from an HCL or JSON file into given.
// assignVarFlag applies one --var name=value.
func (l *loader) assignVarFlag(flag string, given map[string]assigned) {
	name, raw, ok := strings.Cut(flag, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		l.add(errorf(diag.CodeInvalidVariableFlag, nil, "Invalid --var option",
			fmt.Sprintf("The option --var %q is not of the form --var name=value.", flag)))
		return
	}
	d, ok := l.decls[name]
	if !ok {
		l.add(errorf(diag.CodeUnknownVariable, nil, "Value for undeclared variable",
			fmt.Sprintf("The option --var %s=… sets a variable %q that is not declared.%s Declare it with a variable %q {} block.", name, name, suggest(name, keysOf(l.decls)), name)))
		return
	}
	if v, ok := l.rawValue(d, raw, "--var "+name); ok {
		given[name] = assigned{val: v, source: "--var " + name}
	}
}

func (l *loader) readVarsFile(name string, given map[string]assigned) {
	f, ok := l.parseFile(name)
	if !ok {
		return
	}
	attrs, diags := decodeAttrs(f.Body)
	l.add(diags...)
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := attrs[n]
		if _, ok := l.decls[n]; !ok {
			l.add(diag.NewDiag(diag.CodeUnknownVariable, hcl.DiagWarning, "Value for undeclared variable",
				fmt.Sprintf("%s sets a variable %q that is not declared, so the value is ignored.%s", filepath.ToSlash(name), n, suggest(n, keysOf(l.decls))), a.NameRange.Ptr()))
			continue
		}
		v, diags := a.Expr.Value(nil)
		l.add(classify(diags, diag.CodeInvalidValue)...)
		if diags.HasErrors() {
			continue
		}
		given[n] = assigned{val: v, rng: a.Expr.Range().Ptr(), source: filepath.ToSlash(name)}
	}
}

// validateVariables runs every validation rule. A condition may refer to
// any variable; the error points at where the failing value was set.
func (l *loader) validateVariables(given map[string]assigned) {
	s := &scope{vars: l.cfg.varVals, dir: l.cfg.Dir, where: "a variable validation"}
	for _, name := range keysOf(l.decls) {
		d := l.decls[name]
		if l.deferred[name] {
			continue // no value to validate
		}
		for _, rule := range d.validations {
			cond, diags := s.eval(rule.condition, l.funcs, cty.Bool, "the validation condition")
			l.add(diags...)
			if diags.HasErrors() {
				continue
			}
			if cond.IsNull() {
				l.add(errorf(diag.CodeWrongType, rule.condition.Range().Ptr(), "Invalid validation condition", "The condition evaluated to null; it must be true or false."))
				continue
			}
			if cond.True() {
				continue
			}
			msg, diags := s.eval(rule.message, l.funcs, cty.String, "the error message")
			l.add(diags...)
			if diags.HasErrors() || msg.IsNull() {
				continue
			}
			subject := rule.condition.Range().Ptr()
			from := "its default"
			if a, ok := given[name]; ok {
				from = a.source
				if a.rng != nil {
					subject = a.rng
				}
			}
			l.add(errorf(diag.CodeVariableValidation, subject, "Invalid value for variable",
				fmt.Sprintf("%s\n\nThe value of var.%s from %s failed the validation rule at %s.", msg.AsString(), name, from, rule.rng)))
		}
	}
}
