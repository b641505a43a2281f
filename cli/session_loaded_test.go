package cli

import (
	"context"
	"testing"
)

// Only a session under the lock, which may change the state (apply,
// refresh), keeps the state's jobs as they were for the audit trail; a
// read-only plan holds no copy of them.
func TestOnlyALockedSessionSnapshotsTheJobs(t *testing.T) {
	dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": earlyMailing})
	writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}})
	postform(t, dir, "apply", "--auto-approve")
	g := newTestIO().g
	for _, lock := range []bool{false, true} {
		sess, err := g.openSession(context.Background(), loadFlags{offline: !lock}, false, "plan", lock, runFlags{parallelism: 1})
		if err != nil {
			t.Fatal(err)
		}
		n := len(sess.loaded)
		sess.close()
		if want := map[bool]int{false: 0, true: 1}[lock]; n != want {
			t.Errorf("locked=%v: the session kept %d letters' jobs, want %d", lock, n, want)
		}
	}
}
