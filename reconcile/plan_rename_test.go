package reconcile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

// Of several letters the configuration no longer has with the content of
// a new one, the plan names the same one every time: the first by address,
// whatever order the state's map is walked in.
func TestRenameNamesOneLetterEveryTime(t *testing.T) {
	cfg, st := savedFixture()
	cfg.Mailings = []*config.Mailing{desired("mailing.new", fmt.Sprintf("%064x", 7))}
	st.Mailings = map[string]*state.Mailing{}
	for i := range 8 {
		addr := fmt.Sprintf("mailing.old[%d]", i)
		st.Mailings[addr] = posted(addr, fmt.Sprintf("%064x", 7))
	}
	for range 50 {
		p := MakePlan(cfg, st, PlanOptions{})
		ch := p.Changes[0]
		if ch.Address != "mailing.new" || ch.Action != ActionBlocked || !strings.Contains(ch.Reason, "as mailing.old[0],") {
			t.Fatalf("the renamed letter is planned as %s %s: %s", ch.Address, ch.Action, ch.Reason)
		}
	}
}
