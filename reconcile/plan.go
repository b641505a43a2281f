// Package reconcile is postform's engine: it refreshes what the platform
// knows into the state, compares the configuration with the state into a
// plan, and applies a plan so that each letter is posted exactly once.
//
// It knows nothing of cobra or of HCL syntax, and never prints: it returns
// plans and reports events; cli renders them.
package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// Action is what a plan does for one address.
type Action string

const (
	ActionCreate  Action = "create"  // post the letter
	ActionReplace Action = "replace" // post the letter AGAIN (--replace)
	ActionNoop    Action = "no-op"
	ActionForget  Action = "forget"  // stop tracking; nothing is unsent
	ActionBlocked Action = "blocked" // posted letter whose content changed
	ActionUpdate  Action = "update"  // edit a NOT_ELIGIBLE pack group
	// ActionScheduled is a letter to post whose send_after is still ahead:
	// this run does not post it, a later one will.
	ActionScheduled Action = "scheduled"
)

// Change is the plan for one address.
type Change struct {
	Address string
	Action  Action
	// Reason says why, in a sentence a reviewer reads.
	Reason string
	// Desired is the configured mailing (nil for forget).
	Desired *config.Mailing
	// Prior is the state record (nil when the address is new).
	Prior *state.Mailing
	// Edits are the pack group edits of an update.
	Edits []PackGroupEdit
}

// PackGroupEdit is one raw value to write into a NOT_ELIGIBLE pack group.
type PackGroupEdit struct {
	PackGroupID string         `json:"pack_group_id"`
	Raw         map[string]any `json:"raw"`
}

// Plan is the set of changes that apply would make, and the state it was
// made against.
type Plan struct {
	Changes     []*Change
	Diagnostics hcl.Diagnostics
	Lineage     string
	Serial      uint64
	// ConfigHash is ConfigHash of the configuration planned.
	ConfigHash string
	// MaxPosts is the posting limit in force, MaxPostsFrom where it comes
	// from (LimitDefault, LimitConfig, LimitFlag).
	MaxPosts     int
	MaxPostsFrom string
	// Estimate is the postage of the letters posted; nil without pricing.
	Estimate *Estimate
}

// Counts summarises a plan.
type Counts struct {
	Post, Forget, Blocked, Update, NoOp, Scheduled int
}

