package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// A plan only printed in the human view is made without the configuration
// hash, which it never shows; every other plan (saved, JSON, markdown,
// previewed, applied) has it.
func TestOnlyAHumanViewPlanSkipsTheConfigHash(t *testing.T) {
	dir := inTempWorkDir(t, map[string]string{"main.mail.hcl": earlyMailing})
	writeLetters(t, dir, map[string][]string{"a.pdf": {"ACME SAS", "12 rue de la Paix", "75002 PARIS"}})
	postform(t, dir, "apply", "--auto-approve")
	for _, viewOnly := range []bool{true, false} {
		sess, plan, err := newTestIO().g.preparePlan(context.Background(), "plan", planFlags{viewOnly: viewOnly, run: runFlags{parallelism: 1}})
		if err != nil {
			t.Fatal(err)
		}
		sess.close()
		if got := plan.ConfigHash; (got == "") != viewOnly || !viewOnly && len(got) != 64 {
			t.Errorf("viewOnly=%v: config hash %q", viewOnly, got)
		}
	}
	// The JSON view and a saved plan carry the hash, and the plan saved
	// applies.
	var doc struct {
		ConfigHash string `json:"config_hash"`
	}
	if err := json.Unmarshal([]byte(postform(t, dir, "plan", "--refresh=false", "--json")), &doc); err != nil || len(doc.ConfigHash) != 64 {
		t.Errorf("plan --json: config hash %q (%v)", doc.ConfigHash, err)
	}
	saved := filepath.Join(t.TempDir(), "p.plan")
	postform(t, dir, "plan", "--refresh=false", "--out", saved)
	if sp, err := readPlanFile(saved); err != nil || len(sp.ConfigHash) != 64 {
		t.Errorf("plan --out: config hash of %+v (%v)", sp, err)
	}
	postform(t, dir, "apply", saved)
}
