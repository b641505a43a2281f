package diag

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestCodesAreDistinct reads the constants of diag.go: each is a PFnnn
// code, and no two share one (a copied line would give two problems one
// code that CI matches on).
func TestCodesAreDistinct(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "diag.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]string{}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			code, err := strconv.Unquote(vs.Values[0].(*ast.BasicLit).Value)
			if err != nil || !regexp.MustCompile(`^PF\d{3}$`).MatchString(code) {
				t.Errorf("%s = %s: not a PFnnn code", vs.Names[0], vs.Values[0].(*ast.BasicLit).Value)
			}
			if prev, dup := byCode[code]; dup {
				t.Errorf("%s and %s are both %s", prev, vs.Names[0], code)
			}
			byCode[code] = vs.Names[0].Name
		}
	}
	if len(byCode) < 50 {
		t.Fatalf("read only %d codes", len(byCode))
	}
}

// hclExtra stands for extra information HCL attaches to a diagnostic.
type hclExtra struct{ name string }

func TestSetCodeKeepsHCLExtra(t *testing.T) {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "s", Extra: hclExtra{"f"}}
	if Code(d) != "" {
		t.Fatalf("Code = %q before SetCode", Code(d))
	}
	SetCode(d, CodeFunctionError)
	SetCode(d, CodeUnknownFunction) // a second code replaces the first, not wraps it
	if Code(d) != CodeUnknownFunction {
		t.Errorf("Code = %q, want %s", Code(d), CodeUnknownFunction)
	}
	if e, ok := hcl.DiagnosticExtra[hclExtra](d); !ok || e.name != "f" {
		t.Errorf("HCL's extra lost: %#v", d.Extra)
	}
	if _, ok := d.Extra.(codeExtra).wrapped.(codeExtra); ok {
		t.Error("the second code wrapped the first")
	}
	n := NewDiag(CodeSyntax, hcl.DiagWarning, "s", "d", nil)
	if Code(n) != CodeSyntax || n.Severity != hcl.DiagWarning || Code(nil) != "" {
		t.Errorf("NewDiag: code %q, severity %v", Code(n), n.Severity)
	}
}
