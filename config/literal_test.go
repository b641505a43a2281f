package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// literalMailing is a mailing block around a for_each.
func literalMailing(forEach string) string {
	return "mailing \"m\" {\n  for_each = " + forEach + "\n  service  = \"Lettre verte\"\n  job_name = \"j-${each.key}\"\n}\n"
}

// literalSources are files parseHCL must parse as HCL does; fast tells
// whether it reads their lists itself.
var literalSources = []struct {
	name string
	src  string
	fast bool
}{
	{"one key", literalMailing(`toset(["a"])`), true},
	{"keys on lines", literalMailing("toset([\n    \"c000001\",\n    \"c000000\",\n    \"c000001\",\n  ])"), true},
	{"no trailing comma", literalMailing("toset([\n  \"a\",\n  \"b\"\n])"), true},
	{"comma on the next line", literalMailing("toset([\"a\"\n , \"b\" ,\n ])"), true},
	{"CR LF", strings.ReplaceAll(literalMailing("toset([\n  \"a\",\n  \"b\",\n])"), "\n", "\r\n"), true},
	{"short keys", literalMailing(`toset(["ab"])`), true},
	{"a key ends the last line", literalMailing("toset([\n  \"a\",\n\"b\"])"), true},
	{"CR LF after the last key", literalMailing("toset([\r\n  \"abc\"\r\n])"), true},
	{"short lines", literalMailing("toset([\n\"a\"\n,\n\"b\"\n,\"c\"\n])"), true},
	{"long lines", literalMailing("toset([\"" + strings.Repeat("k", 300) + "\", \"" + strings.Repeat("k", 301) + "\",\n\"a\", \"b\",\n])"), true},
	{"the bracket starts its line", literalMailing("toset([\n  \"a\",\n])"), true},
	{"one byte before the bracket", literalMailing("toset([\n  \"a\",\n ])"), true},
	{"a line break only", literalMailing("toset([\"a\",\n\"b\"])"), true},
	{"no spaces", "mailing \"m\" {\nfor_each=toset([\"a\",\"b\"])\n}\n", true},
	{"spaces in the call", literalMailing(`toset( [ "a" , "b" ] )`), true},
	{"punctuation", literalMailing(`toset(["a-b_c.d/e@f:g{h}i", "x y", "!#&'()*+;<=>?[]^` + "`" + `|~"])`), true},
	{"comment after", literalMailing(`toset(["a", "b"]) # the keys`), true},
	{"two mailings", literalMailing(`toset(["a", "b"])`) + strings.Replace(literalMailing(`toset(["c"])`), `"m"`, `"n"`, 1), true},
	{"not the only attribute line", "# é, a comment before\nlocals {\n  x = \"é\"\n}\n" + literalMailing("toset([\n  \"k1\", \"k2\",\n  \"k3\"])") + "output \"o\" {\n  value = \"ü\"\n}\n", true},
	{"unicode before on the line", "mailing \"é\" { for_each = toset([\"a\",\n \"b\"]) }\n", true},
	{"not a mailing argument", literalMailing(`toset(["a"])`) + "variable \"v\" {\n  for_each = toset([\"a\"])\n}\n", false},

	{"empty key", literalMailing(`toset(["a", ""])`), false},
	{"non-ASCII", literalMailing(`toset(["a", "é"])`), false},
	{"escape", literalMailing(`toset(["a\nb", "c"])`), false},
	{"quote escape", literalMailing(`toset(["q\"uote"])`), false},
	{"unicode escape", literalMailing(`toset(["\u00e9"])`), false},
	{"interpolation", literalMailing(`toset(["${"x"}", "y"])`), false},
	{"escaped interpolation", literalMailing(`toset(["$${literal}", "%%{x}"])`), false},
	{"directive", literalMailing(`toset(["%{if true}a%{endif}", "b"])`), false},
	{"a reference", literalMailing(`toset(["a", local.keys[0]])`), false},
	{"a number", literalMailing(`toset(["a", 1])`), false},
	{"comment inside", literalMailing("toset([\n  \"a\", # first\n  \"b\",\n])"), true},
	{"comments everywhere", literalMailing("toset([ # keys: \"é\", ]\n  \"a\" // Zoë\n  , # ü\r\n  \"b\", # /* */\n  # the end\n  ])"), true},
	{"a comment with a tab", literalMailing("toset([\n  \"a\", #\tx\n  \"b\",\n])"), false},
	{"a comment with a control character", literalMailing("toset([\n  \"a\", # \x01\n  \"b\",\n])"), false},
	{"a comment with broken UTF-8", literalMailing("toset([\n  \"a\", # \xff\n  \"b\",\n])"), false},
	{"a comment with a lone CR", literalMailing("toset([\n  \"a\", # x\ry\n  \"b\",\n])"), false},
	{"a comment to the end of the file", "mailing \"m\" {\n  for_each = toset([\"a\", # x", false},
	{"a slash", literalMailing("toset([\"a\" / \"b\"])"), false},
	{"block comment inside", literalMailing("toset([\"a\", /* x */ \"b\"])"), false},
	{"tab inside", literalMailing("toset([\n\t\"a\",\n])"), false},
	{"lone CR", literalMailing("toset([\"a\",\r\"b\"])"), false},
	{"missing comma", literalMailing(`toset(["a" "b"])`), false},
	{"missing comma across lines", literalMailing("toset([\"a\"\n\"b\"])"), false},
	{"two commas", literalMailing(`toset(["a",, "b"])`), false},
	{"leading comma", literalMailing(`toset([, "a"])`), false},
	{"empty list", literalMailing(`toset([])`), false},
	{"unterminated list", literalMailing(`toset(["a", "b"`), false},
	{"unterminated key", literalMailing(`toset(["a, "b"])`), false},
	{"in a local", "locals {\n  keys = toset([\"a\", \"b\"])\n}\n" + literalMailing("local.keys"), false},
	{"a local named for_each", "locals {\n  for_each = toset([\"a\", \"b\"])\n}\n" + literalMailing(`toset(["c"])`), false},
	{"variable default", "variable \"keys\" {\n  default = toset([\"a\"])\n}\n" + literalMailing("var.keys"), false},
	{"in parentheses", literalMailing(`(toset(["a", "b"]))`), false},
	{"indexed", literalMailing(`toset(["a", "b"][0])`), false},
	{"two arguments", literalMailing(`toset(["a"], ["b"])`), false},
	{"expanded", literalMailing(`toset(["a"]...)`), false},
	{"another name", "mailing \"m\" {\n  xfor_each = toset([\"a\"])\n}\n", false},
	{"a longer call", literalMailing(`settoset(["a"])`), false},
	{"in a heredoc", "mailing \"m\" {\n  body = <<EOT\nfor_each = toset([\"a\", \"b\"])\nEOT\n}\n", false},
	{"in a string", "mailing \"m\" {\n  x = \"for_each = toset([\\\"a\\\"])\"\n}\n", false},
	{"in a comment", "# for_each = toset([\"a\",\n\"b\"])\nmailing \"m\" {}\n", false},
	{"in a block comment", "/* for_each = toset([\"a\"]) */\nmailing \"m\" {}\n", false},
	{"in an interpolation", "mailing \"m\" {\n  for_each = \"${toset([\"a\"])}\"\n}\n", false},
	{"nested block", "mailing \"m\" {\n  document {\n    for_each = toset([\"a\"])\n  }\n}\n", false},
	{"top level", "for_each = toset([\"a\"])\n", false},
	{"syntax error after", literalMailing(`toset(["a", "b"])`) + "mailing \"n\" {\n  service = \"x\n}\n", false},
	{"syntax error before", "mailing \"n\" {\n  service = \"x\n}\n" + literalMailing(`toset(["a", "b"])`), false},
	{"unclosed block before", "locals {\n" + literalMailing(`toset(["a", "b"])`), false},
	{"a list then one of another shape", literalMailing(`toset(["a"])`) + strings.Replace(literalMailing(`toset(["b", local.x])`), `"m"`, `"n"`, 1), true},
}

