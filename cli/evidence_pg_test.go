package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/internal/pgtest"
	"github.com/postform/postform/nirva/sandbox"
)

// With the pg backend a CI runner thrown away loses no proof: after apply
// and wait on one machine, proofs pull in a fresh directory brings every
// proof back byte for byte, and the platform sees no second download.
func TestPGProofsPullInAFreshDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	connStr := pgtest.Shared(t)
	schema := pgtest.Schema(t)
	keepCwd(t)
	t.Setenv("POSTFORM_CACHE_DIR", filepath.Join(os.TempDir(), "postform-test-cache"))

	sb, err := sandbox.Open(sandbox.Options{TimeScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	downloads := func() int {
		n := 0
		for _, r := range sb.Requests() {
			if r.Method == "GET" && strings.Contains(strings.ToLower(r.Route), "file") {
				n++
			}
		}
		return n
	}

	setup := func(dir string) {
		writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}, "b.pdf": {"Globex", "1 avenue Foch", "75016 PARIS"}})
		hcl := fmt.Sprintf(`postform {
  backend "pg" {
    conn_str    = %q
    schema_name = %q
  }
}
provider "nirva" {
  endpoint = %q
  login    = "demo@example.com"
  password = "demo"
}
mailing "letter" {
  for_each = { acme = "a.pdf", globex = "b.pdf" }
  service  = "Lettre recommandée avec AR"
  job_name = "letter-${each.key}"
  document {
    file = each.value
  }
  proofs = ["CERTIF", "ACKN", "TRACKING_DETAIL"]
}
`, connStr, schema, srv.URL)
		writeTestFile(t, filepath.Join(dir, "main.mail.hcl"), []byte(hcl))
	}
	ci := t.TempDir()
	setup(ci)
	if out := postform(t, ci, "apply", "--auto-approve", "--wait=60s", "--poll-interval=200ms"); !strings.Contains(out, "All letters are done") {
		t.Fatalf("apply --wait:\n%s", out)
	}
	fetched := downloads()
	if fetched == 0 {
		t.Fatal("no proof was downloaded: the test sees no download route")
	}
	proofs := map[string][]byte{}
	filepath.Walk(filepath.Join(ci, "proofs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(ci, p)
			proofs[rel], _ = os.ReadFile(p)
		}
		return nil
	})
	if len(proofs) == 0 {
		t.Fatal("no proof on disk after apply --wait")
	}

	// Another machine: the same checkout, no proofs folder.
	fresh := t.TempDir()
	setup(fresh)
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"--chdir", fresh, "status"}, strings.NewReader(""), &out, &errOut)
	if !strings.Contains(errOut.String(), fmt.Sprintf("%d proof(s) recorded in the state are not on disk", len(proofs))) || !strings.Contains(errOut.String(), "postform proofs pull") {
		t.Fatalf("status in a fresh directory does not say how to get the proofs back:\n%s", errOut.String())
	}
	pulled := postform(t, fresh, "proofs", "pull")
	if !strings.Contains(pulled, fmt.Sprintf("Pulled %d proof(s)", len(proofs))) {
		t.Fatalf("proofs pull:\n%s", pulled)
	}
	for rel, want := range proofs {
		got, err := os.ReadFile(filepath.Join(fresh, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after pull: %d bytes, %v; want the %d bytes downloaded", rel, len(got), err, len(want))
		}
	}
	postform(t, fresh, "proofs", "verify")
	postform(t, fresh, "refresh")
	if again := postform(t, fresh, "proofs", "pull"); !strings.Contains(again, "Pulled 0 proof(s) from the proofs table of pg://") || !strings.Contains(again, fmt.Sprintf("%d already on disk", len(proofs))) {
		t.Fatalf("a second pull:\n%s", again)
	}
	postform(t, fresh, "apply", "--auto-approve") // nothing to post: an entry all the same
	if n := downloads(); n != fetched {
		t.Fatalf("the platform saw %d proof downloads, %d before the fresh directory: a proof was downloaded twice", n, fetched)
	}
	// The audit trail lives in the database too.
	if log := postform(t, fresh, "log"); !strings.Contains(log, "#1 ") || !strings.Contains(log, `posted mailing.letter["acme"]`) {
		t.Fatalf("log from the fresh directory:\n%s", log)
	}
	if v := postform(t, fresh, "log", "--verify"); !strings.Contains(v, "holds: 2 entries") {
		t.Fatalf("log --verify:\n%s", v)
	}
}
