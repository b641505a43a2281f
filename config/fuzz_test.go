package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/internal/diag"
)

// TestDesignFixture loads testdata/design, the example of the design notes,
// with its letters generated.
func TestDesignFixture(t *testing.T) {
	dir := designFixtureDir(t)
	writeFiles(t, dir, map[string]string{"letters/acme.pdf": string(a4()), "letters/globex.pdf": string(a4())})
	cfg := mustLoad(t, dir, LoadOptions{Env: []string{"POSTFORM_VAR_login=me", "POSTFORM_VAR_password=secret"}, Version: "0.1.0"})
	if len(cfg.Mailings) != 2 || cfg.Provider.Password != "secret" || cfg.Mailings[0].Options["printMode"] != "2SIDE" || cfg.Mailings[1].Options["printMode"] != "1SIDE" {
		t.Fatalf("mailings = %+v, provider = %+v", cfg.Mailings, cfg.Provider)
	}
	if cfg.Mailings[0].Fix["address"].([]any)[2] != "75002 PARIS" {
		t.Errorf("fix = %v", cfg.Mailings[0].Fix)
	}
}

// FuzzLoad writes the input as main.mail.hcl next to a valid a.pdf and
// loads it: whatever the input, Load must return diagnostics, not panic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.mail.hcl")
	examples, _ := filepath.Glob("../examples/*/*.mail.hcl")
	for _, p := range append(seeds, examples...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		simple(doc),
		simple("for_each = toset([\"a\", \"b\"])\njob_name = \"j-${each.key}\"" + doc),
		simple("for_each = { x = 1 }\noptions = each.value" + doc),
		"locals {\n  a = local.a\n}\n",
		"variable \"v\" {\n  type = object({ a = optional(string, \"x\") })\n  default = {}\n}\n",
		"mailing \"m\" {\n  service = \"s\"\n  document {\n    file = \"a.pdf\"\n  }\n}\n",
		"output \"o\" {\n  value = try(mailing.m.x, templatefile(\"a.pdf\", {}))\n}\n",
		"mailing \"m\" {\n  service = \"${",
		"\xff\xfe{",
	} {
		f.Add(s)
	}
	pdf := a4()
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a.pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := Load(dir, LoadOptions{Vars: []string{}, Env: []string{"POSTFORM_VAR_v={}"}})
		if cfg == nil {
			t.Fatal("nil config")
		}
		if d := hasCode(diags, diag.CodeInternal); d != nil {
			t.Fatalf("internal error: %s", d.Detail)
		}
		var b strings.Builder
		cfg.WriteDiagnostics(&b, diags, true)
		if !diags.HasErrors() {
			_, _ = cfg.EvalOutputs(nil)
		}
		_, _ = Format([]byte(src), "main.mail.hcl")
	})
}
