package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/internal/diag"
)

// TestLoadLanguage loads one configuration that uses every construct and
// checks what comes out.
func TestLoadLanguage(t *testing.T) {
	dir := t.TempDir()
	pdf := string(a4())
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": `
postform {
  required_version = ">= 0.1, < 2"
  backend "pg" {
    conn_str    = var.conn
    schema_name = "mail"
  }
}

provider "nirva" {
  endpoint                = "https://api.example.com"
  login                   = "me"
  max_requests_per_second = 2.5
}

variable "conn" {
  type      = string
  default   = "postgres://db/postform"
  sensitive = true
}

variable "customers" {
  type = map(object({
    letter = string
    duplex = optional(bool, false)
    tags   = optional(list(string), ["std"])
  }))
}

# Locals in reverse dependency order.
locals {
  job_prefix = "${local.kind}-${local.batch}"
  kind       = upper(local.base)
}
locals {
  base  = "reminder"
  batch = "2026-11"
}

mailing "reminder" {
  for_each = var.customers
  service  = "Lettre recommandée avec AR"
  job_name = "${local.job_prefix}-${each.key}"
  document {
    box  = "main"
    file = each.value.letter
  }
  document {
    file = "annex/terms.pdf"
  }
  options = { printMode = each.value.duplex ? "2SIDE" : "1SIDE", tag = join(",", each.value.tags) }
  owner   = "42"
  fix     = { address = ["ACME SAS", "12 rue de la Paix"], nested = { n = 1, ok = true } }
}

mailing "single" {
  service = "Lettre verte"
  proofs  = ["CERTIF"]
  document {
    file = "${path.module}/letters/acme.pdf"
  }
}

mailing "set" {
  for_each = toset(["b", "a"])
  service  = "Lettre verte"
  document {
    file = "letters/${each.value}.pdf"
  }
}

output "jobs" {
  value       = { for k, m in mailing.reminder : k => m.job_name }
  description = "job names"
}
`,
		"customers.auto.vars.hcl": `
customers = {
  acme   = { letter = "letters/acme.pdf", duplex = true }
  globex = { letter = "letters/globex.pdf", tags = ["vip", "eu"] }
}
`,
		"letters/acme.pdf":   pdf,
		"letters/globex.pdf": string(makePDF(2, 595, 842)),
		"letters/a.pdf":      pdf,
		"letters/b.pdf":      pdf,
		"annex/terms.pdf":    string(makePDF(3, 595, 842)),
	})
	cfg := mustLoad(t, dir, LoadOptions{Version: "0.1.0"})

	if cfg.RequiredVersion != ">= 0.1, < 2" {
		t.Errorf("RequiredVersion = %q", cfg.RequiredVersion)
	}
	if cfg.Backend.Type != "pg" || cfg.Backend.Attrs["conn_str"] != "postgres://db/postform" || cfg.Backend.Attrs["schema_name"] != "mail" {
		t.Errorf("Backend = %+v", cfg.Backend)
	}
	p := cfg.Provider
	if p.Endpoint != "https://api.example.com" || p.Login != "me" || p.MaxRequestsPerSecond != 2.5 || p.ProofsDir != "proofs" || p.MaxFileSize != 20<<20 {
		t.Errorf("Provider = %+v", p)
	}
	if !cfg.Variables["conn"].Sensitive {
		t.Error("conn is not sensitive")
	}

	var addrs []string
	byAddr := map[string]*Mailing{}
	for _, m := range cfg.Mailings {
		addrs = append(addrs, m.Address)
		byAddr[m.Address] = m
	}
	wantAddrs := []string{`mailing.reminder["acme"]`, `mailing.reminder["globex"]`, `mailing.set["a"]`, `mailing.set["b"]`, "mailing.single"}
	if !reflect.DeepEqual(addrs, wantAddrs) {
		t.Fatalf("addresses = %q, want %q", addrs, wantAddrs)
	}

	acme := byAddr[`mailing.reminder["acme"]`]
	if acme.Name != "reminder" || acme.Key != "acme" || !acme.HasKey {
		t.Errorf("acme name/key = %q %q %v", acme.Name, acme.Key, acme.HasKey)
	}
	if acme.JobName != "REMINDER-2026-11-acme" {
		t.Errorf("acme job name = %q", acme.JobName)
	}
	if !reflect.DeepEqual(acme.Options, map[string]string{"printMode": "2SIDE", "tag": "std"}) {
		t.Errorf("acme options = %v", acme.Options)
	}
	globex := byAddr[`mailing.reminder["globex"]`]
	if !reflect.DeepEqual(globex.Options, map[string]string{"printMode": "1SIDE", "tag": "vip,eu"}) {
		t.Errorf("globex options = %v (optional defaults not applied?)", globex.Options)
	}
	if acme.Owner != "42" || !reflect.DeepEqual(acme.Proofs, DefaultProofs) {
		t.Errorf("acme owner %q proofs %v", acme.Owner, acme.Proofs)
	}
	fix, _ := json.Marshal(acme.Fix)
	if string(fix) != `{"address":["ACME SAS","12 rue de la Paix"],"nested":{"n":1,"ok":true}}` {
		t.Errorf("fix = %s", fix)
	}
	if len(acme.Documents) != 2 || acme.Documents[0].Box != "main" || acme.Documents[1].Box != "" ||
		acme.Documents[0].Pages != 1 || acme.Documents[1].Pages != 3 || len(acme.Documents[0].SHA256) != 64 {
		t.Errorf("acme documents = %+v %+v", acme.Documents[0], acme.Documents[1])
	}
	if globex.Documents[0].Pages != 2 || globex.Documents[0].File != "letters/globex.pdf" || !strings.HasPrefix(globex.Documents[0].Path, dir) {
		t.Errorf("globex document = %+v", globex.Documents[0])
	}
	if acme.ContentHash == globex.ContentHash || len(acme.ContentHash) != 64 {
		t.Errorf("content hashes %q %q", acme.ContentHash, globex.ContentHash)
	}

	single := byAddr["mailing.single"]
	if single.JobName != "single" || single.HasKey || !reflect.DeepEqual(single.Proofs, []string{"CERTIF"}) {
		t.Errorf("single = %+v", single)
	}
	// Two mailings of the same file, service and options are the same letter.
	if single.ContentHash != byAddr[`mailing.set["a"]`].ContentHash {
		t.Error("same content, different hashes")
	}
	if byAddr[`mailing.set["a"]`].JobName != "set-a" {
		t.Errorf("default job name = %q, want set-a", byAddr[`mailing.set["a"]`].JobName)
	}

	outs, diags := cfg.EvalOutputs(nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := cty.ObjectVal(map[string]cty.Value{
		"acme":   cty.StringVal("REMINDER-2026-11-acme"),
		"globex": cty.StringVal("REMINDER-2026-11-globex"),
	})
	if !outs["jobs"].RawEquals(want) {
		t.Errorf("output jobs = %#v", outs["jobs"])
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": simple(doc), "a.pdf": string(a4())})
	cfg := mustLoad(t, dir, LoadOptions{Env: []string{"POSTFORM_LOGIN=env-login", "POSTFORM_PASSWORD=env-secret"}})
	if cfg.Backend.Type != "local" || cfg.Backend.Attrs["path"] != "postform.state.json" {
		t.Errorf("backend = %+v", cfg.Backend)
	}
	if cfg.Provider.Login != "env-login" || cfg.Provider.Password != "env-secret" {
		t.Errorf("login/password fallback: %q %q", cfg.Provider.Login, cfg.Provider.Password)
	}
	m := cfg.Mailings[0]
	if m.JobName != "m" || m.Address != "mailing.m" || len(m.Options) != 0 || m.Owner != "" || m.Fix != nil {
		t.Errorf("mailing = %+v", m)
	}
}

func TestVariablePrecedence(t *testing.T) {
	decl := `
variable "v" {
  type    = string
  default = "default"
}
variable "n" {
  type    = list(number)
  default = []
}
`
	tests := []struct {
		name  string
		files map[string]string
		opts  LoadOptions
		want  string
	}{
		{name: "default", want: "default"},
		{name: "env", opts: LoadOptions{Env: []string{"POSTFORM_VAR_v=env"}}, want: "env"},
		{name: "auto vars over env", files: map[string]string{"a.auto.vars.hcl": `v = "auto-a"`},
			opts: LoadOptions{Env: []string{"POSTFORM_VAR_v=env"}}, want: "auto-a"},
		{name: "auto vars alphabetical", files: map[string]string{"a.auto.vars.hcl": `v = "auto-a"`, "b.auto.vars.hcl": `v = "auto-b"`}, want: "auto-b"},
		{name: "var-file over auto", files: map[string]string{"a.auto.vars.hcl": `v = "auto-a"`, "x.vars.hcl": `v = "file-x"`},
			opts: LoadOptions{VarFiles: []string{"x.vars.hcl"}}, want: "file-x"},
		{name: "var-files in order", files: map[string]string{"x.vars.hcl": `v = "file-x"`, "y.json": `{"v": "file-y"}`},
			opts: LoadOptions{VarFiles: []string{"x.vars.hcl", "y.json"}}, want: "file-y"},
		{name: "--var over var-file", files: map[string]string{"x.vars.hcl": `v = "file-x"`},
			opts: LoadOptions{VarFiles: []string{"x.vars.hcl"}, Vars: []string{"v=flag1", "v=flag2"}}, want: "flag2"},
		{name: "--var value with = sign", opts: LoadOptions{Vars: []string{"v=a=b"}}, want: "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"main.mail.hcl": decl}
			for k, v := range tt.files {
				files[k] = v
			}
			writeFiles(t, dir, files)
			cfg := mustLoad(t, dir, tt.opts)
			if got := cfg.Variables["v"].Value; !got.RawEquals(cty.StringVal(tt.want)) {
				t.Errorf("v = %#v, want %q", got, tt.want)
			}
		})
	}

	t.Run("non-string flags are HCL", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"main.mail.hcl": decl})
		cfg := mustLoad(t, dir, LoadOptions{Vars: []string{"n=[1, 2]"}, Env: []string{"POSTFORM_VAR_n=[9]"}})
		if got := cfg.Variables["n"].Value; !got.RawEquals(cty.ListVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)})) {
			t.Errorf("n = %#v", got)
		}
	})
	t.Run("undeclared in a file warns", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"main.mail.hcl": decl, "a.auto.vars.hcl": "w = 1\n"})
		_, diags := Load(dir, LoadOptions{})
		if diags.HasErrors() || hasCode(diags, diag.CodeUnknownVariable) == nil {
			t.Errorf("diags = %v", diags)
		}
	})
}

func TestOptionalDefaults(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": `
variable "o" {
  type = object({
    name  = string
    pages = optional(number, 1)
    inner = optional(object({ x = optional(string, "dx") }), {})
    list  = optional(list(object({ y = optional(bool, true) })))
  })
  default = { name = "n", list = [{}, { y = false }] }
}
`})
	cfg := mustLoad(t, dir, LoadOptions{})
	v := cfg.Variables["o"].Value
	if got := v.GetAttr("pages"); !got.RawEquals(cty.NumberIntVal(1)) {
		t.Errorf("pages = %#v", got)
	}
	if got := v.GetAttr("inner").GetAttr("x"); !got.RawEquals(cty.StringVal("dx")) {
		t.Errorf("inner.x = %#v", got)
	}
	l := v.GetAttr("list")
	if !l.Index(cty.NumberIntVal(0)).GetAttr("y").True() || l.Index(cty.NumberIntVal(1)).GetAttr("y").True() {
		t.Errorf("list = %#v", l)
	}
}

func TestValidationPasses(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": `
variable "batch" {
  type = string
  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}$", var.batch))
    error_message = "The batch is YYYY-MM."
  }
}
`})
	mustLoad(t, dir, LoadOptions{Vars: []string{"batch=2026-11"}})
	_, diags := Load(dir, LoadOptions{Vars: []string{"batch=nov"}})
	if d := hasCode(diags, diag.CodeVariableValidation); d == nil || !strings.Contains(d.Detail, "--var batch") {
		t.Errorf("diags = %v", diags)
	}
}
