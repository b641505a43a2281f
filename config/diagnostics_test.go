package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/postform/postform/internal/diag"
)

// TestCodesByStructure pins, with one input each, every code config gives to
// a diagnostic HCL made: parse errors, body schema checks, evaluation. The
// input's only error must carry the code, at the line given.
func TestCodesByStructure(t *testing.T) {
	pdf := string(a4())
	locals := "locals {\n  s = \"abc\"\n  l = [\"a\"]\n  i = 3\n  o = { a = 1 }\n}\n"
	// mailing puts body in a mailing, on line 14.
	mailing := func(body string) map[string]string {
		return map[string]string{"main.mail.hcl": locals + simple(body+doc), "a.pdf": pdf}
	}
	jobName := func(expr string) map[string]string { return mailing("job_name = " + expr) }
	variable := func(body string) map[string]string {
		// The value given keeps "no value for required variable" out.
		return map[string]string{"main.mail.hcl": sandboxProvider + "variable \"v\" {\n" + body + "\n}\n", "x.auto.vars.hcl": "v = \"x\"\n"}
	}
	tests := []struct {
		name  string
		files map[string]string
		code  string
		line  int
	}{
		{"parse error", map[string]string{"main.mail.hcl": "mailing \"m\" {\n  service = \n}\n"}, diag.CodeSyntax, 2},
		{"attribute set twice (the parser's)", mailing("service = \"b\""), diag.CodeSyntax, 14},

		{"unknown top-level block", map[string]string{"main.mail.hcl": sandboxProvider + "mailng \"m\" {}\n"}, diag.CodeUnsupported, 5},
		{"unknown argument", mailing("servce = \"x\""), diag.CodeUnsupported, 14},
		{"unknown nested block", mailing("docment {\n}"), diag.CodeUnsupported, 14},
		{"extraneous label", map[string]string{"main.mail.hcl": simple("document \"x\" {\n  file = \"a.pdf\"\n}"), "a.pdf": pdf}, diag.CodeUnsupported, 8},
		{"block where only arguments go", map[string]string{"main.mail.hcl": "locals {\n  x {\n  }\n}\n"}, diag.CodeUnsupported, 2},
		{"block in a variables file", map[string]string{"main.mail.hcl": sandboxProvider, "x.auto.vars.hcl": "v {\n}\n"}, diag.CodeUnsupported, 1},
		{"JSON variables file not an object", map[string]string{"main.mail.hcl": sandboxProvider, "x.auto.vars.json": "[1]\n"}, diag.CodeUnsupported, 1},

		{"missing required argument", map[string]string{"main.mail.hcl": simple("document {\n}"), "a.pdf": pdf}, diag.CodeMissingArgument, 8},
		{"missing label", map[string]string{"main.mail.hcl": sandboxProvider + "mailing {\n  service = \"s\"\n}\n"}, diag.CodeMissingArgument, 5},

		{"JSON property set twice", map[string]string{"main.mail.hcl": sandboxProvider + "variable \"v\" {\n}\n", "x.auto.vars.json": "{\"v\": 1, \"v\": 2}\n"}, diag.CodeDuplicate, 1},

		{"conversion at postform's call site", jobName(`["x"]`), diag.CodeWrongType, 14},

		{"unknown function", jobName(`uper("x")`), diag.CodeUnknownFunction, 14},
		{"unknown namespaced function", jobName(`core::upper("x")`), diag.CodeUnknownFunction, 14},

		{"function failed", jobName(`file("nope.txt")`), diag.CodeFunctionError, 14},
		{"too many arguments", jobName(`upper("a", "b")`), diag.CodeFunctionError, 14},
		{"argument of the wrong type", jobName(`upper(local.o)`), diag.CodeFunctionError, 14},
		{"function where none may be called", variable(`default = upper("x")`), diag.CodeFunctionError, 6},

		{"no such attribute", jobName(`local.o.b`), diag.CodeBadReference, 14},
		{"index out of range", jobName(`local.l[local.i]`), diag.CodeBadReference, 14},
		{"attribute of a computed value", jobName(`{ a = "x" }.b`), diag.CodeBadReference, 14},
		{"reference where none may be made", variable(`default = local.s`), diag.CodeBadReference, 6},

		// The operand is a traversal that works; what fails is its use.
		{"operand of the wrong type", jobName(`local.s * 2`), diag.CodeInvalidExpression, 14},
		{"other evaluation error", jobName(`[for x in 1 : x]`), diag.CodeInvalidExpression, 14},
		{"evaluation error without functions", variable(`default = [for x in 1 : x]`), diag.CodeInvalidValue, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			cfg, diags := Load(dir, LoadOptions{})
			var b strings.Builder
			cfg.WriteDiagnostics(&b, diags, false)
			var errs []string
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, diag.Code(d))
				}
			}
			if !slices.Equal(errs, []string{tt.code}) {
				t.Fatalf("error codes %v, want [%s]:\n%s", errs, tt.code, b.String())
			}
			if d := hasCode(diags, tt.code); d.Subject == nil || d.Subject.Start.Line != tt.line {
				t.Errorf("subject %v, want line %d:\n%s", d.Subject, tt.line, b.String())
			}
		})
	}
}

// callExtra is what HCL attaches to a function call's diagnostics.
type callExtra struct{}

func (callExtra) CalledFunctionName() string { return "f" }
func (callExtra) FunctionCallError() error   { return nil }

// TestCodesIgnoreSummaries gives diagnostics whose summaries name another
// problem than their structure does: the structure decides, so that HCL
// rewording a summary cannot change a published code.
func TestCodesIgnoreSummaries(t *testing.T) {
	t.Run("evaluation", func(t *testing.T) {
		traversal := &hclsyntax.ScopeTraversalExpr{}
		diags := hcl.Diagnostics{
			{Severity: hcl.DiagError, Summary: "Call to unknown function", Expression: traversal},
			{Severity: hcl.DiagError, Summary: "Duplicate argument", Extra: callExtra{}},
			{Severity: hcl.DiagError, Summary: "Error in function call"},
			{Severity: hcl.DiagError, Summary: "Unknown variable", Expression: traversal, Context: &hcl.Range{}},
		}
		classify(diags, diag.CodeInvalidExpression)
		got := codes(diags)
		want := []string{diag.CodeBadReference, diag.CodeFunctionError, diag.CodeInvalidExpression, diag.CodeInvalidExpression}
		if !slices.Equal(got, want) {
			t.Errorf("codes %v, want %v", got, want)
		}
	})
	t.Run("schema", func(t *testing.T) {
		f, diags := hclsyntax.ParseConfig([]byte("a = 1\nb = 2\n"), "x.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		body := f.Body.(*hclsyntax.Body)
		schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "b"}}}
		// What HCL might say of a, and of a place no check of ours knows.
		hclDiags := hcl.Diagnostics{
			{Severity: hcl.DiagError, Summary: "Missing required argument", Subject: body.Attributes["a"].NameRange.Ptr()},
			{Severity: hcl.DiagError, Summary: "Duplicate argument", Subject: body.Attributes["b"].SrcRange.Ptr()},
		}
		got := checkBody(body, schema, hclDiags)
		if c := codes(got); !slices.Equal(c, []string{diag.CodeUnsupported, diag.CodeUnsupported}) {
			t.Fatalf("codes %v, want [PF002 PF002]", c)
		}
		if got[0].Summary != "Unsupported argument" || got[1].Summary != "Duplicate argument" {
			t.Errorf("summaries %q, %q: want ours for a, HCL's kept for the unforeseen one", got[0].Summary, got[1].Summary)
		}
	})
}
