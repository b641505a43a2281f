package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// TestForEachTosetMatchesTheSet checks the for_each = toset(LIST) fast path
// (tosetKeys) against cty's own set: the same expression in parentheses
// is not a function call at the top, so it takes the ordinary path. Both
// must give the same letters in the same order, with the same job names,
// and the same diagnostics when the list is not one the fast path takes.
func TestForEachTosetMatchesTheSet(t *testing.T) {
	pdf := string(a4())
	lists := []string{
		`["b", "a", "a", "c"]`,
		`[""]`,
		`["a", "", "a"]`,
		`["${"x"}", "y"]`,
		`["x${"y"}", "x"]`,
		`["a\nb", "tab\t", "q\"uote", "\u00e9", "e\u0301"]`,
		`["%{if true}a%{endif}", "b"]`,
		`["$${literal}", "%%{x}"]`,
		`["a", local.keys[0]]`,
		`["x"]`,
		`["Zoë", "zoe", "Zoe", "é", "e\u0301"]`, // NFC: é twice, as cty normalises
		`concat(["b"], ["a", "b"])`,
		`local.keys`,
		`var.keys`,
		`[for i in range(30) : format("k%02d", 29 - i)]`,
		`[]`,
		`[1, 2]`,
		`["a", 1]`,
		`["a", null]`,
		`null`,
		`"a"`,
		`var.secret_keys`,
		`[local.missing]`,
	}
	for _, list := range lists {
		t.Run(list, func(t *testing.T) {
			load := func(forEach string) ([]string, []string) {
				dir := t.TempDir()
				writeFiles(t, dir, map[string]string{
					"main.mail.hcl": `locals {
  keys = ["q", "p", "q"]
}
variable "keys" {
  type    = list(string)
  default = ["v2", "v1"]
}
variable "secret_keys" {
  type      = list(string)
  default   = ["s1"]
  sensitive = true
}
` + simple("for_each = "+forEach+"\njob_name = \"j-${each.key}-${each.value}\""+doc),
					"a.pdf": pdf,
				})
				cfg, diags := Load(dir, LoadOptions{})
				var got []string
				if cfg != nil {
					for _, m := range cfg.Mailings {
						got = append(got, m.Address+" "+m.JobName)
					}
				}
				var ds []string
				for _, d := range diags {
					if d.Severity == hcl.DiagError {
						ds = append(ds, fmt.Sprintf("%s %s: %s", diag.Code(d), d.Summary, d.Detail))
					}
				}
				return got, ds
			}
			fast, fastDiags := load("toset(" + list + ")")
			slow, slowDiags := load("(toset(" + list + "))")
			if !slices.Equal(fast, slow) {
				t.Errorf("letters differ:\n  toset:   %v\n  (toset): %v", fast, slow)
			}
			if !slices.Equal(fastDiags, slowDiags) {
				t.Errorf("diagnostics differ:\n  toset:   %s\n  (toset): %s", strings.Join(fastDiags, "\n    "), strings.Join(slowDiags, "\n    "))
			}
		})
	}
}
