package reconcile

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/postform/postform/state"
)

// makePlan's path for mailings in ascending order of address (no map of
// the configured addresses, no sort) plans exactly as the general path
// does: the same changes in the same order, the same diagnostics in the
// same order, on configurations and states of every mix (new, posted,
// changed, pending, refused, gone, renamed letters; targets, excludes,
// replacements, some of them unknown).
func TestAscendingPlanIsTheGeneralOne(t *testing.T) {
	for seed := range uint64(300) {
		rnd := rand.New(rand.NewPCG(seed, 18))
		cfg, st := savedFixture()
		cfg.Mailings = cfg.Mailings[:0]
		st.Mailings = map[string]*state.Mailing{}
		n := rnd.IntN(40)
		var addrs []string
		for i := range n {
			addr := fmt.Sprintf("mailing.l[%q]", fmt.Sprintf("k%03d", i*(1+rnd.IntN(3))))
			if len(addrs) > 0 && addr <= addrs[len(addrs)-1] {
				continue
			}
			addrs = append(addrs, addr)
			m := desired(addr, fmt.Sprintf("%064x", rnd.IntN(n+1)))
			cfg.Mailings = append(cfg.Mailings, m)
			if rnd.IntN(4) == 0 {
				continue // new
			}
			prior := posted(addr, m.ContentHash)
			switch rnd.IntN(6) {
			case 0:
				prior.ContentHash = "changed" // blocked
			case 1:
				prior.Phase, prior.JobID = state.PhasePending, ""
			case 2:
				prior.Phase, prior.JobID = state.PhaseNotPosted, ""
			}
			st.Mailings[addr] = prior
		}
		// Letters the configuration no longer has: forgotten, pending, or
		// the same content as a new one (a rename).
		for i := range rnd.IntN(3) * rnd.IntN(4) {
			addr := fmt.Sprintf("mailing.gone[%d]", i)
			prior := posted(addr, fmt.Sprintf("%064x", rnd.IntN(n+1)))
			if rnd.IntN(3) == 0 {
				prior.Phase, prior.JobID = state.PhasePending, ""
			}
			st.Mailings[addr] = prior
		}
		pick := func() string {
			switch {
			case len(addrs) > 0 && rnd.IntN(3) > 0:
				return addrs[rnd.IntN(len(addrs))]
			case rnd.IntN(2) == 0:
				return "mailing.gone"
			}
			return "mailing.nowhere"
		}
		var opts PlanOptions
		for range rnd.IntN(3) / 2 * rnd.IntN(3) {
			opts.Targets = append(opts.Targets, pick())
		}
		for range rnd.IntN(3) / 2 * rnd.IntN(3) {
			opts.Excludes = append(opts.Excludes, pick())
		}
		for range rnd.IntN(3) / 2 * rnd.IntN(3) {
			opts.Replace = append(opts.Replace, pick())
		}
		if !addressesAscend(cfg.Mailings) {
			t.Fatalf("seed %d: the configuration made is not in ascending order", seed)
		}
		fast, general := makePlan(cfg, st, opts, true), makePlan(cfg, st, opts, false)
		f, err := json.Marshal(fast.Saved("test", opts))
		if err != nil {
			t.Fatal(err)
		}
		g, err := json.Marshal(general.Saved("test", opts))
		if err != nil {
			t.Fatal(err)
		}
		if string(f) != string(g) {
			t.Fatalf("seed %d, %+v: the ascending path plans\n%s\nthe general one\n%s", seed, opts, f, g)
		}
		for i := range fast.Changes {
			if a, b := fast.Changes[i], general.Changes[i]; a.Desired != b.Desired || a.Prior != b.Prior {
				t.Fatalf("seed %d: change %d (%s) holds other mailings than the general path's", seed, i, a.Address)
			}
		}
	}
}

// A configuration whose mailings are out of order, or name one address
// twice, takes the general path.
func TestAddressesAscend(t *testing.T) {
	for _, c := range []struct {
		addrs []string
		want  bool
	}{{nil, true}, {[]string{"a"}, true}, {[]string{"a", "b"}, true}, {[]string{"b", "a"}, false}, {[]string{"a", "a"}, false}, {[]string{"a", "c", "b"}, false}} {
		cfg, _ := savedFixture()
		cfg.Mailings = cfg.Mailings[:0]
		for _, a := range c.addrs {
			cfg.Mailings = append(cfg.Mailings, desired(a, "h"))
		}
		if got := addressesAscend(cfg.Mailings); got != c.want {
			t.Errorf("%q: addressesAscend %v, want %v", c.addrs, got, c.want)
		}
	}
}
