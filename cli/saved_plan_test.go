package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/reconcile"
)

// A saved plan edited after review and sealed again, as anyone with a
// sha256 tool can: every forgery is refused before anything is posted, and
// the reviewed plan still applies.
func TestForgedSavedPlansPostNothing(t *testing.T) {
	keepCwd(t)
	t.Setenv("POSTFORM_SANDBOX_TIME_SCALE", "100")
	dir := t.TempDir()
	writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}, "b.pdf": {"Globex", "1 avenue Foch", "75016 PARIS"}})
	hcl := `
provider "nirva" {
  endpoint = "sandbox"
  login    = "demo@example.com"
  password = "demo"
}
mailing "a" {
  service  = "Lettre simple"
  job_name = "a"
  document {
    file = "a.pdf"
  }
}
mailing "b" {
  service  = "Lettre simple"
  job_name = "b"
  document {
    file = "b.pdf"
  }
}
`
	writeTestFile(t, filepath.Join(dir, "main.mail.hcl"), []byte(hcl))
	postform(t, dir, "apply", "--auto-approve", "--target=mailing.b")
	postform(t, dir, "plan", "--out=review.plan")
	reviewed, err := os.ReadFile(filepath.Join(dir, "review.plan"))
	if err != nil {
		t.Fatal(err)
	}
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skip("no /etc/passwd to point a forged plan at")
	}
	passwdSum := sha256.Sum256(passwd)

	byAddr := func(d *reconcile.SavedPlan, addr string) *reconcile.SavedChange {
		for i := range d.Changes {
			if d.Changes[i].Address == addr {
				return &d.Changes[i]
			}
		}
		t.Fatalf("no change for %s", addr)
		return nil
	}
	tests := []struct {
		name string
		edit func(*reconcile.SavedPlan)
		want string
	}{
		{"an address twice", func(d *reconcile.SavedPlan) {
			d.Changes = append(d.Changes, *byAddr(d, "mailing.a"))
		}, "mailing.a: appears 2 times in the saved plan"},
		{"an address not in the configuration", func(d *reconcile.SavedPlan) {
			evil := *byAddr(d, "mailing.a")
			evil.Address, evil.JobName = "mailing.evil", "evil"
			d.Changes = append(d.Changes, evil)
		}, "mailing.evil: create in the saved plan, but it is not a change now"},
		{"a forged forget", func(d *reconcile.SavedPlan) {
			byAddr(d, "mailing.b").Action = reconcile.ActionForget
		}, `mailing.b: action "forget" in the saved plan, "no-op" now`},
		{"a forged replace", func(d *reconcile.SavedPlan) {
			byAddr(d, "mailing.b").Action = reconcile.ActionReplace
			d.Replace = []string{"mailing.b"}
		}, `this plan posts again (--replace) mailing.b: a saved plan cannot ask for that on its own`},
		{"/etc/passwd's bytes", func(d *reconcile.SavedPlan) {
			f := &byAddr(d, "mailing.a").Files[0]
			f.File, f.SHA256, f.Size = "/etc/passwd", hex.EncodeToString(passwdSum[:]), int64(len(passwd))
		}, `mailing.a: document 1 is "/etc/passwd" in the saved plan, "a.pdf" now`},
	}
	for _, tt := range tests {
		doc, err := reconcile.DecodeSavedPlan(reviewed)
		if err != nil {
			t.Fatal(err)
		}
		tt.edit(doc)
		forged, err := reconcile.EncodeSavedPlan(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "forged.plan"), forged, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"--chdir", dir, "apply", "forged.plan"}, strings.NewReader(""), &out, &errOut)
		if code != ExitError || !strings.Contains(errOut.String(), "refusing the saved plan, nothing was posted") || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant %q", tt.name, code, errOut.String(), tt.want)
		}
		if n := jobsIn(t, dir); n != 1 {
			t.Fatalf("%s: the platform holds %d jobs after a refused plan, want 1", tt.name, n)
		}
	}

	// The reviewed plan itself applies: a posted once, b untouched.
	if out := postform(t, dir, "apply", "review.plan"); !strings.Contains(out, "Apply complete: 1 posted.") {
		t.Fatalf("the reviewed plan: %s", out)
	}
	if n := jobsIn(t, dir); n != 2 {
		t.Fatalf("%d jobs, want 2", n)
	}
}

func jobsIn(t *testing.T, dir string) int {
	t.Helper()
	sb, err := sandbox.Open(sandbox.Options{Dir: filepath.Join(dir, ".postform", "sandbox")})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	return len(sb.Jobs())
}
