package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postform/postform/internal/pgtest"
)

// postform runs the command line in-process in dir and returns stdout,
// failing the test on a non-zero exit.
func postform(t *testing.T, dir string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--chdir", dir}, args...), strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("postform %v: exit %d\n%s%s", args, code, out.String(), errOut.String())
	}
	return out.String()
}

// A state moves local → pg → local with init --migrate-state and comes back
// the same, byte for byte; a changed backend block is refused until then.
func TestMigrateStateLocalPGLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	connStr := pgtest.Start(t)
	keepCwd(t)
	dir := t.TempDir()
	writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}})
	writeConfig := func(backend string) {
		hcl := backend + `
provider "nirva" {
  endpoint = "sandbox"
  login    = "demo@example.com"
  password = "demo"
}
mailing "a" {
  service = "Lettre simple"
  document {
    file = "a.pdf"
  }
}
`
		writeTestFile(t, filepath.Join(dir, "main.mail.hcl"), []byte(hcl))
	}
	writeConfig("")
	postform(t, dir, "apply", "--auto-approve")
	local := postform(t, dir, "state", "pull")

	writeConfig(fmt.Sprintf("postform {\n  backend \"pg\" {\n    conn_str    = %q\n    schema_name = \"migrated\"\n  }\n}\n", connStr))
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--chdir", dir, "plan"}, strings.NewReader(""), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "init --migrate-state") {
		t.Fatalf("a changed backend must be refused until migrated: exit %d\n%s", code, errOut.String())
	}
	postform(t, dir, "init", "--migrate-state")
	if got := postform(t, dir, "state", "pull"); got != local {
		t.Fatalf("the pg state differs from the local one:\n%s\nwant:\n%s", got, local)
	}
	if plan := postform(t, dir, "plan"); !strings.Contains(plan, "No changes.") {
		t.Fatalf("after migration the plan has changes:\n%s", plan)
	}

	// The plan refreshed the letter in pg: that is the state to bring back.
	inPG := postform(t, dir, "state", "pull")
	writeConfig("postform {\n  backend \"local\" {\n    path = \"back.state.json\"\n  }\n}\n")
	postform(t, dir, "init", "--migrate-state")
	back, err := os.ReadFile(filepath.Join(dir, "back.state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(back) != inPG {
		t.Fatalf("pg → local is not byte-for-byte equal:\n%s\nwant:\n%s", back, inPG)
	}
}

func TestStripPassword(t *testing.T) {
	tests := map[string]string{
		"postgres://alice:s3cret@db:5432/mail?sslmode=disable": "postgres://alice@db:5432/mail?sslmode=disable",
		"postgres://db/mail?password=s3cret&sslmode=require":   "postgres://db/mail?sslmode=require",
		"host=db user=alice password=s3cret dbname=mail":       "host=db user=alice  dbname=mail",
		`host=db password='a b\' c' dbname=mail`:               "host=db  dbname=mail",
	}
	for in, want := range tests {
		got := stripPassword(in)
		if got != want || strings.Contains(got, "s3cret") || strings.Contains(got, "b\\' c") {
			t.Errorf("stripPassword(%q) = %q, want %q", in, got, want)
		}
	}
}