// TestParseHCLAsHCL checks parseHCL against HCL's own parse of each of
// literalSources: the same file, node for node, and the same diagnostics.
func TestParseHCLAsHCL(t *testing.T) {
	for _, c := range literalSources {
		t.Run(c.name, func(t *testing.T) {
			if fast := checkParseHCL(t, []byte(c.src)); fast != c.fast {
				t.Errorf("parseHCL read the lists itself: %v, want %v", fast, c.fast)
			}
		})
	}
}

// checkParseHCL fails t when parseHCL(src) differs from HCL's parse in
// any way (nodes, values, ranges, bytes, diagnostics), and tells whether
// parseHCL read a list itself.
func checkParseHCL(t testing.TB, src []byte) (fast bool) {
	t.Helper()
	const name = "main.mail.hcl"
	orig := bytes.Clone(src)
	want, wantDiags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	got, gotDiags := parseHCL(src, name)
	if !bytes.Equal(src, orig) {
		t.Fatal("parseHCL changed its source")
	}
	if !reflect.DeepEqual(gotDiags, wantDiags) {
		t.Fatalf("diagnostics differ:\n  parseHCL: %v\n  HCL:      %v", gotDiags, wantDiags)
	}
	if !reflect.DeepEqual(got, want) {
		g, w := describeNodes(got), describeNodes(want)
		i := 0
		for i < min(len(g), len(w)) && g[i] == w[i] {
			i++
		}
		t.Fatalf("the files differ (%d and %d nodes), first at:\n  parseHCL: %s\n  HCL:      %s", len(g), len(w), at(g, i), at(w, i))
	}
	_, fast = parseLiteralTuples(src, name)
	return fast
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// describeNodes lists a file's syntax nodes with their ranges, sorted, to
// show a node where two parses part.
func describeNodes(f *hcl.File) []string {
	var out []string
	if f == nil {
		return nil
	}
	out = append(out, fmt.Sprintf("bytes %q", f.Bytes))
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return out
	}
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		s := fmt.Sprintf("%T %v", n, n.Range())
		if lit, ok := n.(*hclsyntax.LiteralValueExpr); ok {
			s += fmt.Sprintf(" %#v", lit.Val)
		}
		if tu, ok := n.(*hclsyntax.TupleConsExpr); ok {
			s += fmt.Sprintf(" open %v", tu.OpenRange)
		}
		out = append(out, s)
		return nil
	})
	// A body's attributes are a map, visited in any order.
	slices.Sort(out)
	return out
}