// Counts returns how many changes of each kind the plan holds.
func (p *Plan) Counts() Counts {
	var c Counts
	for _, ch := range p.Changes {
		switch ch.Action {
		case ActionCreate, ActionReplace:
			c.Post++
		case ActionForget:
			c.Forget++
		case ActionBlocked:
			c.Blocked++
		case ActionUpdate:
			c.Update++
		case ActionNoop:
			c.NoOp++
		case ActionScheduled:
			c.Scheduled++
		}
	}
	return c
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool {
	c := p.Counts()
	return c.Post+c.Forget+c.Update > 0
}

// PlanOptions tune a plan.
type PlanOptions struct {
	// Targets limit the plan to these addresses; "mailing.x" selects every
	// instance of mailing x.
	Targets []string
	// Excludes leave these addresses out of the plan, as Targets select
	// them (--exclude); combined with Targets, the targets minus these.
	Excludes []string
	// Replace names posted letters to post again.
	Replace []string
	// MaxPosts, when more than 0, is the posting limit instead of the
	// configuration's (--max-posts).
	MaxPosts int
	// Now is the clock send_after and post_by are read against (time.Now
	// when zero).
	Now time.Time
	// Profile, when known, lets the plan check each service name.
	Profile *nirva.Profile
	// NoConfigHash leaves Plan.ConfigHash empty, for a plan only a person
	// reads (the human view prints no hash): at 100,000 letters the hash
	// was the longer half of making the plan. A plan saved from it matches
	// no configuration, so apply refuses it (PlanFromSaved).
	NoConfigHash bool
}

// MakePlan compares the configuration with the state.
func MakePlan(cfg *config.Config, st *state.State, opts PlanOptions) *Plan {
	return makePlan(cfg, st, opts, addressesAscend(cfg.Mailings))
}

// addressesAscend reports whether ms are in strictly ascending order of
// address, as config.Load gives them: then no address is there twice.
func addressesAscend(ms []*config.Mailing) bool {
	for i := 1; i < len(ms); i++ {
		if ms[i-1].Address >= ms[i].Address {
			return false
		}
	}
	return true
}

// makePlan is MakePlan; ascending says cfg's mailings are in strictly
// ascending order of address (addressesAscend). Then a plan whose state
// holds no letter the configuration lacks needs no map of the configured
// addresses (a duplicate cannot be), and its changes, made in that order,
// need no sort: at 100,000 letters the map and the sort were most of
// MakePlan. A test compares it with ascending false, the general path.
func makePlan(cfg *config.Config, st *state.State, opts PlanOptions, ascending bool) *Plan {
	// The configuration's hash (an encoding of every mailing) is computed
	// on the other core while the plan is made: at 100,000 letters it is a
	// tenth of the plan. MakePlan reads cfg only, as ConfigHash does.
	p := &Plan{Lineage: st.Lineage, Serial: st.Serial}
	if !opts.NoConfigHash {
		hashed := make(chan string, 1)
		go func() { hashed <- ConfigHash(cfg) }()
		defer func() { p.ConfigHash = <-hashed }()
	}
	if st.Serial == 0 && len(st.Mailings) == 0 {
		// A state never written yet has a lineage that is not kept: a saved
		// plan pins "no state" instead.
		p.Lineage = ""
	}
	replace := map[string]bool{}
	for _, r := range opts.Replace {
		replace[r] = true
	}
	// desired is every configured mailing by address, the last of a
	// duplicate winning; made only when asked for.
	var desired map[string]*config.Mailing
	desiredMap := func() map[string]*config.Mailing {
		if desired == nil {
			desired = make(map[string]*config.Mailing, len(cfg.Mailings))
			for _, m := range cfg.Mailings {
				desired[m.Address] = m
			}
		}
		return desired
	}
	// tracked counts the state's letters the configuration has: when it is
	// all of them, no letter is gone or orphaned, and the state need not
	// be walked again for them. Mailings in strictly ascending order have
	// no duplicate, and are counted as they are planned.
	tracked := 0
	if !ascending {
		for addr := range desiredMap() {
			if _, ok := st.Mailings[addr]; ok {
				tracked++
			}
		}
	}
	var posting []*config.Mailing
	p.Changes = make([]*Change, 0, len(cfg.Mailings))
	// One allocation for every mailing's change rather than one each.
	slab := make([]Change, len(cfg.Mailings))
	for i, m := range cfg.Mailings {
		prior, inState := st.Mailings[m.Address]
		if ascending && inState {
			tracked++
		}
		if !selected(m.Address, opts) {
			continue
		}
		ch := &slab[i]
		planMailing(ch, m, prior, replace[m.Address])
		p.Diagnostics = append(p.Diagnostics, checkService(m, ch, opts.Profile)...)
		p.Diagnostics = append(p.Diagnostics, changeDiagnostics(ch)...)
		if ch.Action == ActionCreate || ch.Action == ActionReplace {
			// The address preflight blocks only the letters this plan posts.
			p.Diagnostics = append(p.Diagnostics, m.AddressProblems...)
			posting = append(posting, m)
		}
		p.Changes = append(p.Changes, ch)
	}
	p.Diagnostics = append(p.Diagnostics, config.MergeWarnings(posting)...)
	everyTracked := tracked == len(st.Mailings)
	var gone []string
	if !everyTracked {
		desired := desiredMap()
		gone = st.AddressesWhere(func(addr string, _ *state.Mailing) bool {
			_, ok := desired[addr]
			return !ok && selected(addr, opts)
		})
	}
	for _, addr := range gone {
		prior := st.Mailings[addr]
		reason := "no longer in the configuration: postform stops tracking it; nothing is unsent"
		if prior.Phase == state.PhasePending {
			reason = "no longer in the configuration, but its last posting attempt is unresolved: resolve it first"
			p.Diagnostics = append(p.Diagnostics, diag.NewDiag(diag.CodePendingJob, hcl.DiagError,
				"Unresolved posting attempt for a removed mailing",
				fmt.Sprintf("%s was being posted (job name %q) when a run stopped, and is no longer configured. Resolve it with `postform import %s JOB_ID` or `postform state resolve %s --not-posted` before forgetting it.", addr, prior.JobName, shellquote.Quote(addr), shellquote.Quote(addr)), nil))
			p.Changes = append(p.Changes, &Change{Address: addr, Action: ActionBlocked, Reason: reason, Prior: prior})
			continue
		}
		p.Changes = append(p.Changes, &Change{Address: addr, Action: ActionForget, Reason: reason, Prior: prior})
	}
	if !ascending || len(gone) > 0 {
		sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Address < p.Changes[j].Address })
	}
	if !everyTracked {
		p.Diagnostics = append(p.Diagnostics, movedLetters(p.Changes, orphans(st, desiredMap()), replace)...)
	}
	if len(opts.Targets)+len(opts.Excludes) > 0 {
		p.Diagnostics = append(p.Diagnostics, checkSelectors(opts, knownAddresses(cfg, st))...)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p.applySchedule(now)
	p.checkLimit(cfg, opts)
	p.estimate(cfg)
	for _, r := range opts.Replace {
		if _, ok := desiredMap()[r]; !ok {
			p.Diagnostics = append(p.Diagnostics, &hcl.Diagnostic{Severity: hcl.DiagError,
				Summary: "Unknown --replace address",
				Detail:  fmt.Sprintf("%s is not a mailing of this configuration; --replace takes the address of a configured mailing, as `postform state list` shows it.", r)})
		}
	}
	return p
}

