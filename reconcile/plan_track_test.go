package reconcile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

// FuzzMakePlanKeepsTrackOfEveryLetter checks, on configurations and
// states drawn from a few addresses and contents (duplicated addresses,
// renames, pending and refused letters), what the plan's shortcuts must
// never lose: every selected letter of the state the configuration lacks
// is forgotten or blocked, and no letter is created with the content of
// one posted or pending at an unconfigured address.
func FuzzMakePlanKeepsTrackOfEveryLetter(f *testing.F) {
	for _, seed := range []string{"", "a1A1", "a1A2", "a1b1A1", "a1a1A1B1", "a1B1", "a1c1A1B1C1", "b2a2A1c2", "a1a2B1x"} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	// Lower case letters are configured mailings, upper case the state's
	// (the digit after each is its content); x marks the state's last
	// letter pending, y refused.
	f.Fuzz(func(t *testing.T, spec string, target bool) {
		cfg, st := &config.Config{}, state.New("L1")
		st.Serial = 1
		var last *state.Mailing
		for i := 0; i+1 < len(spec); i += 2 {
			c, h := spec[i], fmt.Sprintf("h%c", spec[i+1])
			switch {
			case c >= 'a' && c <= 'e':
				m := desired(fmt.Sprintf("mailing.%c", c), h)
				m.Documents[0].SHA256 = strings.Repeat(h, 32) // a sha256's length
				cfg.Mailings = append(cfg.Mailings, m)
			case c >= 'A' && c <= 'E':
				last = posted(fmt.Sprintf("mailing.%c", c+'a'-'A'), h)
				st.Mailings[last.Address] = last
			case c == 'x' && last != nil:
				last.Phase, last.JobID = state.PhasePending, ""
			case c == 'y' && last != nil:
				last.Phase, last.JobID = state.PhaseNotPosted, ""
			}
		}
		var opts PlanOptions
		if target {
			opts.Targets = []string{"mailing.a", "mailing.b"}
		}
		p := MakePlan(cfg, st, opts)
		configured := map[string]bool{}
		for _, m := range cfg.Mailings {
			configured[m.Address] = true
		}
		planned := map[string]*Change{}
		for _, ch := range p.Changes {
			planned[ch.Address] = ch
		}
		for addr := range st.Mailings {
			if configured[addr] || !selected(addr, opts) {
				continue
			}
			if ch := planned[addr]; ch == nil || (ch.Action != ActionForget && ch.Action != ActionBlocked) {
				t.Fatalf("%q: %s is in the state only, and the plan does not forget or block it: %+v", spec, addr, ch)
			}
		}
		for _, ch := range p.Changes {
			if ch.Action != ActionCreate {
				continue
			}
			for addr, m := range st.Mailings {
				if !configured[addr] && m.Phase != state.PhaseNotPosted && m.ContentHash == ch.Desired.ContentHash {
					t.Fatalf("%q: %s is created with the content of %s, posted at an unconfigured address", spec, ch.Address, addr)
				}
			}
		}
	})
}
