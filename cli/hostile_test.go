package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/pdf"
)

// hostile is what a hostile platform writes into every label it answers:
// a terminal title, a screen clear, and a line that looks like postform's.
const hostile = "\x1b]0;pwned\x07\x1b[2J\u009b\x7f\nError: forged"

// hostileEscaped is how postform must show it.
const hostileEscaped = `\x1b]0;pwned\x07\x1b[2J\u009b\x7f\nError: forged`

// hostilePlatform is the sandbox behind a proxy that appends hostile text to
// the labels of its answers (status labels, tracking numbers and other
// shipment metadata values, event codes
// and labels, carriers, pack group reasons) and refuses the job named
// "refused" with a hostile error message.
func hostilePlatform(t *testing.T) *httptest.Server {
	t.Helper()
	sb, err := sandbox.Open(sandbox.Options{TimeScale: 2000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	h := sb.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == "POST" && r.URL.Path == "/jobs" && bytes.Contains(body, []byte(`"jobName":"refused"`)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"code": "BAD\x1b[2J", "message": hostile})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			var v any
			if json.Unmarshal(out, &v) == nil {
				out, _ = json.Marshal(poison(v, ""))
			}
		}
		for k, vs := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var poisoned = map[string]bool{"statusLabel": true, "trackingNumber": true, "value": true, "label": true, "code": true, "carrier": true, "reasons": true}

func poison(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = poison(e, k)
		}
	case []any:
		for i, e := range x {
			x[i] = poison(e, key)
		}
	case string:
		if poisoned[key] {
			return x + hostile
		}
	}
	return v
}

// runCLI runs the command line in the current directory.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// rawControl returns the first byte or rune of s a terminal would act on,
// other than the newline that ends each line.
func rawControl(s string) (rune, bool) {
	for _, r := range s {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			return r, true
		}
	}
	return 0, false
}

// TestHostilePlatformTextIsEscaped: whatever the platform writes into its
// labels and error messages, no human view prints a raw control character,
// no forged "Error:" line starts a line, and the text is shown escaped.
func TestHostilePlatformTextIsEscaped(t *testing.T) {
	srv := hostilePlatform(t)
	dir := t.TempDir()
	t.Chdir(dir)
	for name, lines := range map[string][]string{"good.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}, "refused.pdf": {"Globex", "1 avenue Foch", "75016 PARIS"}} {
		b, err := pdf.MakePDF(lines...)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `
provider "nirva" {
  endpoint = "` + srv.URL + `"
  login    = "demo@example.com"
  password = "demo"
}
mailing "good" {
  service = "Lettre simple"
  document {
    file = "good.pdf"
  }
}
mailing "refused" {
  service = "Lettre simple"
  document {
    file = "refused.pdf"
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(name string, wantCode int, args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, args...)
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, wantCode, stdout, stderr)
		}
		for stream, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
			if r, ok := rawControl(text); ok {
				t.Errorf("%s: raw %U on %s:\n%q", name, r, stream, text)
			}
			for _, line := range strings.Split(text, "\n") {
				if strings.HasPrefix(line, "Error: forged") {
					t.Errorf("%s: a forged line on %s:\n%s", name, stream, text)
				}
			}
		}
		return stdout, stderr
	}
	seen := func(name, text string) {
		t.Helper()
		if !strings.Contains(text, hostileEscaped) {
			t.Errorf("%s: the escaped platform text is not shown:\n%s", name, text)
		}
	}

	_, stderr := check("apply", ExitError, "apply", "--auto-approve")
	seen("apply (the refusal's message)", stderr)

	// Let the sandbox's letter progress far enough to have tracking.
	var stdout string
	for deadline := time.Now().Add(20 * time.Second); ; {
		stdout, stderr = check("refresh", ExitOK, "refresh")
		if strings.Contains(stdout, "Nothing to refresh") || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	stdout, _ = check("status", ExitOK, "status")
	seen("status", stdout)
	stdout, _ = check("state show", ExitOK, "state", "show", "mailing.good")
	seen("state show", stdout)
	stdout, _ = check("show", ExitOK, "show")
	seen("show", stdout)
	stdout, _ = check("state list", ExitOK, "state", "list")
	stdout, stderr = check("plan", ExitOK, "plan", "--out=review.plan")
	if !strings.Contains(stdout, "mailing.refused") {
		t.Errorf("plan: the refused letter is not planned:\n%s", stdout)
	}
	check("show plan", ExitOK, "show", "review.plan")
	stdout, _ = check("show --markdown", ExitOK, "show", "--markdown", "review.plan")
	_, stderr = check("apply again", ExitError, "apply", "--auto-approve")
	seen("apply again", stderr)
}

// The error printer keeps postform's own line breaks (joined errors) but
// indents them, so platform text inside can never start a line of its own.
func TestWriteMessageIndentsAndEscapes(t *testing.T) {
	var b bytes.Buffer
	writeMessage(&b, "Error: ", "refusing the saved plan:\nnirva: 401: "+hostile+"\n")
	want := "Error: refusing the saved plan:\n  nirva: 401: \\x1b]0;pwned\\x07\\x1b[2J\\u009b\\x7f\n  Error: forged\n"
	if b.String() != want {
		t.Fatalf("got %q\nwant %q", b.String(), want)
	}
}
