package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

const sandboxProvider = `
provider "nirva" {
  endpoint = "sandbox"
}
`

// simple is a valid one-mailing configuration around a body.
func simple(body string) string {
	return sandboxProvider + `
mailing "m" {
  service = "Lettre verte"
` + body + `
}
`
}

const doc = `
  document {
    file = "a.pdf"
  }
`

func TestLoadErrors(t *testing.T) {
	pdf := string(a4())
	tests := []struct {
		name     string
		files    map[string]string
		opts     LoadOptions
		code     string
		line     int    // expected subject line, 0: not checked
		detail   string // substring of the detail, "" not checked
		severity hcl.DiagnosticSeverity
	}{
		{
			name:  "syntax error",
			files: map[string]string{"main.mail.hcl": sandboxProvider + "\nmailing \"m\" {\n  service = \n}\n"},
			code:  diag.CodeSyntax, line: 7,
		},
		{
			name:  "unknown block",
			files: map[string]string{"main.mail.hcl": sandboxProvider + "mailng \"m\" {}\n"},
			code:  diag.CodeUnsupported, line: 5,
		},
		{
			name:  "unknown attribute",
			files: map[string]string{"main.mail.hcl": simple("servce = \"x\"" + doc), "a.pdf": pdf},
			code:  diag.CodeUnsupported, line: 8,
		},
		{
			name:  "proof name that is a path",
			files: map[string]string{"main.mail.hcl": simple(`proofs = ["CERTIF", "../../../../tmp/p"]` + doc), "a.pdf": pdf},
			code:  diag.CodeInvalidValue, line: 8, detail: "is not a proof name",
		},
		{
			name:  "missing service",
			files: map[string]string{"main.mail.hcl": sandboxProvider + "mailing \"m\" {" + doc + "}\n", "a.pdf": pdf},
			code:  diag.CodeMissingArgument,
		},
		{
			name:  "wrong type",
			files: map[string]string{"main.mail.hcl": simple("options = { printMode = [\"x\"] }" + doc), "a.pdf": pdf},
			code:  diag.CodeWrongType, line: 8,
		},
		{
			name: "missing required variable",
			files: map[string]string{"main.mail.hcl": sandboxProvider + `
variable "batch" {
  type = string
}
`},
			code: diag.CodeMissingVariable, line: 6, detail: "--var batch=",
		},
		{
			name:  "unknown variable flag",
			files: map[string]string{"main.mail.hcl": sandboxProvider},
			opts:  LoadOptions{Vars: []string{"nope=1"}},
			code:  diag.CodeUnknownVariable,
		},
		{
			name:  "malformed variable flag",
			files: map[string]string{"main.mail.hcl": sandboxProvider},
			opts:  LoadOptions{Vars: []string{"nope"}},
			code:  diag.CodeInvalidVariableFlag,
		},
		{
			name: "variable flag not an expression",
			files: map[string]string{"main.mail.hcl": sandboxProvider + `
variable "n" {
  type = list(string)
}
`},
			opts: LoadOptions{Vars: []string{"n=[a,"}},
			code: diag.CodeInvalidVariableFlag,
		},
		{
			name: "variable validation",
			files: map[string]string{"main.mail.hcl": sandboxProvider + `
variable "batch" {
  type = string
  validation {
    condition     = length(var.batch) == 7
    error_message = "The batch is YYYY-MM."
  }
}
`},
			opts: LoadOptions{Vars: []string{"batch=2026"}},
			code: diag.CodeVariableValidation, detail: "The batch is YYYY-MM.",
		},
		{
			name: "variable wrong type",
			files: map[string]string{"main.mail.hcl": sandboxProvider + `
variable "n" {
  type = number
}
`, "x.auto.vars.hcl": "n = \"many\"\n"},
			code: diag.CodeWrongType, line: 1,
		},
		{
			name: "non-nullable null",
			files: map[string]string{"main.mail.hcl": sandboxProvider + `
variable "n" {
  type     = string
  nullable = false
}
`, "x.auto.vars.hcl": "n = null\n"},
			code: diag.CodeInvalidValue,
		},
		{
			name:  "unknown function",
			files: map[string]string{"main.mail.hcl": simple("job_name = uper(\"x\")" + doc), "a.pdf": pdf},
			code:  diag.CodeUnknownFunction, line: 8,
		},
		{
			name:  "function error",
			files: map[string]string{"main.mail.hcl": simple("job_name = file(\"nope.txt\")" + doc), "a.pdf": pdf},
			code:  diag.CodeFunctionError, line: 8,
		},
		{
			name:  "undeclared variable",
			files: map[string]string{"main.mail.hcl": simple("job_name = var.nope" + doc), "a.pdf": pdf},
			code:  diag.CodeBadReference, line: 8,
		},
		{
			name:  "undeclared local suggests",
			files: map[string]string{"main.mail.hcl": "locals {\n  batch = 1\n}\n" + simple("job_name = \"x${local.bach}\""+doc), "a.pdf": pdf},
			code:  diag.CodeBadReference, detail: `Did you mean "batch"?`,
		},
		{
			name:  "each without for_each",
			files: map[string]string{"main.mail.hcl": simple("job_name = each.key" + doc), "a.pdf": pdf},
			code:  diag.CodeBadReference, detail: "for_each",
		},
		{
			name:  "mailing outside output",
			files: map[string]string{"main.mail.hcl": simple("job_name = mailing.m.job_id" + doc), "a.pdf": pdf},
			code:  diag.CodeBadReference,
		},
		{
			name:  "output refers to unknown mailing",
			files: map[string]string{"main.mail.hcl": simple(doc) + "output \"o\" {\n  value = mailing.n.job_id\n}\n", "a.pdf": pdf},
			code:  diag.CodeBadReference, detail: `Did you mean "m"?`,
		},
		{
			name:  "local cycle",
			files: map[string]string{"main.mail.hcl": "locals {\n  a = local.b\n  b = local.c\n  c = local.a\n}\n"},
			code:  diag.CodeCycle, detail: "local.a → local.b → local.c → local.a",
		},
		{
			name:  "duplicate local",
			files: map[string]string{"main.mail.hcl": "locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n"},
			code:  diag.CodeDuplicate, line: 5,
		},
		{
			name: "duplicate job name",
			files: map[string]string{"main.mail.hcl": sandboxProvider + `
mailing "a" {
  service  = "s"
  job_name = "same"
` + doc + `}
mailing "b" {
  service  = "s"
  job_name = "same"
` + doc + `}
`, "a.pdf": pdf},
			code: diag.CodeDuplicateJobName, line: 14, detail: "mailing.a and mailing.b",
		},
		{
			name: "duplicate job name across for_each",
			files: map[string]string{"main.mail.hcl": sandboxProvider + `
mailing "a" {
  for_each = toset(["x", "y"])
  service  = "s"
  job_name = "same"
` + doc + `}
`, "a.pdf": pdf},
			code: diag.CodeDuplicateJobName, detail: `mailing.a["x"] and mailing.a["y"]`,
		},
		{
			name:  "duplicate mailing",
			files: map[string]string{"main.mail.hcl": simple(doc), "b.mail.hcl": simple(doc), "a.pdf": pdf},
			code:  diag.CodeDuplicate,
		},
		{
			name:  "missing file",
			files: map[string]string{"main.mail.hcl": simple(doc)},
			code:  diag.CodeMissingFile, line: 10, detail: `"a.pdf"`,
		},
		{
			name:  "not a pdf",
			files: map[string]string{"main.mail.hcl": simple(doc), "a.pdf": "Dear customer,\n"},
			code:  diag.CodeNotPDF, line: 10,
		},
		{
			name:  "no pages",
			files: map[string]string{"main.mail.hcl": simple(doc), "a.pdf": string(makePDF(0, 595, 842))},
			code:  diag.CodeEmptyPDF,
		},
		{
			name:  "truncated",
			files: map[string]string{"main.mail.hcl": simple(doc), "a.pdf": pdf[:len(pdf)/2]},
			code:  diag.CodeBrokenPDF,
		},
		{
			name: "too large",
			files: map[string]string{"main.mail.hcl": `
provider "nirva" {
  endpoint      = "sandbox"
  max_file_size = 100
}
mailing "m" {
  service = "s"
` + doc + "}\n", "a.pdf": pdf},
			code: diag.CodePDFTooLarge,
		},
		{
			name:     "not A4 warns",
			files:    map[string]string{"main.mail.hcl": simple(doc), "a.pdf": string(makePDF(1, 612, 792))},
			code:     diag.CodePageSize,
			severity: hcl.DiagWarning,
		},
		{
			name:  "for_each list",
			files: map[string]string{"main.mail.hcl": simple("for_each = [\"a\", \"b\"]" + doc), "a.pdf": pdf},
			code:  diag.CodeBadForEach, line: 8, detail: "toset(",
		},
		{
			name:  "for_each null",
			files: map[string]string{"main.mail.hcl": simple("for_each = null" + doc), "a.pdf": pdf},
			code:  diag.CodeBadForEach,
		},
		{
			name:  "for_each set of numbers",
			files: map[string]string{"main.mail.hcl": simple("for_each = toset([1, 2])" + doc), "a.pdf": pdf},
			code:  diag.CodeBadForEach,
		},
		{
			name:  "no document",
			files: map[string]string{"main.mail.hcl": simple("")},
			code:  diag.CodeNoDocument, line: 6,
		},
		{
			name:  "no provider",
			files: map[string]string{"main.mail.hcl": "mailing \"m\" {\n  service = \"s\"\n" + doc + "}\n", "a.pdf": pdf},
			code:  diag.CodeMissingArgument,
		},
		{
			name:  "other provider",
			files: map[string]string{"main.mail.hcl": "provider \"aws\" {\n  endpoint = \"sandbox\"\n}\n"},
			code:  diag.CodeUnsupported,
		},
		{
			name:  "bad endpoint",
			files: map[string]string{"main.mail.hcl": "provider \"nirva\" {\n  endpoint = \"ftp://x\"\n}\n"},
			code:  diag.CodeInvalidEndpoint, line: 2,
		},
		{
			name:  "unknown backend",
			files: map[string]string{"main.mail.hcl": "postform {\n  backend \"s3\" {}\n}\n"},
			code:  diag.CodeUnsupported, line: 2,
		},
		{
			name:  "required_version",
			files: map[string]string{"main.mail.hcl": "postform {\n  required_version = \">= 1.2\"\n}\n"},
			opts:  LoadOptions{Version: "0.1.0"},
			code:  diag.CodeUnsupportedVersion, line: 2,
		},
		{
			name:  "empty job name",
			files: map[string]string{"main.mail.hcl": simple("job_name = \"\"" + doc), "a.pdf": pdf},
			code:  diag.CodeInvalidJobName,
		},
		{
			name:  "no configuration",
			files: map[string]string{"README.md": "hi"},
			code:  diag.CodeMissingArgument,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			cfg, diags := Load(dir, tt.opts)
			d := hasCode(diags, tt.code)
			var b strings.Builder
			cfg.WriteDiagnostics(&b, diags, false)
			if d == nil {
				t.Fatalf("no %s diagnostic; got %v:\n%s", tt.code, codes(diags), b.String())
			}
			wantSev := tt.severity
			if wantSev == hcl.DiagInvalid {
				wantSev = hcl.DiagError
			}
			if d.Severity != wantSev {
				t.Errorf("severity = %v, want %v", d.Severity, wantSev)
			}
			if wantSev == hcl.DiagWarning && diags.HasErrors() {
				t.Errorf("unexpected errors:\n%s", b.String())
			}
			if tt.line != 0 {
				if d.Subject == nil {
					t.Fatalf("no subject:\n%s", b.String())
				}
				if d.Subject.Start.Line != tt.line {
					t.Errorf("subject line = %d, want %d:\n%s", d.Subject.Start.Line, tt.line, b.String())
				}
			}
			if tt.detail != "" && !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", d.Detail, tt.detail)
			}
			if !strings.Contains(b.String(), "["+tt.code+"]") {
				t.Errorf("rendered diagnostics lack the code:\n%s", b.String())
			}
		})
	}
}

