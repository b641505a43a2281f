package config

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// TestProviderEndpoint: the endpoint is checked where it is written, with
// the client's own rule; each refusal names what is wrong and what to do.
func TestProviderEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		code       string // "" = no diagnostic
		severity   hcl.DiagnosticSeverity
		detail     string
		line       int // of the diagnostic's subject; 0 = 2, the endpoint's
	}{
		{name: "sandbox", body: `endpoint = "sandbox"`},
		{name: "https", body: `endpoint = "https://api.example.com/nirva/"`},
		{name: "loopback v4", body: `endpoint = "http://127.0.0.1:8080"`},
		{name: "loopback v6", body: `endpoint = "http://[::1]:8080"`},
		{name: "localhost", body: `endpoint = "http://localhost:8080"`},
		{name: "remote http", body: `endpoint = "http://api.example.com"`, code: diag.CodeInsecureEndpoint, severity: hcl.DiagError,
			detail: `Endpoint "http://api.example.com" uses plain http to api.example.com, which would send the password in clear over the network: use https://, or set insecure = true in the provider block to accept that.`},
		{name: "remote http, insecure", body: "endpoint = \"http://10.1.2.3:80\"\n  insecure = true", code: diag.CodeInsecureEndpoint, severity: hcl.DiagWarning,
			detail: `The endpoint "http://10.1.2.3:80" uses plain http to 10.1.2.3: the password and every letter travel in clear over the network (insecure = true).`},
		{name: "insecure false", body: "endpoint = \"http://api.example.com\"\n  insecure = false", code: diag.CodeInsecureEndpoint, severity: hcl.DiagError},
		{name: "insecure not a bool", body: "endpoint = \"https://h\"\n  insecure = \"maybe\"", code: diag.CodeWrongType, severity: hcl.DiagError, line: 3},
		{name: "unclosed bracket", body: `endpoint = "http://[::1"`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError,
			detail: `Endpoint "http://[::1" is not a URL: missing ']' in host. The endpoint is the API's base URL, such as "https://api.example.com", or "sandbox" (the built-in simulator).`},
		{name: "query", body: `endpoint = "https://api.example.com/?tenant=1"`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError, detail: "has a query"},
		{name: "fragment", body: `endpoint = "https://api.example.com/#v2"`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError, detail: "has a fragment"},
		{name: "userinfo", body: `endpoint = "https://alice:pw@api.example.com"`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError, detail: "carries credentials"},
		{name: "no scheme", body: `endpoint = "api.example.com"`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError, detail: "must start with https://"},
		{name: "no host", body: `endpoint = "https:///v1"`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError, detail: "has no host"},
		{name: "empty", body: `endpoint = ""`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError},
		{name: "bad port", body: `endpoint = "https://h:99999"`, code: diag.CodeInvalidEndpoint, severity: hcl.DiagError, detail: "invalid port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"main.mail.hcl": "provider \"nirva\" {\n  " + tc.body + "\n}\n"})
			cfg, diags := Load(dir, LoadOptions{})
			var out strings.Builder
			cfg.WriteDiagnostics(&out, diags, false)
			if tc.code == "" {
				if len(diags) > 0 {
					t.Fatalf("unexpected diagnostics:\n%s", out.String())
				}
				return
			}
			if len(diags) != 1 {
				t.Fatalf("want one %s diagnostic, got %v:\n%s", tc.code, codes(diags), out.String())
			}
			d := diags[0]
			if diag.Code(d) != tc.code || d.Severity != tc.severity {
				t.Fatalf("got %s (severity %v), want %s (%v):\n%s", diag.Code(d), d.Severity, tc.code, tc.severity, out.String())
			}
			if tc.line == 0 {
				tc.line = 2
			}
			if d.Subject == nil || d.Subject.Start.Line != tc.line {
				t.Errorf("diagnostic does not point at line %d: %v", tc.line, d.Subject)
			}
			if tc.detail != "" && !strings.Contains(d.Detail, tc.detail) {
				t.Errorf("detail %q, want it to hold %q", d.Detail, tc.detail)
			}
		})
	}
}

func TestProviderMaxProofSize(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int64 // 0 = refused
	}{
		{"", 50 << 20},
		{"1", 1 << 20},
		{"200", 200 << 20},
		{"4096", 4096 << 20},
		{"0", 0},
		{"-5", 0},
		{"1.5", 0},
		{"4097", 0},
	} {
		body := "provider \"nirva\" {\n  endpoint = \"sandbox\"\n"
		if tc.value != "" {
			body += "  max_proof_size_mb = " + tc.value + "\n"
		}
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"main.mail.hcl": body + "}\n"})
		cfg, diags := Load(dir, LoadOptions{})
		if tc.want == 0 {
			d := hasCode(diags, diag.CodeInvalidValue)
			if d == nil || d.Subject.Start.Line != 3 || !strings.Contains(d.Detail, "whole number of MiB from 1 to 4096") {
				t.Errorf("max_proof_size_mb = %s: diagnostics %v", tc.value, diags)
			}
			continue
		}
		if diags.HasErrors() || cfg.Provider.MaxProofSize != tc.want {
			t.Errorf("max_proof_size_mb = %q: %d bytes, %v", tc.value, cfg.Provider.MaxProofSize, diags)
		}
	}
}