// planMailing fills ch with the plan for configured mailing m.
func planMailing(ch *Change, m *config.Mailing, prior *state.Mailing, replace bool) {
	*ch = Change{Address: m.Address, Desired: m, Prior: prior}
	switch {
	case prior == nil:
		ch.Action, ch.Reason = ActionCreate, "new letter"
	case prior.Phase == state.PhasePending:
		ch.Action = ActionBlocked
		ch.Reason = "a posting attempt is unresolved (the run that posted it stopped before the platform answered)"
	case prior.Phase == state.PhaseNotPosted:
		ch.Action, ch.Reason = ActionCreate, "not posted yet: the earlier attempt was refused"
		if len(prior.Problems) > 0 && strings.HasPrefix(prior.Problems[0], ResolvedNotPosted) {
			ch.Reason = "not posted yet: " + prior.Problems[0]
		}
		if prior.ContentHash != m.ContentHash {
			ch.Reason += "; content changed since"
		}
	case replace:
		ch.Action = ActionReplace
		ch.Reason = fmt.Sprintf("--replace: will post AGAIN (job %s was posted on %s)", prior.JobID, prior.SubmittedAt.Format("2006-01-02"))
	case prior.ContentHash != m.ContentHash && !sameInputs(m, prior):
		ch.Action = ActionBlocked
		ch.Reason = fmt.Sprintf("already posted on %s (job %s): a posted letter cannot be changed", prior.SubmittedAt.Format("2006-01-02"), prior.JobID)
	default:
		ch.Action, ch.Reason = ActionNoop, "posted; up to date"
		if prior.ContentHash != m.ContentHash {
			ch.Reason = "posted; up to date (same letter inputs, rendered by this postform into other bytes)"
		}
		if edits, ok := fixEdits(m, prior); ok {
			ch.Action, ch.Edits = ActionUpdate, edits
			ch.Reason = "not eligible for posting: the configured fix will be written into the pack group"
		}
	}
}

// sameInputs reports whether a posted letter postform rendered is made of
// the inputs the configuration gives it now, whatever bytes this postform
// renders them into: then it is the same letter, nothing to post. A state
// written before input hashes were kept has none: the content hash decides.
func sameInputs(m *config.Mailing, prior *state.Mailing) bool {
	return prior.InputHash != "" && prior.InputHash == m.InputHash()
}

// fixEdits returns the pack group edits for a job stuck on NOT_ELIGIBLE
// when the configuration has a fix for it.
func fixEdits(m *config.Mailing, prior *state.Mailing) ([]PackGroupEdit, bool) {
	if len(m.Fix) == 0 {
		return nil, false
	}
	var edits []PackGroupEdit
	for _, pg := range prior.PackGroups {
		if pg.Status != nirva.PackGroupNotEligible {
			continue
		}
		raw := map[string]any{}
		for k, v := range pg.Raw {
			raw[k] = v
		}
		for k, v := range m.Fix {
			raw[k] = v
		}
		edits = append(edits, PackGroupEdit{PackGroupID: pg.ID, Raw: raw})
	}
	return edits, len(edits) > 0
}

