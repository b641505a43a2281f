package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests below drive commands in process, through their options struct
// and runXxx(ctx, opts), as cli/cli's tests do: no flag parsing, no
// subprocess; what a command prints and the exit code it returns.

// testIO is the globals of one in-process command: its output in buffers,
// an empty stdin that is no terminal.
type testIO struct {
	g              *globals
	stdout, stderr *bytes.Buffer
}

func newTestIO() testIO {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return testIO{g: &globals{stdin: strings.NewReader(""), stdout: out, stderr: errOut, interrupt: context.Background()}, stdout: out, stderr: errOut}
}

// exitCode is the code run() would exit with for err.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

// inTempWorkDir makes a temporary working directory holding files and
// moves into it for the test.
func inTempWorkDir(t *testing.T, files map[string]string) string {
	t.Helper()
	keepCwd(t)
	dir := t.TempDir()
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(dir, name), []byte(text))
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

const sandboxProvider = `provider "nirva" {
  endpoint = "sandbox"
}
`

const oneNotice = sandboxProvider + `
mailing "notice" {
  service  = "Lettre simple"
  job_name = "notice-acme"
  document {
    file = "letters/a.pdf"
  }
}
`

// writeLetter writes letters/a.pdf in dir, addressed to ACME.
func writeLetter(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "letters"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeLetters(t, dir, map[string][]string{"letters/a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}})
}

func TestRunVersionPrintsTheVersion(t *testing.T) {
	io := newTestIO()
	if err := runVersion(context.Background(), &versionOptions{g: io.g}); err != nil {
		t.Fatal(err)
	}
	if got, want := io.stdout.String(), "postform "+Version+"\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestRunValidateJSON(t *testing.T) {
	dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": oneNotice})
	writeLetter(t, dir)

	io := newTestIO()
	opts := &validateOptions{g: io.g, out: formatFlags{json: true}}
	if err := runValidate(context.Background(), opts); err != nil {
		t.Fatalf("runValidate: %v\nstderr: %s", err, io.stderr)
	}
	var doc validateDocument
	if err := json.Unmarshal(io.stdout.Bytes(), &doc); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s", err, io.stdout)
	}
	if !doc.Valid || doc.Letters != 1 || doc.ErrorCount != 0 {
		t.Errorf("valid configuration reported as %+v", doc)
	}

	// The letter's file is gone: not valid, exit 1, the diagnostic in the
	// document and nothing on stderr.
	if err := os.Remove(filepath.Join(dir, "letters/a.pdf")); err != nil {
		t.Fatal(err)
	}
	io = newTestIO()
	opts.g = io.g
	err := runValidate(context.Background(), opts)
	if code := exitCode(err); code != ExitError {
		t.Fatalf("exit code %d (%v), want %d", code, err, ExitError)
	}
	doc = validateDocument{}
	if err := json.Unmarshal(io.stdout.Bytes(), &doc); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s", err, io.stdout)
	}
	if doc.Valid || doc.ErrorCount == 0 || len(doc.Diagnostics) != doc.ErrorCount+doc.WarningCount {
		t.Errorf("missing document reported as %+v", doc)
	}
	if io.stderr.Len() != 0 {
		t.Errorf("--json wrote to stderr: %s", io.stderr)
	}
}

func TestRunFmtCheckWritesNothing(t *testing.T) {
	const messy = "provider \"nirva\" {\nendpoint=\"sandbox\"\n}\n"
	dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": messy})
	path := filepath.Join(dir, "main.mail.hcl")

	io := newTestIO()
	err := runFmt(context.Background(), &fmtOptions{g: io.g, check: true})
	if code := exitCode(err); code != ExitFmtDiff {
		t.Fatalf("fmt --check: exit code %d (%v), want %d", code, err, ExitFmtDiff)
	}
	if !strings.Contains(io.stdout.String(), "main.mail.hcl") {
		t.Errorf("fmt --check does not name the file: %q", io.stdout)
	}
	if b, _ := os.ReadFile(path); string(b) != messy {
		t.Errorf("fmt --check changed the file:\n%s", b)
	}

	io = newTestIO()
	if err := runFmt(context.Background(), &fmtOptions{g: io.g}); err != nil {
		t.Fatalf("fmt: %v", err)
	}
	b, _ := os.ReadFile(path)
	if string(b) == messy || !strings.Contains(string(b), `endpoint = "sandbox"`) {
		t.Errorf("fmt did not rewrite the file:\n%s", b)
	}
	if err := runFmt(context.Background(), &fmtOptions{g: newTestIO().g, check: true}); err != nil {
		t.Errorf("fmt --check after fmt: %v", err)
	}
}

