package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestLanguageDocumented keeps docs/language.md true: every attribute and
// block each schema of the decoder accepts is in its block's section, every
// function is listed, and every code of internal/diag is in the table.
func TestLanguageDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "language.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	sections := map[string]*hcl.BodySchema{
		"## `postform`":           postformSchema,
		"### `backend \"local\"`": backendSchemas["local"],
		"### `backend \"pg\"`":    backendSchemas["pg"],
		"### `review`":            reviewSchema,
		"### `pricing`":           pricingSchema,
		"#### `service \"NAME\"`": priceSchema,
		"## `provider \"nirva\"`": providerSchema,
		"## `variable \"NAME\"`":  variableSchema,
		"### `validation`":        validationSchema,
		"## `mailing \"NAME\"`":   mailingSchema,
		"### `document`":          documentSchema,
		"### `letter`":            letterSchema,
		"## `output \"NAME\"`":    outputSchema,
		"## `locals`":             {},
	}
	if len(backendSchemas) != 2 {
		t.Errorf("backendSchemas has %d backends: give each its section here and in docs/language.md", len(backendSchemas))
	}
	for _, bs := range rootSchema.Blocks {
		found := false
		for h := range sections {
			if strings.HasPrefix(h, "## `"+bs.Type) {
				found = true
			}
		}
		if !found {
			t.Errorf("top-level block %q has no section in docs/language.md", bs.Type)
		}
	}
	for heading, schema := range sections {
		sec := section(doc, heading)
		if sec == "" {
			t.Errorf("docs/language.md has no section %q", heading)
			continue
		}
		for _, a := range schema.Attributes {
			if !strings.Contains(sec, "| `"+a.Name+"` |") {
				t.Errorf("%s: attribute %q is not in its table", heading, a.Name)
				continue
			}
			req := "| `" + a.Name + "` | yes |"
			if a.Required != strings.Contains(sec, req) {
				t.Errorf("%s: attribute %q is documented as required=%v, the decoder says %v", heading, a.Name, !a.Required, a.Required)
			}
		}
		for _, bs := range schema.Blocks {
			if !strings.Contains(sec, "`"+bs.Type) {
				t.Errorf("%s: block %q is not named", heading, bs.Type)
			}
		}
	}

	fsec := section(doc, "## Functions")
	var names []string
	for n := range Functions(".") {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !strings.Contains(fsec, "`"+n+"`") && !strings.Contains(fsec, "`"+n+"(") {
			t.Errorf("function %s is not in the Functions section", n)
		}
	}

	csec := section(doc, "## Diagnostic codes")
	for _, code := range diagCodes(t) {
		if !regexp.MustCompile(`(?m)^\| ` + code + ` \| \S`).MatchString(csec) {
			t.Errorf("code %s of internal/diag/diag.go is not in the Diagnostic codes table", code)
		}
	}
}

// section is the text under heading, up to the next heading of the same
// level or higher.
func section(doc, heading string) string {
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(heading)+2:]
	level := strings.Count(strings.Fields(heading)[0], "#")
	for _, l := range regexp.MustCompile(`(?m)^#+ `).FindAllStringIndex(rest, -1) {
		if n := strings.Count(strings.TrimSpace(rest[l[0]:l[1]]), "#"); n <= level {
			return rest[:l[0]]
		}
	}
	return rest
}

// diagCodes reads every "PFnnn" constant of internal/diag.
func diagCodes(t *testing.T) []string {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "internal", "diag", "diag.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && regexp.MustCompile(`^PF\d{3}$`).MatchString(s) {
				codes = append(codes, s)
			}
		}
		return true
	})
	if len(codes) < 50 {
		t.Fatalf("found only %d codes in internal/diag/diag.go", len(codes))
	}
	return codes
}
