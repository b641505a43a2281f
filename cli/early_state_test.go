package cli

import (
	"context"
	"fmt"
	"testing"

	"github.com/postform/postform/internal/pgtest"
)

// openForPlan opens a session of plan --refresh=false in the current
// directory, as runPlan does, and says whether its state was read beside
// the configuration's evaluation.
func openForPlan(t *testing.T) bool {
	t.Helper()
	sess, err := newTestIO().g.openSession(context.Background(), loadFlags{}, false, "plan", false, runFlags{parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.close()
	if len(sess.engine.State.Mailings) != 1 {
		t.Fatalf("the state has %d letters, want the 1 applied", len(sess.engine.State.Mailings))
	}
	return sess.readEarly
}

const earlyMailing = sandboxProvider + `
mailing "a" {
  service = "Lettre simple"
  document {
    file = "a.pdf"
  }
}
`

// The state is read while the configuration is evaluated whenever the
// backend the working directory recorded can be opened without it: a
// local file, or pg through PG_CONN_STR. A pg connection string written in
// the configuration is recorded without its password, so that backend is
// opened only once the configuration gave it.
func TestStateReadBesideTheConfiguration(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": earlyMailing})
		writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}})
		postform(t, dir, "apply", "--auto-approve")
		if !openForPlan(t) {
			t.Fatal("the local state was read after the configuration")
		}
	})
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	connStr := pgtest.Start(t)
	t.Run("pg from PG_CONN_STR", func(t *testing.T) {
		t.Setenv("PG_CONN_STR", connStr)
		dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": "postform {\n  backend \"pg\" {\n    schema_name = \"early_env\"\n  }\n}\n" + earlyMailing})
		writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}})
		postform(t, dir, "apply", "--auto-approve")
		if !openForPlan(t) {
			t.Fatal("the pg state reached through PG_CONN_STR was read after the configuration")
		}
	})
	t.Run("pg from conn_str", func(t *testing.T) {
		dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": fmt.Sprintf("postform {\n  backend \"pg\" {\n    conn_str    = %q\n    schema_name = \"early_conf\"\n  }\n}\n", connStr) + earlyMailing})
		writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}})
		postform(t, dir, "apply", "--auto-approve")
		if openForPlan(t) {
			t.Fatal("a pg backend whose connection string is in the configuration was opened before the configuration gave it")
		}
	})
}
