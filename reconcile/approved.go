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
// documents (box, sha256) and recipient, proofs, schedule, the value a fix
// writes and the job a forget or replace lets go of. The state the two plans were made
// against may differ (other merges, refreshes): what is compared is what
// would happen to each letter, not the state's serial.
//
// It returns nil when they agree, else an error wrapping ErrNotApproved that
// names every difference.
func CheckApproved(approved, now *PlanDocument) error {
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
		diffs = append(diffs, compareChange(addr, w, g)...)
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
func actionable(doc *PlanDocument) (map[string]*PlanChange, []string) {
	out := map[string]*PlanChange{}
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

// compareChange lists how one letter's change differs from the approved one.
func compareChange(addr string, w, g *PlanChange) []string {
	var out []string
	diff := func(what, approved, now string) {
		if approved != now {
			out = append(out, fmt.Sprintf("%s: %s is %q now, %q when approved", addr, what, now, approved))
		}
	}
	diff("the action", string(w.Action), string(g.Action))
	diff("the job name", w.JobName, g.JobName)
	diff("the service", w.Service, g.Service)
	diff("the owner", w.Owner, g.Owner)
	diff("the content hash", w.ContentHash, g.ContentHash)
	diff("the options", canonJSON(w.Options), canonJSON(g.Options))
	diff("the proofs", canonJSON(w.Proofs), canonJSON(g.Proofs))
	// What an update writes into a pack group, and which job a forget or a
	// replace lets go of, are reviewed as much as what is posted.
	diff("the fix", canonJSON(w.Fix), canonJSON(g.Fix))
	diff("the pack-group edits", canonJSON(w.Edits), canonJSON(g.Edits))
	diff("the job already posted", w.PriorJobID, g.PriorJobID)
	diff("send_after", w.SendAfter, g.SendAfter)
	diff("post_by", w.PostBy, g.PostBy)
	diff("the address check", w.AddressCheck, g.AddressCheck)
	if len(w.Files) != len(g.Files) {
		out = append(out, fmt.Sprintf("%s: %d document(s) now, %d when approved", addr, len(g.Files), len(w.Files)))
		return out
	}
	for i := range w.Files {
		wf, gf := w.Files[i], g.Files[i]
		n := fmt.Sprintf("document %d", i+1)
		diff(n+"'s box", wf.Box, gf.Box)
		diff(n+"'s sha256", wf.SHA256, gf.SHA256)
		// Masked in the message (CI logs); compared in full.
		if wr, gr := recipientLines(wf.Recipient), recipientLines(gf.Recipient); wr != gr {
			out = append(out, fmt.Sprintf("%s: %s's recipient is %s now, %s when approved", addr, n, recipientText(gf.Recipient), recipientText(wf.Recipient)))
		}
	}
	return out
}

func recipientLines(r *PlanRecipient) string {
	if r == nil {
		return ""
	}
	return strings.Join(r.Lines, "\n")
}
