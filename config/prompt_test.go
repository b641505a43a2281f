package config

import (
	"testing"

	"github.com/postform/postform/internal/diag"
)

// TestPromptForMissingVariable: a required variable without a value is
// asked for (with whether it is sensitive), the answer is used like --var;
// no answer is PF010; an offline load defers a credential without asking.
func TestPromptForMissingVariable(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": `
variable "batch" {
  type        = string
  description = "The batch to post"
}
variable "password" {
  type      = string
  sensitive = true
}
provider "nirva" {
  endpoint = "sandbox"
  login    = "demo"
  password = var.password
}
locals {
  b = var.batch
}
`,
	})
	asked := map[string]bool{}
	answer := func(v *Variable) (string, bool) {
		asked[v.Name] = v.Sensitive
		if v.Name == "batch" {
			return "2026-03", true
		}
		return "s3cret", true
	}
	cfg := mustLoad(t, dir, LoadOptions{Prompt: answer})
	if got := cfg.Variables["batch"].Value.AsString(); got != "2026-03" {
		t.Errorf("batch = %q, want the answer", got)
	}
	if cfg.Provider.Password != "s3cret" {
		t.Errorf("password not taken from the prompt")
	}
	if sens, ok := asked["password"]; !ok || !sens {
		t.Errorf("password asked=%v sensitive=%v: the prompt must know it is sensitive (no echo)", ok, sens)
	}
	if asked["batch"] {
		t.Errorf("batch reported sensitive")
	}

	// No answer: PF010, as without a prompt.
	_, diags := Load(dir, LoadOptions{Prompt: func(*Variable) (string, bool) { return "", false }})
	if hasCode(diags, diag.CodeMissingVariable) == nil {
		t.Errorf("no answer: want PF010, got %v", codes(diags))
	}

	// Offline: the credential is deferred, never asked for; batch still is.
	clear(asked)
	cfg = mustLoad(t, dir, LoadOptions{Offline: true, Prompt: answer})
	if _, ok := asked["password"]; ok {
		t.Errorf("an offline load asked for the password")
	}
	if len(cfg.Provider.Deferred) != 1 || cfg.Provider.Deferred[0] != "password" {
		t.Errorf("Deferred = %v, want [password]", cfg.Provider.Deferred)
	}
}
