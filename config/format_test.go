package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/internal/diag"
)

func TestFormat(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{
			name: "aligns and indents",
			in:   "mailing \"a\" {\nservice = \"s\"\n  job_name=\"j\"\n document {\nfile = \"a.pdf\"\n}\n}\n",
			want: "mailing \"a\" {\n  service  = \"s\"\n  job_name = \"j\"\n  document {\n    file = \"a.pdf\"\n  }\n}\n",
		},
		{
			name: "already canonical",
			in:   "locals {\n  a = 1\n}\n",
			want: "locals {\n  a = 1\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Format([]byte(tt.in), "main.mail.hcl")
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			again, _ := Format(got, "main.mail.hcl")
			if string(again) != string(got) {
				t.Errorf("not idempotent:\n%s", again)
			}
		})
	}
	in := []byte("mailing \"a\" {\n")
	out, diags := Format(in, "main.mail.hcl")
	if hasCode(diags, diag.CodeSyntax) == nil || string(out) != string(in) {
		t.Errorf("syntax error: out %q, diags %v", out, diags)
	}
}

// TestFormatTestdata checks that every example and fixture is canonical.
func TestFormatTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.mail.hcl")
	more, _ := filepath.Glob("../examples/*/*.mail.hcl")
	for _, f := range append(files, more...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, diags := Format(src, f)
		if diags.HasErrors() {
			t.Errorf("%s: %v", f, diags)
			continue
		}
		if string(got) != string(src) {
			t.Errorf("%s is not formatted:\n%s", f, got)
		}
	}
}

func TestAddress(t *testing.T) {
	tests := []struct {
		name, key string
		hasKey    bool
		want      string
	}{
		{"reminder", "", false, "mailing.reminder"},
		{"reminder", "acme", true, `mailing.reminder["acme"]`},
		{"reminder", `a "b"\c`, true, `mailing.reminder["a \"b\"\\c"]`},
		{"reminder", "é\n", true, `mailing.reminder["é\n"]`},
		{"reminder", "", true, `mailing.reminder[""]`},
		// Longer than FormatAddress's buffer on the stack.
		{strings.Repeat("m", 100), strings.Repeat("k", 300), true, "mailing." + strings.Repeat("m", 100) + `["` + strings.Repeat("k", 300) + `"]`},
	}
	for _, tt := range tests {
		got := FormatAddress(tt.name, tt.key, tt.hasKey)
		if got != tt.want {
			t.Errorf("FormatAddress = %s, want %s", got, tt.want)
		}
		name, key, hasKey, err := ParseAddress(got)
		if err != nil || name != tt.name || key != tt.key || hasKey != tt.hasKey {
			t.Errorf("ParseAddress(%s) = %q %q %v %v", got, name, key, hasKey, err)
		}
	}
	for _, bad := range []string{"", "mailing.", "mailing.a[acme]", `mailing.a["x"`, "mailing.1a", `mailing.a b`} {
		if _, _, _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q): no error", bad)
		}
	}
}

func TestVersionAllowed(t *testing.T) {
	tests := []struct {
		version, constraint string
		want                bool
	}{
		{"0.1.0", ">= 0.1", true},
		{"0.1.0", "> 0.1", false},
		{"0.2.3", ">= 0.1, < 0.3", true},
		{"0.3.0", ">= 0.1, < 0.3", false},
		{"1.4.0", "~> 1.2", true},
		{"2.0.0", "~> 1.2", false},
		{"1.2.9", "~> 1.2.3", true},
		{"1.3.0", "~> 1.2.3", false},
		{"0.1.0", "0.1.0", true},
		{"0.1.0", "!= 0.1.0", false},
		{"dev", ">= 9", true},
		// A pre-release is not its release (SemVer, go-version): the
		// hand-written check read 0.1.0-rc1 as 0.1.0.
		{"v0.1.0-rc1", "= 0.1", false},
		{"0.1.0-rc1", ">= 0.1", false},
		{"0.1.0-rc1", ">= 0.1.0-rc1", true},
		{"0.1.0-rc2", "> 0.1.0-rc1", true},
		// A development build satisfies everything.
		{"0.1.0-dev", ">= 9", true},
	}
	for _, tt := range tests {
		got, err := versionAllowed(tt.version, tt.constraint)
		if err != nil || got != tt.want {
			t.Errorf("versionAllowed(%q, %q) = %v, %v; want %v", tt.version, tt.constraint, got, err, tt.want)
		}
	}
	if _, err := versionAllowed("0.1", ">= banana"); err == nil {
		t.Error("no error for a bad constraint")
	}
}

func TestInitFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range InitFiles() {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(name) == ".hcl" {
			if got, _ := Format(content, name); string(got) != string(content) {
				t.Errorf("%s is not formatted:\n%s", name, got)
			}
		}
	}
	writeFiles(t, dir, map[string]string{"letter.pdf": string(a4())})
	cfg := mustLoad(t, dir, LoadOptions{Version: "0.1.0"})
	if len(cfg.Mailings) != 1 || cfg.Provider.Endpoint != "sandbox" || cfg.Mailings[0].JobName != "welcome-first" {
		t.Fatalf("init config: %+v", cfg.Mailings)
	}
	if _, diags := cfg.EvalOutputs(nil); diags.HasErrors() {
		t.Fatal(diags)
	}
}

// A checkout's file can hold terminal escapes: the source line a diagnostic
// quotes shows them escaped, never raw.
func TestDiagnosticSourceLinesAreEscaped(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.mail.hcl": sandboxProvider + "mailing \"m\" { servce = \"x\" } # \x1b]0;pwned\x07\x1b[2J\n"})
	cfg, diags := Load(dir, LoadOptions{})
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	var b strings.Builder
	cfg.WriteDiagnostics(&b, diags, false)
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("raw control characters in:\n%q", out)
	}
	if !strings.Contains(out, `\x1b]0;pwned\x07`) {
		t.Fatalf("the source line is not shown escaped:\n%s", out)
	}
}
