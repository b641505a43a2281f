package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/internal/diag"
)

// TestEachFastPathsMatchEvaluation loads mail merges whose letters read
// repeated, distinct, missing and wrong values from each, with evalEach's
// memo and direct evaluation and without them: the letters (every field)
// and the diagnostics must be the same, and the fast paths must have served
// some letters, or the comparison shows nothing.
func TestEachFastPathsMatchEvaluation(t *testing.T) {
	checks := []any{true, false, true, nil, "yes", true, 1, map[string]any{"a": true}, false, true}
	colors := []any{"red", "blue", "red", nil, "red", "blue", 3, "red", []any{"x"}, "blue"}
	owners := []any{"a", "a", "b", nil, "a", "", "b", "a", "a", true}
	boxes := []any{"main", "main", "MAIN", "", nil, "main", "annex", "main", "main", "main"}
	dates := []any{"2026-12-05", "2026-12-05", "nope", nil, "2026-12-05T09:00:00+01:00", "2026-12-05", "2026-12-06", "2026-12-05", "2026-12-05", "2026-12-05"}
	windows := []any{nil, map[string]any{"left_mm": 20, "top_mm": 50, "width_mm": 90, "height_mm": 40}, nil, "bad", nil, nil, nil, nil, nil, nil}
	letters := map[string]map[string]any{}
	for i := 0; i < 200; i++ {
		j := i % 10
		letters[fmt.Sprintf("k%03d", i)] = map[string]any{
			"file": "a.pdf", "check": checks[j], "color": colors[(i/3)%10], "owner": owners[(i/7)%10],
			"box": boxes[(i/2)%10], "date": dates[(i/5)%10], "window": windows[(i/11)%10], "tz": []any{"UTC", "Europe/Paris", "Mars/Base"}[i%3],
			"addr": []any{map[string]any{"city": owners[(i/3)%10]}, map[string]any{}, "flat", nil, map[string]any{"city": "Paris", "x": 1}}[i%5],
		}
	}
	js, err := json.Marshal(letters)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, body string }{
		{"file", ``},
		{"preflight", `preflight = { address = each.value.check }`},
		{"preflight literal", `preflight = { address = true }
  job_name = "j-${each.key}-${each.value.check == true}"`},
		{"preflight shared", `preflight = { address = false }`},
		{"preflight shared invalid", `preflight = { address = "no" }`},
		{"preflight shared key", `preflight = { check = true }`},
		{"options", `options = { color = each.value.color }`},
		{"options key", `options = { color = each.value.color, "k" = each.key == "k001" ? "one" : "other" }`},
		{"owner", `owner = each.value.owner`},
		{"box", `preflight = { address = false }`},
		{"schedule", `send_after = each.value.date
  time_zone  = each.value.tz`},
		{"window", `address_window = each.value.window`},
		{"mixed", `owner    = "${each.value.owner}-${each.value.color}"
  preflight = each.value.check == true ? { address = true } : { address = false }
  options  = { color = upper(each.value.color) }`},
		{"each.value whole", `owner = jsonencode(each.value)`},
		{"index", `owner = each.value["owner"]`},
		{"job name", `job_name = "j-${each.key}-${each.value.owner}"`},
		{"job name wrap", `job_name = "${each.key}"`},
		{"job name parts", `job_name = "${each.key}${each.value.color}%{if each.value.check == true}-c%{endif}"`},
		{"job name missing", `job_name = "j-${each.value.nope}"`},
		{"job name key", `job_name = each.key`},
		{"owner colors", `owner = each.value.color`},
		{"owner key", `owner = "${each.key}:${each.value.tz}"`},
		{"nested", `owner = "${each.value.addr.city}"`},
		{"nested index", `owner = each.value.addr["city"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// The document reads each only where a case is about it, so
			// that the fast paths' count is the case's.
			file, box := `"a.pdf"`, ""
			switch tc.name {
			case "box":
				box = `box = each.value.box`
			case "file":
				file = `each.value.file`
			}
			writeFiles(t, dir, map[string]string{
				"main.mail.hcl": simple(`for_each = jsondecode(file("letters.json"))
  ` + tc.body + `
  document {
    file = ` + file + `
    ` + box + `
  }`),
				"a.pdf":        string(a4()),
				"letters.json": string(js),
			})
			var memo *loader
			cfg, diags := loadWith(dir, LoadOptions{}, func(l *loader) { memo = l })
			ref, refDiags := loadWith(dir, LoadOptions{}, func(l *loader) { l.noEachFast = true })
			if !reflect.DeepEqual(cfg.Mailings, ref.Mailings) {
				for i := range min(len(cfg.Mailings), len(ref.Mailings)) {
					if !reflect.DeepEqual(cfg.Mailings[i], ref.Mailings[i]) {
						t.Fatalf("letter %d differs:\n  memo: %+v\n  eval: %+v", i, *cfg.Mailings[i], *ref.Mailings[i])
					}
				}
				t.Fatalf("%d letters with the memo, %d without", len(cfg.Mailings), len(ref.Mailings))
			}
			if got, want := diagLines(diags), diagLines(refDiags); !reflect.DeepEqual(got, want) {
				t.Fatalf("diagnostics differ:\n  memo: %q\n  eval: %q", got, want)
			}
			// Neither fast path takes a value that is not a string or a
			// bool, nor an expression that reads each.key but is not a
			// traversal or a plain template.
			slow := map[string]bool{"preflight shared": true, "preflight shared invalid": true, "preflight shared key": true, "each.value whole": true, "job name missing": true, "preflight literal": true, "options key": true, "job name parts": true}
			if served := memo.eachFast > 0; served == slow[tc.name] {
				t.Fatalf("the fast paths served %d letters (%d letters, %d diagnostics)", memo.eachFast, len(cfg.Mailings), len(diags))
			}
		})
	}
}

func diagLines(diags hcl.Diagnostics) []string {
	out := make([]string, len(diags))
	for i, d := range diags {
		out[i] = fmt.Sprintf("%v %s %s: %s", d.Subject, diag.Code(d), d.Summary, d.Detail)
	}
	return out
}

// traverse must give what hcl's TraverseRel gives, or refuse where that
// fails.
func TestTraverseMatchesHCL(t *testing.T) {
	obj := cty.ObjectVal(map[string]cty.Value{
		"file":   cty.StringVal("a.pdf"),
		"nested": cty.ObjectVal(map[string]cty.Value{"x": cty.True, "n": cty.NullVal(cty.String)}),
		"list":   cty.ListVal([]cty.Value{cty.StringVal("l0")}),
		"null":   cty.NullVal(cty.Object(map[string]cty.Type{"x": cty.String})),
		"secret": cty.StringVal("s").Mark("sensitive"),
	})
	values := map[string]cty.Value{
		"object":         obj,
		"map":            cty.MapVal(map[string]cty.Value{"file": cty.StringVal("m.pdf")}),
		"null":           cty.NullVal(obj.Type()),
		"unknown":        cty.UnknownVal(obj.Type()),
		"marked":         obj.Mark("sensitive"),
		"string":         cty.StringVal("s"),
		"dynamic":        cty.DynamicVal,
		"nested unknown": cty.ObjectVal(map[string]cty.Value{"nested": cty.UnknownVal(cty.Object(map[string]cty.Type{"x": cty.Bool}))}),
	}
	paths := []hcl.Traversal{
		{},
		{hcl.TraverseAttr{Name: "file"}},
		{hcl.TraverseAttr{Name: "nested"}, hcl.TraverseAttr{Name: "x"}},
		{hcl.TraverseAttr{Name: "nested"}, hcl.TraverseAttr{Name: "n"}},
		{hcl.TraverseAttr{Name: "nested"}, hcl.TraverseAttr{Name: "missing"}},
		{hcl.TraverseAttr{Name: "list"}, hcl.TraverseIndex{Key: cty.NumberIntVal(0)}},
		{hcl.TraverseIndex{Key: cty.StringVal("file")}},
		{hcl.TraverseAttr{Name: "null"}, hcl.TraverseAttr{Name: "x"}},
		{hcl.TraverseAttr{Name: "secret"}},
		{hcl.TraverseAttr{Name: "missing"}},
	}
	for name, v := range values {
		for _, p := range paths {
			want, diags := p.TraverseRel(v)
			got, ok := traverse(v, p)
			if ok != !diags.HasErrors() || (ok && !got.RawEquals(want)) {
				t.Errorf("%s %v: %#v, %v; TraverseRel gives %#v, %v", name, p, got, ok, want, diags)
			}
		}
	}
}

// evalEach's memo assumes every function gives the same result for the
// same arguments within a Load. This list is the functions that were
// checked for it: a new function fails here until someone checks it too
// (a timestamp() or uuid() must not be memoised: make eachmemo.go skip
// expressions that call it).
func TestFunctionsCheckedForTheMemo(t *testing.T) {
	checked := map[string]bool{}
	for _, n := range strings.Fields(pureFunctions) {
		checked[n] = true
	}
	for name := range Functions(t.TempDir()) {
		if !checked[name] {
			t.Errorf("function %q: is it pure within a Load? Add it to pureFunctions if so; otherwise evalEach must not memoise expressions that call it", name)
		}
	}
}

// pureFunctions give one result for the same arguments within a Load (the
// file functions read files that a Load does not change).
const pureFunctions = `abs abspath alltrue anytrue base64decode base64encode basename can ceil
chomp chunklist coalesce coalescelist compact concat contains csvdecode dirname distinct element
endswith file fileexists fileset filesha256 flatten floor format formatdate formatlist indent
index join jsondecode jsonencode keys length log lookup lower max merge min one parseint pdfpages
pow range regex regexall replace reverse setintersection setproduct setsubtract setunion sha256
signum slice sort split startswith strcontains strrev substr sum templatefile timeadd title tobool
tolist tomap tonumber toset tostring trim trimprefix trimspace trimsuffix try upper urlencode
values zipmap`

func TestIsTrueIsRawEquals(t *testing.T) {
	evaluated := func(src string) cty.Value {
		t.Helper()
		expr, diags := hclsyntax.ParseExpression([]byte(src), "x.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, diags := expr.Value(&hcl.EvalContext{Functions: Functions(t.TempDir())})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return v
	}
	fast, _ := decodeJSONFast(`[true, false, null, "true", 1]`)
	values := []cty.Value{
		cty.True, cty.False, cty.BoolVal(true), cty.BoolVal(false), cty.NullVal(cty.Bool), cty.UnknownVal(cty.Bool),
		cty.UnknownVal(cty.Bool).RefineNotNull(), cty.True.Mark("sensitive"), cty.DynamicVal, cty.StringVal("true"),
		cty.NumberIntVal(1), cty.ListVal([]cty.Value{cty.True}), cty.ObjectVal(map[string]cty.Value{"a": cty.True}),
		cty.MapVal(map[string]cty.Value{"a": cty.True}), cty.TupleVal([]cty.Value{cty.True}), cty.SetVal([]cty.Value{cty.True}),
		cty.EmptyObjectVal, cty.NilVal, cty.NullVal(cty.DynamicPseudoType),
		evaluated(`true`), evaluated(`1 == 1`), evaluated(`!true`), evaluated(`tobool("true")`), evaluated(`jsondecode("true")`),
		evaluated(`can(1)`), evaluated(`true && false`),
	}
	for it := fast.ElementIterator(); it.Next(); {
		_, e := it.Element()
		values = append(values, e)
	}
	for _, v := range values {
		if got, want := isTrue(v), v.RawEquals(cty.True); got != want {
			t.Errorf("isTrue(%#v) = %v, RawEquals(cty.True) = %v", v, got, want)
		}
	}
}