// changeDiagnostics turns what a reviewer must act on into diagnostics at
// the mailing's block.
func changeDiagnostics(ch *Change) hcl.Diagnostics {
	m, prior := ch.Desired, ch.Prior
	var diags hcl.Diagnostics
	switch ch.Action {
	case ActionBlocked:
		if prior.Phase == state.PhasePending {
			diags = append(diags, diag.NewDiag(diag.CodePendingJob, hcl.DiagError,
				"Unresolved posting attempt",
				fmt.Sprintf("%s (job name %q) was being posted at %s when a run stopped, and the platform could not tell whether the job exists. If it was posted, adopt it with `postform import %s JOB_ID`; if you are sure it was not, run `postform state resolve %s --not-posted`.",
					m.Address, prior.JobName, prior.AttemptedAt.Format("2006-01-02 15:04:05"), shellquote.Quote(m.Address), shellquote.Quote(m.Address)),
				&m.DeclRange))
			break
		}
		diags = append(diags, diag.NewDiag(diag.CodeBlockedChange, hcl.DiagError,
			"Cannot change a letter that was already posted",
			fmt.Sprintf("%s was posted on %s (job %s). Since then: %s. A posted letter cannot be changed: revert the edit, or post a new letter with %s.",
				m.Address, prior.SubmittedAt.Format("2006-01-02 15:04"), prior.JobID, strings.Join(describeChange(m, prior), "; "), shellquote.Flag("replace", m.Address)),
			&m.DeclRange))
	case ActionNoop:
		if stuck := notEligible(prior); len(stuck) > 0 {
			diags = append(diags, diag.NewDiag(diag.CodeNotEligible, hcl.DiagError,
				"Letter not eligible for posting",
				fmt.Sprintf("%s (job %s) is held by the platform: %s. Add a fix = { address = [...] } to the mailing to correct its pack group, or fix the PDF and post it again with %s.",
					m.Address, prior.JobID, strings.Join(stuck, "; "), shellquote.Flag("replace", m.Address)),
				&m.DeclRange))
		}
		if prior.JobStatus == nirva.JobProcessingError {
			diags = append(diags, diag.NewDiag(diag.CodeJobFailed, hcl.DiagWarning,
				"Letter failed on the platform",
				fmt.Sprintf("%s (job %s) ended in PROCESSING_ERROR: the platform could not read its files. Nothing was posted. Correct the documents and post again with %s.",
					m.Address, prior.JobID, shellquote.Flag("replace", m.Address)),
				&m.DeclRange))
		}
	}
	return diags
}

func notEligible(m *state.Mailing) []string {
	var out []string
	for _, pg := range m.PackGroups {
		if pg.Status == nirva.PackGroupNotEligible {
			reasons := strings.Join(pg.Reasons, ", ")
			if reasons == "" {
				reasons = "no reason given"
			}
			out = append(out, fmt.Sprintf("pack group %s: %s", pg.ID, reasons))
		}
	}
	return out
}

