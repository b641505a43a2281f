package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestFunctions(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"letters/a.pdf":          string(makePDF(2, 595, 842)),
		"letters/sub/b.pdf":      string(a4()),
		"letters/sub/deep/c.pdf": string(a4()),
		"letters/notes.txt":      "x",
		"hello.txt":              "Hello\n",
		"greeting.tmpl":          "Dear ${name},%{ for i in items } [${upper(i)}]%{ endfor }",
		"people.csv":             "id,name\n1,Ada\n2,Grace\n",
	})
	fns := Functions(dir)
	tests := []struct {
		expr string
		want string // the value, as jsonencode would give it
	}{
		{`file("hello.txt")`, `"Hello\n"`},
		{`fileexists("hello.txt")`, `true`},
		{`fileexists("nope.txt")`, `false`},
		{`filesha256("hello.txt")`, `"66a045b452102c59d840ec097d59d9467e13a3f34f6494e539ffd32c1bb35f18"`},
		{`fileset("letters", "*.pdf")`, `["a.pdf"]`},
		{`fileset("letters", "**/*.pdf")`, `["a.pdf","sub/b.pdf","sub/deep/c.pdf"]`},
		{`fileset("letters", "sub/**")`, `["sub/b.pdf","sub/deep/c.pdf"]`},
		{`fileset("letters", "**/deep/*.pdf")`, `["sub/deep/c.pdf"]`},
		{`fileset("letters", "*.{pdf}")`, `[]`},
		{`fileset(".", "*.txt")`, `["hello.txt"]`},
		{`pdfpages("letters/a.pdf")`, `2`},
		{`templatefile("greeting.tmpl", { name = "Ada", items = ["a", "b"] })`, `"Dear Ada, [A] [B]"`},
		{`[for r in csvdecode(file("people.csv")) : r.name]`, `["Ada","Grace"]`},
		{`{ for r in csvdecode(file("people.csv")) : r.id => r.name }`, `{"1":"Ada","2":"Grace"}`},
		{`replace("a-b-c", "-", "+")`, `"a+b+c"`},
		{`replace("a1b22", "/[0-9]+/", "#")`, `"a#b#"`},
		{`length("héllo")`, `5`},
		{`length({ a = 1, b = 2 })`, `2`},
		{`length([1, 2, 3])`, `3`},
		{`base64decode(base64encode("postform"))`, `"postform"`},
		{`jsondecode("{\"a\": [1]}").a[0]`, `1`},
		{`startswith("postform", "post")`, `true`},
		{`endswith("postform", "x")`, `false`},
		{`one(["x"])`, `"x"`},
		{`sum([1, 2, 3.5])`, `6.5`},
		{`alltrue([true, false])`, `false`},
		{`anytrue([true, false])`, `true`},
		{`alltrue([])`, `true`},
		{`anytrue([])`, `false`},
		{`try(tonumber("x"), 7)`, `7`},
		{`can(tonumber("x"))`, `false`},
		{`formatdate("YYYY-MM-DD", "2026-11-05T10:00:00Z")`, `"2026-11-05"`},
		{`lookup({ a = "1" }, "b", "none")`, `"none"`},
		{`basename("a/b/c.pdf")`, `"c.pdf"`},
		{`format("%05d", 42)`, `"00042"`},
		{`sha256("x")`, `"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			v, diags := expr.Value(&hcl.EvalContext{Functions: fns})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			j, err := fns["jsonencode"].Call([]cty.Value{v})
			if err != nil {
				t.Fatal(err)
			}
			if got := j.AsString(); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}

func TestFunctionErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"t.tmpl": "${missing}", "bin.pdf": "%PDF-\xff\xfe"})
	fns := Functions(dir)
	for _, src := range []string{
		`file("nope")`,
		`file("bin.pdf")`,
		`templatefile("t.tmpl", {})`,
		`templatefile("t.tmpl", "x")`,
		`fileset(".", "../*")`,
		`fileset(".", "[")`,
		`pdfpages("bin.pdf")`,
		`one([1, 2])`,
		`range(100000)`,
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "test", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if _, diags := expr.Value(&hcl.EvalContext{Functions: fns}); !diags.HasErrors() {
			t.Errorf("%s: no error", src)
		}
	}
}

func TestMatchSegments(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.pdf", "a.pdf", true},
		{"*.pdf", "x/a.pdf", false},
		{"**/*.pdf", "a.pdf", true},
		{"**/*.pdf", "x/y/a.pdf", true},
		{"x/**", "x/y/a.pdf", true},
		{"x/**/a.pdf", "x/a.pdf", true},
		{"x/**/**/a.pdf", "x/1/2/3/a.pdf", true},
		{"x/?.pdf", "x/ab.pdf", false},
		{"[ab].pdf", "b.pdf", true},
	}
	for _, tt := range tests {
		if got := matchSegments(strings.Split(tt.pattern, "/"), strings.Split(tt.name, "/")); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

// The file functions read only the working directory: a checkout must not
// read the runner's files into what the plan shows or the platform gets.
func TestFileFunctionsStayInside(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "work")
	writeFiles(t, base, map[string]string{"secret.txt": "runner secret", "work/in.txt": "ok"})
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	fns := Functions(dir)
	for _, expr := range []string{
		`file("../secret.txt")`, `file("` + filepath.ToSlash(filepath.Join(base, "secret.txt")) + `")`,
		`file("link.txt")`, `templatefile("link.txt", {})`, `filesha256("../secret.txt")`,
		`fileexists("../secret.txt")`, `pdfpages("../secret.txt")`, `fileset("..", "*.txt")`,
	} {
		e, diags := hclsyntax.ParseExpression([]byte(expr), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, diags := e.Value(&hcl.EvalContext{Functions: fns})
		if !diags.HasErrors() {
			t.Errorf("%s read outside the working directory: %#v", expr, v)
			continue
		}
		if !strings.Contains(diags.Error(), "outside the working directory") {
			t.Errorf("%s: the error does not say why: %s", expr, diags.Error())
		}
	}
	e, _ := hclsyntax.ParseExpression([]byte(`file("in.txt")`), "t.hcl", hcl.InitialPos)
	if v, diags := e.Value(&hcl.EvalContext{Functions: fns}); diags.HasErrors() || v.AsString() != "ok" {
		t.Errorf("a file inside is refused: %v", diags)
	}
}
