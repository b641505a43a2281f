package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/postform/postform/internal/diag"
)

// Every diagnostic config returns carries a code from internal/diag, given by
// which check failed, never read from the diagnostic's summary: HCL may
// reword a summary in any release, a published code may not change.

// errorf is the usual way this package makes an error diagnostic.
func errorf(code string, subject *hcl.Range, summary, detail string) *hcl.Diagnostic {
	return diag.NewDiag(code, hcl.DiagError, summary, detail, subject)
}

// withCode gives code to every diagnostic in diags that has none: for
// diagnostics of one kind, such as a parser's (diag.CodeSyntax).
func withCode(diags hcl.Diagnostics, code string) hcl.Diagnostics {
	for _, d := range diags {
		if diag.Code(d) == "" {
			diag.SetCode(d, code)
		}
	}
	return diags
}

// classify codes the diagnostics of an expression's evaluation that have no
// code, by what HCL attached to them, else with fallback, the call site's
// own code. It returns the same slice, modified in place.
func classify(diags hcl.Diagnostics, fallback string) hcl.Diagnostics {
	for _, d := range diags {
		if diag.Code(d) == "" {
			diag.SetCode(d, evalCode(d, fallback))
		}
	}
	return diags
}

func evalCode(d *hcl.Diagnostic, fallback string) string {
	// The extras of FunctionCallExpr.Value; the unknown-function one first,
	// both have CalledFunctionName.
	if _, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallUnknownDiagExtra](d); ok {
		return diag.CodeUnknownFunction
	}
	if _, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d); ok {
		return diag.CodeFunctionError
	}
	switch d.Expression.(type) {
	case *hclsyntax.FunctionCallExpr:
		// A call where no function may be called (an evaluation without
		// functions, such as a variable's default): the one diagnostic
		// of a call that carries no extra.
		return diag.CodeFunctionError
	case *hclsyntax.ScopeTraversalExpr, *hclsyntax.RelativeTraversalExpr, *hclsyntax.IndexExpr:
		// A traversal's or an index's own failure (unknown variable, no
		// such attribute or element) has no Context. A diagnostic about
		// how an enclosing expression uses the value (an operand, a
		// condition, an interpolation) names the traversal as its
		// Expression too, but that enclosing expression as its Context.
		if d.Context == nil {
			return diag.CodeBadReference
		}
	}
	return fallback
}

// decodeBody is body.Content(schema) with every diagnostic coded by the check
// that failed (checkBody).
func decodeBody(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	c, diags := body.Content(schema)
	return c, checkBody(body, schema, diags)
}

// checkBody checks body against schema itself, the way Content does, and
// returns its own diagnostics, coded by the check that failed, in place of
// HCL's (hclDiags, from body.Content(schema)), which say the same things.
// A diagnostic of HCL's at a place none of these checks reports (a check
// a later HCL adds) is kept, as CodeUnsupported.
//
// mailing.go and letter.go call it beside their own Content call.
func checkBody(body hcl.Body, schema *hcl.BodySchema, hclDiags hcl.Diagnostics) hcl.Diagnostics {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		// Configuration files are native syntax; only variable files may
		// be JSON, and they are read by attributes.
		return withCode(hclDiags, diag.CodeUnsupported)
	}
	var diags hcl.Diagnostics
	attrNames := make([]string, len(schema.Attributes))
	for i, a := range schema.Attributes {
		attrNames[i] = a.Name
		if a.Required && sb.Attributes[a.Name] == nil {
			diags = append(diags, errorf(diag.CodeMissingArgument, sb.MissingItemRange().Ptr(), "Missing required argument",
				fmt.Sprintf("The argument %q is required, but no definition was found.", a.Name)))
		}
	}
	blockTypes := make([]string, len(schema.Blocks))
	blockSchemas := map[string]hcl.BlockHeaderSchema{}
	for i, b := range schema.Blocks {
		blockTypes[i] = b.Type
		blockSchemas[b.Type] = b
	}
	for name, a := range sb.Attributes {
		if slices.Contains(attrNames, name) {
			continue
		}
		hint := suggest(name, attrNames)
		if hint == "" && slices.Contains(blockTypes, name) {
			hint = fmt.Sprintf(" Did you mean to define a block of type %q?", name)
		}
		diags = append(diags, errorf(diag.CodeUnsupported, a.NameRange.Ptr(), "Unsupported argument",
			fmt.Sprintf("An argument named %q is not expected here.%s", name, hint)))
	}
	for _, b := range sb.Blocks {
		bs, ok := blockSchemas[b.Type]
		if !ok {
			hint := suggest(b.Type, blockTypes)
			if hint == "" && slices.Contains(attrNames, b.Type) {
				hint = fmt.Sprintf(" Did you mean to define argument %q? If so, use the equals sign to assign it a value.", b.Type)
			}
			diags = append(diags, errorf(diag.CodeUnsupported, b.TypeRange.Ptr(), "Unsupported block type",
				fmt.Sprintf("Blocks of type %q are not expected here.%s", b.Type, hint)))
			continue
		}
		header := hcl.RangeBetween(b.TypeRange, b.OpenBraceRange).Ptr()
		switch want := len(bs.LabelNames); {
		case len(b.Labels) > want:
			d := errorf(diag.CodeUnsupported, b.LabelRanges[want].Ptr(), "Extraneous label for "+b.Type,
				fmt.Sprintf("No labels are expected for %s blocks.", b.Type))
			if want > 0 {
				d.Detail = fmt.Sprintf("Only %d labels (%s) are expected for %s blocks.", want, strings.Join(bs.LabelNames, ", "), b.Type)
			}
			d.Context = header
			diags = append(diags, d)
		case len(b.Labels) < want:
			d := errorf(diag.CodeMissingArgument, b.OpenBraceRange.Ptr(), fmt.Sprintf("Missing %s for %s", bs.LabelNames[len(b.Labels)], b.Type),
				fmt.Sprintf("All %s blocks must have %d labels (%s).", b.Type, want, strings.Join(bs.LabelNames, ", ")))
			d.Context = header
			diags = append(diags, d)
		}
	}
	// Attributes are a map: report in source order.
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int { return cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte) })
	return append(diags, unforeseen(hclDiags, diags)...)
}

// decodeAttrs is body.JustAttributes() with every diagnostic coded by the
// check that failed.
func decodeAttrs(body hcl.Body) (hcl.Attributes, hcl.Diagnostics) {
	attrs, hclDiags := body.JustAttributes()
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		// A JSON body (a *.json variable file) fails in two ways only
		// (hcl/json/structure.go): the file is not an object, and nothing
		// comes back, or a property repeats and the others come back.
		code := diag.CodeDuplicate
		if len(attrs) == 0 {
			code = diag.CodeUnsupported
		}
		return attrs, withCode(hclDiags, code)
	}
	var diags hcl.Diagnostics
	for _, b := range sb.Blocks {
		diags = append(diags, errorf(diag.CodeUnsupported, b.TypeRange.Ptr(), fmt.Sprintf("Unexpected %q block", b.Type),
			"Blocks are not allowed here."))
	}
	return attrs, append(diags, unforeseen(hclDiags, diags)...)
}

// unforeseen returns the diagnostics of hclDiags at a place ours do not
// report, coded CodeUnsupported.
func unforeseen(hclDiags, ours hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range hclDiags {
		if d.Subject != nil && slices.ContainsFunc(ours, func(o *hcl.Diagnostic) bool { return *o.Subject == *d.Subject }) {
			continue
		}
		out = append(out, d)
	}
	return withCode(out, diag.CodeUnsupported)
}