// describeChange names what differs between a posted letter and its
// configuration: which document, with old and new sha256.
func describeChange(m *config.Mailing, prior *state.Mailing) []string {
	var out []string
	if m.Service != prior.Service {
		out = append(out, fmt.Sprintf("service changed from %q to %q", prior.Service, m.Service))
	}
	for i, d := range m.Documents {
		if i >= len(prior.Documents) {
			out = append(out, fmt.Sprintf("document %s was added", d.File))
			continue
		}
		old := prior.Documents[i]
		if old.SHA256 != d.SHA256 {
			out = append(out, fmt.Sprintf("document %s changed (sha256 %s → %s)", d.File, short(old.SHA256), short(d.SHA256)))
		} else if old.Box != d.Box {
			out = append(out, fmt.Sprintf("document %s moved from box %q to %q", d.File, old.Box, d.Box))
		}
	}
	for i := len(m.Documents); i < len(prior.Documents); i++ {
		out = append(out, fmt.Sprintf("document %s was removed", prior.Documents[i].File))
	}
	if !equalStringMaps(m.Options, prior.Options) {
		out = append(out, "options changed")
	}
	if m.Owner != prior.Owner {
		out = append(out, fmt.Sprintf("owner changed from %q to %q", prior.Owner, m.Owner))
	}
	if len(out) == 0 {
		out = append(out, "its content hash changed")
	}
	return out
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func equalStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// checkService reports a service the profile does not offer, for letters
// about to be posted.
func checkService(m *config.Mailing, ch *Change, profile *nirva.Profile) hcl.Diagnostics {
	if profile == nil || (ch.Action != ActionCreate && ch.Action != ActionReplace) {
		return nil
	}
	if _, ok := profile.FindService(m.Service); ok {
		return nil
	}
	return hcl.Diagnostics{diag.NewDiag(diag.CodeUnknownSvc, hcl.DiagError,
		"Unknown service",
		fmt.Sprintf("%s asks for service %q, which this account's profile does not offer. Available services: %s.",
			m.Address, m.Service, quoteList(profile.ServiceNames())),
		&m.DeclRange)}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// CheckOptions resolves the options of every letter the plan posts, so that
// an option name or value the platform does not offer is caught at plan
// time, at the mailing's block, rather than when posting.
func (p *Plan) CheckOptions(ctx context.Context, resolve func(context.Context, map[string]string) ([]nirva.OptionRef, error)) {
	for _, ch := range p.Changes {
		if (ch.Action != ActionCreate && ch.Action != ActionReplace) || len(ch.Desired.Options) == 0 {
			continue
		}
		if _, err := resolve(ctx, ch.Desired.Options); err != nil {
			p.Diagnostics = append(p.Diagnostics, diag.NewDiag(diag.CodeUnknownOption, hcl.DiagError,
				"Option not offered by the platform",
				fmt.Sprintf("%s: %v.", ch.Address, err), &ch.Desired.DeclRange))
		}
	}
}

// targeted reports whether addr is selected by --target (none = all).
func targeted(addr string, targets []string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if addr == t || strings.HasPrefix(addr, t+"[") {
			return true
		}
	}
	return false
}

// orphans are the state's letters whose address the configuration no
// longer has, whatever --target selects: posted or still pending, by
// content hash and input hash. Of several letters under one hash, the
// first by address is kept, whatever order the state's map walks in (a
// plan names the same one every time).
func orphans(st *state.State, desired map[string]*config.Mailing) map[string]*state.Mailing {
	out := map[string]*state.Mailing{}
	keep := func(hash string, m *state.Mailing) {
		if prev, ok := out[hash]; !ok || m.Address < prev.Address {
			out[hash] = m
		}
	}
	for addr, m := range st.Mailings {
		if _, ok := desired[addr]; ok {
			continue
		}
		if m.Phase == state.PhasePosted || m.Phase == state.PhasePending {
			keep(m.ContentHash, m)
			if m.InputHash != "" {
				keep(m.InputHash, m)
			}
		}
	}
	return out
}

// movedLetters refuses to post a letter identical (same content hash) to
// one the state holds at an address the configuration no longer has: that
// is a renamed mailing block or for_each key, and posting it would send the
// same letter twice. It looks at every such letter, not only those --target
// selects. The way out is `postform state mv`, or --replace on the new
// address to post it again.
func movedLetters(changes []*Change, orphaned map[string]*state.Mailing, replace map[string]bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, ch := range changes {
		if ch.Action != ActionCreate || replace[ch.Address] {
			continue
		}
		old, ok := orphaned[ch.Desired.ContentHash]
		if !ok {
			if in := ch.Desired.InputHash(); in != "" {
				old, ok = orphaned[in]
			}
		}
		if !ok {
			continue
		}
		ch.Action = ActionBlocked
		when := "posted on " + old.SubmittedAt.Format("2006-01-02") + " (job " + old.JobID + ")"
		if old.Phase == state.PhasePending {
			when = "being posted when a run stopped (unresolved)"
		}
		ch.Reason = fmt.Sprintf("the same letter is in the state as %s, %s: looks like a rename", old.Address, when)
		diags = append(diags, diag.NewDiag(diag.CodeMovedLetter, hcl.DiagError,
			"Same letter as one already posted",
			fmt.Sprintf("%s has exactly the content of %s, %s, an address the configuration no longer has. If you renamed the mailing or its key, move its state: `postform state mv %s %s`. To post it again on purpose, add %s.",
				ch.Address, old.Address, when, shellquote.Quote(old.Address), shellquote.Quote(ch.Address), shellquote.Flag("replace", ch.Address)),
			&ch.Desired.DeclRange))
	}
	return diags
}
