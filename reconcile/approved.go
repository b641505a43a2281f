package reconcile

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrNotApproved wraps every refusal of apply --approved.
var ErrNotApproved = errors.New("the plan is not the one that was approved")

// CheckApproved compares the plan apply would carry out now with the plan
// a reviewer approved (typically on the pull request, before the merge):
// every letter that would be posted, forgotten or edited must be exactly one
// of the approved plan, and every letter the approved plan posts must still
// be posted — same address, action, job name, service, options, owner,
// documents (box, sha256, subject) and recipient, proofs, schedule, the value a fix
// writes and the job a forget or replace lets go of. The state the two plans were made
// against may differ (other merges, refreshes): what is compared is what
// would happen to each letter, not the state's serial.
//
// Both are saved plans (now is the plan made now, as plan --out would save
// it), so that the comparison never depends on the JSON view.
//
// It returns nil when they agree, else an error wrapping ErrNotApproved that
// names every difference.
func CheckApproved(approved, now *SavedPlan) error {
	want, wantDups := actionable(approved)
	got, _ := actionable(now)
	var diffs []string
	for _, a := range wantDups {
		diffs = append(diffs, fmt.Sprintf("%s: appears more than once in the approved plan", a))
	}
	for _, addr := range slices.Sorted(maps.Keys(got)) {
		g := got[addr]
		w, ok := want[addr]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: would %s now, but the approved plan does not", addr, verb(g.Action)))
			continue
		}
		diffs = append(diffs, compareChange(addr, w, g, "in the approved plan")...)
	}
	for _, addr := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[addr]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: the approved plan would %s it, but now there is nothing to do for it (done by another run, or no longer configured)", addr, verb(want[addr].Action)))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w (%d difference%s):\n  %s", ErrNotApproved, len(diffs), plural(len(diffs)), strings.Join(diffs, "\n  "))
}

// actionable indexes the changes that do something, by address.
func actionable(doc *SavedPlan) (map[string]*SavedChange, []string) {
	out := map[string]*SavedChange{}
	var dups []string
	for i := range doc.Changes {
		c := &doc.Changes[i]
		if c.Action == ActionNoop || c.Action == ActionBlocked {
			continue
		}
		if _, ok := out[c.Address]; ok {
			dups = append(dups, c.Address)
		}
		out[c.Address] = c
	}
	return out, dups
}

func verb(a Action) string {
	switch a {
	case ActionCreate:
		return "post"
	case ActionReplace:
		return "post again (replace)"
	case ActionForget:
		return "forget"
	case ActionUpdate:
		return "edit the pack group of"
	}
	return string(a)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// compareChange lists, each line led by addr, how one letter's change
// differs from the one reviewed (diffChange): the saved-plan check and
// apply --approved report alike.
func compareChange(addr string, w, g *SavedChange, then string) []string {
	var out []string
	for _, d := range diffChange(w, g, then) {
		out = append(out, addr+": "+d)
	}
	return out
}