// TestRunApplyThenStateCommands posts one letter to the in-process sandbox
// with runApply, then reads and edits the state with the state commands'
// run functions.
func TestRunApplyThenStateCommands(t *testing.T) {
	dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": oneNotice})
	writeLetter(t, dir)
	ctx := context.Background()

	io := newTestIO()
	apply := &applyOptions{g: io.g, autoApprove: true}
	apply.plan.refresh = true
	apply.plan.run.parallelism = 2
	if err := runApply(ctx, apply); err != nil {
		t.Fatalf("apply: %v\nstdout: %s\nstderr: %s", err, io.stdout, io.stderr)
	}
	if !strings.Contains(io.stdout.String(), "Apply complete: 1 posted.") {
		t.Errorf("apply output:\n%s", io.stdout)
	}

	io = newTestIO()
	if err := runStateList(ctx, &stateListOptions{g: io.g}); err != nil {
		t.Fatal(err)
	}
	if got := io.stdout.String(); got != "mailing.notice\n" {
		t.Errorf("state list = %q, want the posted letter", got)
	}

	// The letter is still declared: rm removes it and warns that the
	// next plan posts it again.
	io = newTestIO()
	if err := runStateRm(ctx, &stateRmOptions{g: io.g, addresses: []string{"mailing.notice"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(io.stderr.String(), "the next plan posts it again") {
		t.Errorf("state rm of a declared letter does not warn: %q", io.stderr)
	}
	io = newTestIO()
	if err := runStateList(ctx, &stateListOptions{g: io.g}); err != nil {
		t.Fatal(err)
	}
	if io.stdout.Len() != 0 {
		t.Errorf("state list after rm = %q, want nothing", io.stdout)
	}

	// An address the state does not hold is refused, naming where to look.
	err := runStateRm(ctx, &stateRmOptions{g: newTestIO().g, addresses: []string{"mailing.notice"}})
	if err == nil || !strings.Contains(err.Error(), "is not in the state") {
		t.Errorf("state rm of an unknown address: %v", err)
	}
}

func TestRunWorkspaceNewSelectsIt(t *testing.T) {
	inTempWorkDir(t, map[string]string{"main.mail.hcl": sandboxProvider})
	ctx := context.Background()
	if err := runWorkspaceNew(ctx, &workspaceOptions{g: newTestIO().g, name: "march"}); err != nil {
		t.Fatal(err)
	}
	io := newTestIO()
	if err := runWorkspaceList(ctx, &workspaceOptions{g: io.g}); err != nil {
		t.Fatal(err)
	}
	if got, want := io.stdout.String(), "  default\n* march\n"; got != want {
		t.Errorf("workspace list = %q, want %q", got, want)
	}
	err := runWorkspaceNew(ctx, &workspaceOptions{g: newTestIO().g, name: "march"})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second workspace new march: %v", err)
	}
}

func TestFormatFlagsRefuseTwoViews(t *testing.T) {
	if _, err := (formatFlags{json: true, markdown: true}).format(); err == nil {
		t.Error("--json with --markdown is accepted")
	}
	for f, want := range map[formatFlags]outputFormat{{}: formatHuman, {json: true}: formatJSON, {markdown: true}: formatMarkdown} {
		if got, err := f.format(); err != nil || got != want {
			t.Errorf("%+v.format() = %v, %v; want %v", f, got, err, want)
		}
	}
}