// FuzzParseHCL compares parseHCL with HCL's parse on any file, starting
// from literalSources.
func FuzzParseHCL(f *testing.F) {
	for _, c := range literalSources {
		f.Add([]byte(c.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkParseHCL(t, src)
	})
}

// FuzzParseHCLKeys compares them on generated lists: keys split from
// keys at ';', each element's separator chosen by the bytes of seps
// (space, line break, CR LF, a comma or not, indentation, a line comment
// of comment's text).
func FuzzParseHCLKeys(f *testing.F) {
	f.Add("c000001;c000000;c000001", []byte{0, 1, 2}, "")
	f.Add("a;b;a b;x-y", []byte{3, 4, 5, 6, 7}, "")
	f.Add("a;;b", []byte{8}, "")
	f.Add("é;$x;%y;a\\b", []byte{9, 10}, "")
	f.Add("one", []byte{}, "")
	f.Add("a;b;c", []byte{2 | 32, 18 | 64, 34}, "Zoë, \"x\" ]")
	f.Add("a;b", []byte{32, 64 | 8}, "\t\r\x00\xff")
	f.Fuzz(func(t *testing.T, keys string, seps []byte, comment string) {
		var b strings.Builder
		b.WriteString("toset([")
		for i, k := range strings.Split(keys, ";") {
			var sep byte
			if i < len(seps) {
				sep = seps[i]
			}
			b.WriteString([]string{"", " ", "\n", "\r\n", "\n    ", "  "}[int(sep&7)%6])
			fmt.Fprintf(&b, "%q", k)
			if sep&8 == 0 {
				b.WriteString(",")
			}
			if sep&32 != 0 {
				b.WriteString(" # " + comment + "\n")
			}
			if sep&64 != 0 {
				b.WriteString("// " + comment + "\r\n")
			}
			if sep&16 != 0 {
				b.WriteString("\n")
			}
		}
		b.WriteString("\n  ])")
		checkParseHCL(t, []byte(literalMailing(b.String())))
	})
}

// TestLoadLiteralTuplesAsWritten loads configurations with and without
// parseHCL's reading of the lists: the same letters, and the same
// diagnostics, printed with their file:line:col and source lines.
func TestLoadLiteralTuplesAsWritten(t *testing.T) {
	pdf := string(a4())
	keys := func(n int) string {
		var b strings.Builder
		b.WriteString("toset([\n")
		for i := range n {
			fmt.Fprintf(&b, "    \"k%03d\",\n", (i*7)%n)
		}
		b.WriteString("  ])")
		return b.String()
	}
	mailing := func(forEach, rest string) string {
		return sandboxProvider + "\nmailing \"m\" {\n  for_each = " + forEach + "\n  service  = \"Lettre verte\"\n" + rest + doc + "}\n"
	}
	configs := []struct {
		name, src string
		read      bool // whether parseHCL reads the list itself
	}{
		{"valid", mailing(keys(50), `  job_name = "j-${each.key}-${each.value}"`), true},
		{"duplicates", mailing(`toset(["b", "a", "b", "a"])`, ""), true},
		{"an error after", mailing(keys(20), `  job_name = "j-${local.missing}"`), true},
		{"an unknown argument", mailing(keys(20), "  colour = \"red\"\n"), true},
		{"an error on each key", mailing(keys(5), `  job_name = each.value.x`), true},
		{"a wrong key", mailing(`toset(["a", "b/c"])`, "  job_name = \"same\"\n"), true},
		{"a later block wrong", mailing(keys(10), "") + "\nmailing \"m\" {\n  service = \"x\"\n}\n", true},
		{"a syntax error later", mailing(keys(10), "") + "\noutput \"o\" {\n  value = \"x\n}\n", false},
		{"a non-literal element", mailing(`toset(["a", local.missing])`, ""), false},
		{"a tuple with comments", mailing("toset([\n  \"a\", # one\n  \"b\", // Zoë\n])", ""), true},
		{"a tuple with a block comment", mailing("toset([\n  \"a\", /* one */\n  \"b\",\n])", ""), false},
		{"in a local", "locals {\n  keys = toset([\"x\", \"y\"])\n}\n" + mailing("local.keys", ""), false},
		{"in a variable default", "variable \"keys\" {\n  type    = set(string)\n  default = toset([\"x\", \"y\"])\n}\n" + mailing("var.keys", ""), false},
	}
	for _, c := range configs {
		name, src := c.name, c.src
		t.Run(name, func(t *testing.T) {
			if _, read := parseLiteralTuples([]byte(src), "main.mail.hcl"); read != c.read {
				t.Errorf("parseHCL read the list itself: %v, want %v", read, c.read)
			}
			load := func(asWritten bool) string {
				dir := t.TempDir()
				writeFiles(t, dir, map[string]string{"main.mail.hcl": src, "a.pdf": pdf})
				cfg, diags := loadWith(dir, LoadOptions{}, func(l *loader) { l.noLiteralTuples = asWritten })
				var b strings.Builder
				cfg.WriteDiagnostics(&b, diags, false)
				for _, m := range cfg.Mailings {
					fmt.Fprintf(&b, "%s %s %s %v\n", m.Address, m.JobName, m.ContentHash, m.DeclRange)
				}
				return strings.ReplaceAll(b.String(), dir, "DIR")
			}
			fast, asWritten := load(false), load(true)
			if fast != asWritten {
				t.Errorf("loads differ:\n--- lists read by parseHCL:\n%s\n--- lists parsed by HCL:\n%s", fast, asWritten)
			}
			if name == "valid" && !strings.Contains(fast, `m["k049"]`) || strings.Count(fast, "\n") == 0 {
				t.Errorf("the load gave nothing to compare:\n%s", fast)
			}
		})
	}
}

// BenchmarkParseHCL100000 parses bench/gen's main.mail.hcl of 100,000
// literal keys, by parseHCL and by HCL alone.
func BenchmarkParseHCL100000(b *testing.B) {
	var keys strings.Builder
	keys.WriteString("toset([\n")
	for i := range 100000 {
		fmt.Fprintf(&keys, "    \"c%06d\",\n", i)
	}
	keys.WriteString("  ])")
	src := []byte(sandboxProvider + literalMailing(keys.String()))
	for _, c := range []struct {
		name  string
		parse func([]byte, string) (*hcl.File, hcl.Diagnostics)
	}{
		{"parseHCL", parseHCL},
		{"HCL", func(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
			return hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, diags := c.parse(src, "main.mail.hcl"); len(diags) > 0 {
					b.Fatal(diags)
				}
			}
		})
	}
}