func TestLoadEncryptedPDF(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": simple(doc), "plain.pdf": string(a4())})
	encryptPDF(t, filepath.Join(dir, "plain.pdf"), filepath.Join(dir, "a.pdf"))
	_, diags := Load(dir, LoadOptions{})
	if hasCode(diags, diag.CodeEncryptedPDF) == nil {
		t.Fatalf("codes = %v, want %s", codes(diags), diag.CodeEncryptedPDF)
	}
}

func TestLoadNeverUsesMissingDir(t *testing.T) {
	cfg, diags := Load(filepath.Join(t.TempDir(), "nope"), LoadOptions{})
	if cfg == nil || !diags.HasErrors() {
		t.Fatalf("cfg = %v, diags = %v", cfg, diags)
	}
}

func TestWriteDiagnosticsShowsSource(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": sandboxProvider + `
mailing "a" {
  service  = "s"
  job_name = "same"
` + doc + `}
mailing "b" {
  service  = "s"
  job_name = "same"
` + doc + `}
`, "a.pdf": string(a4())})
	cfg, diags := Load(dir, LoadOptions{})
	var b strings.Builder
	cfg.WriteDiagnostics(&b, diags, false)
	out := b.String()
	for _, want := range []string{"Error: main.mail.hcl:14:1: [PF101] Duplicate job name", "on main.mail.hcl line 14", `mailing "b" {`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLoadDirectoryWithUnreadableVarFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": sandboxProvider})
	_, diags := Load(dir, LoadOptions{VarFiles: []string{"missing.vars.hcl"}})
	if !diags.HasErrors() {
		t.Fatal("no error for a missing --var-file")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.vars.hcl")); err == nil {
		t.Fatal("Load created the var file")
	}
}

// Without preflight a file that starts like a PDF is left for the platform
// to judge (apply --skip-preflight): it is hashed, not parsed. A file that
// is not a PDF at all is refused even then: it is never uploaded.
func TestSkipPreflightLeavesBrokenPDFToThePlatform(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": `
provider "nirva" {
  endpoint = "sandbox"
}
mailing "a" {
  service = "s"
  document {
    file = "a.pdf"
  }
}
`, "a.pdf": "%PDF-1.7\nnot really a PDF after all\n"})
	cfg, diags := Load(dir, LoadOptions{SkipPreflight: true})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	if len(cfg.Mailings) != 1 || len(cfg.Mailings[0].Documents[0].SHA256) != 64 {
		t.Fatalf("the file was not hashed: %+v", cfg.Mailings)
	}
	if _, diags := Load(dir, LoadOptions{}); hasCode(diags, diag.CodeBrokenPDF) == nil {
		t.Fatalf("with preflight, a broken PDF must be refused: %v", diags)
	}
	writeFiles(t, dir, map[string]string{"a.pdf": "Dear customer,\n"})
	if _, diags := Load(dir, LoadOptions{SkipPreflight: true}); hasCode(diags, diag.CodeNotPDF) == nil {
		t.Fatalf("without preflight, a file that is not a PDF must still be refused: %v", diags)
	}
}
