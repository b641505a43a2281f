package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/state"
)

// SavedPlanFormatVersion is the version of the saved plan file (plan
// --out), which apply checks and re-derives before posting. It has its own
// types, apart from the JSON view (PlanDocument), so that a field added to
// or renamed in the view never changes what a saved plan holds. Version 2
// added config_hash and digest; version 3 the recipient of each letter,
// read from its address window. The view shares the number 3 by history
// only: each moves on its own.
const SavedPlanFormatVersion = 3

// SavedPlan is the saved plan file: what the plan was made against and
// with (state, targets, posting limit, configuration hash), every change as
// reviewed, and what show needs to render it again. It never holds a
// credential.
type SavedPlan struct {
	FormatVersion   int               `json:"format_version"`
	PostformVersion string            `json:"postform_version"`
	State           SavedState        `json:"state"`
	Targets         []string          `json:"targets,omitempty"`
	Excludes        []string          `json:"excludes,omitempty"`
	Replace         []string          `json:"replace,omitempty"`
	Changes         []SavedChange     `json:"changes"`
	Diagnostics     []SavedDiagnostic `json:"diagnostics"`
	Summary         SavedSummary      `json:"summary"`
	// ConfigHash is ConfigHash of the configuration the plan was made from.
	ConfigHash string `json:"config_hash"`
	// ReviewRecipients is the configuration's postform.review.recipients
	// when it is not "full": how show renders this plan by default.
	ReviewRecipients string `json:"review_recipients,omitempty"`
	// RecipientsShown is never set by plan --out. It is read so that a
	// masked view (plan --json --recipients=masked), which version 3 files
	// share the shape of, is refused with its own reason.
	RecipientsShown string `json:"recipients_shown,omitempty"`
	// Digest is the sha256 of the file's canonical JSON without the
	// digest: a saved plan edited after plan wrote it is refused.
	Digest string `json:"digest,omitempty"`
}

// SavedState pins the state a saved plan was made against.
type SavedState struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// SavedChange is one address of a saved plan.
type SavedChange struct {
	Address        string            `json:"address"`
	Action         Action            `json:"action"`
	Reason         string            `json:"reason"`
	ContentHash    string            `json:"content_hash,omitempty"`
	JobName        string            `json:"job_name,omitempty"`
	Service        string            `json:"service,omitempty"`
	Owner          string            `json:"owner,omitempty"`
	Options        map[string]string `json:"options,omitempty"`
	Proofs         []string          `json:"proofs,omitempty"`
	Fix            map[string]any    `json:"fix,omitempty"`
	Files          []SavedFile       `json:"files,omitempty"`
	AddressCheck   string            `json:"address_check,omitempty"`
	PriorJobID     string            `json:"prior_job_id,omitempty"`
	PriorRecipient *SavedRecipient   `json:"prior_recipient,omitempty"`
	Edits          []SavedEdit       `json:"edits,omitempty"`
	SendAfter      string            `json:"send_after,omitempty"`
	PostBy         string            `json:"post_by,omitempty"`
	DeclRange      *SavedRange       `json:"declared_at,omitempty"`
}

// SavedFile is one document of a letter in a saved plan.
type SavedFile struct {
	Box       string          `json:"box,omitempty"`
	File      string          `json:"file"`
	SHA256    string          `json:"sha256"`
	Size      int64           `json:"size"`
	Pages     int             `json:"pages"`
	RealPath  string          `json:"real_path,omitempty"`
	Recipient *SavedRecipient `json:"recipient,omitempty"`
	Subject   string          `json:"subject,omitempty"`
}

// SavedRecipient is a recipient as read from an address window, whole:
// apply reads the window again and compares.
type SavedRecipient struct {
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode,omitempty"`
	City     string   `json:"city,omitempty"`
	Country  string   `json:"country,omitempty"`
}

// SavedEdit is one raw value an update writes into a pack group.
type SavedEdit struct {
	PackGroupID string         `json:"pack_group_id"`
	Raw         map[string]any `json:"raw"`
}

// SavedDiagnostic is a diagnostic of the plan, for show.
type SavedDiagnostic struct {
	Severity string      `json:"severity"`
	Code     string      `json:"code,omitempty"`
	Summary  string      `json:"summary"`
	Detail   string      `json:"detail,omitempty"`
	Range    *SavedRange `json:"range,omitempty"`
}

// SavedRange is a source position.
type SavedRange struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// SavedSummary counts the changes and keeps the posting limit in force.
type SavedSummary struct {
	Post             int           `json:"post"`
	Forget           int           `json:"forget"`
	Blocked          int           `json:"blocked"`
	Update           int           `json:"update"`
	NoOp             int           `json:"no_op"`
	Errors           int           `json:"errors"`
	Scheduled        int           `json:"scheduled"`
	MaxPosts         int           `json:"max_posts"`
	MaxPostsFrom     string        `json:"max_posts_from"`
	EstimatedPostage *SavedPostage `json:"estimated_postage"`
}

// SavedPostage is the estimated postage of the letters the plan posts.
type SavedPostage struct {
	Currency string                `json:"currency"`
	Total    float64               `json:"total"`
	Services []SavedServicePostage `json:"services"`
}

// SavedServicePostage is one service's share of the postage.
type SavedServicePostage struct {
	Service       string  `json:"service"`
	Letters       int     `json:"letters"`
	Price         float64 `json:"price"`
	ExtraSheets   int     `json:"extra_sheets"`
	PerExtraSheet float64 `json:"per_extra_sheet"`
	Total         float64 `json:"total"`
}

// Saved is the plan as plan --out saves it.
func (p *Plan) Saved(version string, opts PlanOptions) *SavedPlan {
	sp := p.savedHead(version, opts)
	sp.Changes = make([]SavedChange, 0, len(p.Changes))
	for _, ch := range p.Changes {
		sp.Changes = append(sp.Changes, savedChange(ch))
	}
	return sp
}

// Brief is the plan's JSON view without its no-op changes, which the
// summary still counts: all the human view prints of them. At 100,000
// posted letters, the documents of the no-ops were most of a plan's cost.
// A masked or hidden view of it is ViewBrief's.
func (p *Plan) Brief(version string, opts PlanOptions) *PlanDocument {
	return p.document(version, opts, false)
}

// document is the view of the plan as saved, leaving the no-op changes
// out unless noops. Each change is saved and viewed in turn, by the
// conversions Saved and SavedPlan.Document make: the view is the saved
// plan's, without a whole saved plan held beside it.
func (p *Plan) document(version string, opts PlanOptions, noops bool) *PlanDocument {
	doc := p.savedHead(version, opts).Document()
	if noops {
		doc.Changes = make([]PlanChange, 0, len(p.Changes))
	}
	for _, ch := range p.Changes {
		if !noops && ch.Action == ActionNoop {
			continue
		}
		sc := savedChange(ch)
		doc.Changes = append(doc.Changes, sc.view())
	}
	return doc
}

// ViewBrief is brief, p's Brief, as the view shows it under mode
// (PlanDocument.View). Masked or hidden, its Redact masks the recipients of
// every change of p, a no-op's too, as the whole document's view does: a
// diagnostic about a no-op letter may quote its address.
func (p *Plan) ViewBrief(brief *PlanDocument, mode string) *PlanDocument {
	v := brief.View(mode)
	if v != brief {
		v.redact = redactor(&PlanDocument{Changes: []PlanChange{{Files: p.recipientFiles()}}}, mode)
	}
	return v
}

// recipientFiles are the recipients every change of the saved plan and
// its document would hold, each as a file of one change: all a redactor
// reads of them.
func (p *Plan) recipientFiles() []PlanFile {
	var files []PlanFile
	add := func(lines []string) {
		if len(lines) > 0 {
			files = append(files, PlanFile{Recipient: &PlanRecipient{Lines: lines}})
		}
	}
	for _, ch := range p.Changes {
		if ch.Prior != nil && ch.Prior.Recipient != nil && priorRecipientShown(ch.Action) {
			add(ch.Prior.Recipient.Lines)
		}
		if ch.Desired != nil {
			for _, d := range ch.Desired.Documents {
				if d.Recipient != nil {
					add(d.Recipient.Lines)
				}
			}
		}
	}
	return files
}

// priorRecipientShown reports whether a change of action shows the
// recipient of the letter already posted.
func priorRecipientShown(a Action) bool {
	switch a {
	case ActionBlocked, ActionReplace, ActionForget:
		return true
	}
	return false
}

// savedHead is the saved plan without its changes: what it was made
// against and with, its diagnostics and its summary.
func (p *Plan) savedHead(version string, opts PlanOptions) *SavedPlan {
	sp := &SavedPlan{FormatVersion: SavedPlanFormatVersion, PostformVersion: version,
		State: SavedState{Lineage: p.Lineage, Serial: p.Serial}, Targets: opts.Targets, Excludes: opts.Excludes, Replace: opts.Replace,
		Changes: []SavedChange{}, Diagnostics: []SavedDiagnostic{}, ConfigHash: p.ConfigHash}
	for _, d := range p.Diagnostics {
		sp.Diagnostics = append(sp.Diagnostics, savedDiagnostic(d))
		if d.Severity == hcl.DiagError {
			sp.Summary.Errors++
		}
	}
	c := p.Counts()
	sp.Summary.Post, sp.Summary.Forget, sp.Summary.Blocked, sp.Summary.Update, sp.Summary.NoOp = c.Post, c.Forget, c.Blocked, c.Update, c.NoOp
	sp.Summary.Scheduled, sp.Summary.MaxPosts, sp.Summary.MaxPostsFrom = c.Scheduled, p.MaxPosts, p.MaxPostsFrom
	if e := p.Estimate; e != nil {
		pp := &SavedPostage{Currency: e.Currency, Total: float64(e.Total) / 100, Services: []SavedServicePostage{}}
		for _, s := range e.Services {
			pp.Services = append(pp.Services, SavedServicePostage{Service: s.Service, Letters: s.Letters, Price: s.Price,
				ExtraSheets: s.ExtraSheets, PerExtraSheet: s.PerExtraSheet, Total: float64(s.Total) / 100})
		}
		sp.Summary.EstimatedPostage = pp
	}
	return sp
}

// savedChange is one change as the saved plan keeps it.
func savedChange(ch *Change) SavedChange {
	sc := SavedChange{Address: ch.Address, Action: ch.Action, Reason: ch.Reason}
	for _, e := range ch.Edits {
		sc.Edits = append(sc.Edits, SavedEdit(e))
	}
	if ch.Prior != nil {
		sc.PriorJobID = ch.Prior.JobID
		if priorRecipientShown(ch.Action) {
			sc.PriorRecipient = stateRecipient(ch.Prior.Recipient)
		}
	}
	if m := ch.Desired; m != nil {
		sc.ContentHash, sc.JobName, sc.Service, sc.Owner = m.ContentHash, m.JobName, m.Service, m.Owner
		sc.Options, sc.Proofs, sc.Fix = m.Options, m.Proofs, m.Fix
		sc.AddressCheck = m.AddressCheck
		if t := m.Schedule.SendAfter; !t.IsZero() {
			sc.SendAfter = t.Format(time.RFC3339)
		}
		if t := m.Schedule.PostBy; !t.IsZero() {
			sc.PostBy = t.Format(time.RFC3339)
		}
		for _, d := range m.Documents {
			sc.Files = append(sc.Files, SavedFile{Box: d.Box, File: d.File, SHA256: d.SHA256, Size: d.Size, Pages: d.Pages,
				RealPath: d.RealPath, Recipient: configRecipient(d.Recipient), Subject: d.Subject()})
		}
		sc.DeclRange = savedRange(&m.DeclRange)
	} else if ch.Prior != nil {
		sc.ContentHash, sc.JobName, sc.Service = ch.Prior.ContentHash, ch.Prior.JobName, ch.Prior.Service
	}
	return sc
}

// configRecipient is the saved plan's copy of a recipient read for a
// document.
func configRecipient(r *config.Recipient) *SavedRecipient {
	if r == nil {
		return nil
	}
	return &SavedRecipient{Lines: append([]string{}, r.Lines...), Postcode: r.Postcode, City: r.City, Country: r.Country}
}

// stateRecipient is the saved plan's copy of the recipient a state record
// keeps.
func stateRecipient(r *state.Recipient) *SavedRecipient {
	if r == nil {
		return nil
	}
	return &SavedRecipient{Lines: append([]string{}, r.Lines...), Postcode: r.Postcode, City: r.City, Country: r.Country}
}

func savedDiagnostic(d *hcl.Diagnostic) SavedDiagnostic {
	return SavedDiagnostic{Severity: severityName(d), Code: diag.Code(d), Summary: d.Summary, Detail: d.Detail, Range: savedRange(d.Subject)}
}

func savedRange(r *hcl.Range) *SavedRange {
	if r == nil || r.Filename == "" {
		return nil
	}
	return &SavedRange{Filename: filepath.Base(r.Filename), Line: r.Start.Line, Column: r.Start.Column}
}

// Document is the JSON view of a saved plan (show --json), the same
// document plan --json prints for the plan it was saved from.
func (sp *SavedPlan) Document() *PlanDocument {
	doc := &PlanDocument{FormatVersion: PlanViewFormatVersion, PostformVersion: sp.PostformVersion,
		State: PlanStateRef(sp.State), Targets: sp.Targets, Excludes: sp.Excludes, Replace: sp.Replace,
		Changes: make([]PlanChange, 0, len(sp.Changes)), Diagnostics: make([]PlanDiagnostic, 0, len(sp.Diagnostics)),
		ConfigHash: sp.ConfigHash, ReviewRecipients: sp.ReviewRecipients, RecipientsShown: sp.RecipientsShown}
	for i := range sp.Changes {
		doc.Changes = append(doc.Changes, sp.Changes[i].view())
	}
	for _, d := range sp.Diagnostics {
		doc.Diagnostics = append(doc.Diagnostics, d.view())
	}
	s := sp.Summary
	doc.Summary = PlanSummary{Post: s.Post, Forget: s.Forget, Blocked: s.Blocked, Update: s.Update, NoOp: s.NoOp, Errors: s.Errors,
		Scheduled: s.Scheduled, MaxPosts: s.MaxPosts, MaxPostsFrom: s.MaxPostsFrom}
	if e := s.EstimatedPostage; e != nil {
		pp := &PlanPostage{Currency: e.Currency, Total: e.Total, Services: make([]PlanServicePostage, 0, len(e.Services))}
		for _, x := range e.Services {
			pp.Services = append(pp.Services, PlanServicePostage(x))
		}
		doc.Summary.EstimatedPostage = pp
	}
	return doc
}

// view is the change as the JSON view shows it.
func (sc *SavedChange) view() PlanChange {
	pc := PlanChange{Address: sc.Address, Action: sc.Action, Reason: sc.Reason, ContentHash: sc.ContentHash,
		JobName: sc.JobName, Service: sc.Service, Owner: sc.Owner, Options: sc.Options, Proofs: sc.Proofs, Fix: sc.Fix,
		AddressCheck: sc.AddressCheck, PriorJobID: sc.PriorJobID, PriorRecipient: sc.PriorRecipient.view(),
		SendAfter: sc.SendAfter, PostBy: sc.PostBy, DeclRange: sc.DeclRange.view()}
	for _, e := range sc.Edits {
		pc.Edits = append(pc.Edits, PackGroupEdit(e))
	}
	for _, f := range sc.Files {
		pc.Files = append(pc.Files, PlanFile{Box: f.Box, File: f.File, SHA256: f.SHA256, Size: f.Size, Pages: f.Pages,
			RealPath: f.RealPath, Recipient: f.Recipient.view(), Subject: f.Subject})
	}
	return pc
}

func (r *SavedRecipient) view() *PlanRecipient {
	if r == nil {
		return nil
	}
	return &PlanRecipient{Lines: r.Lines, Postcode: r.Postcode, City: r.City, Country: r.Country}
}

func (d SavedDiagnostic) view() PlanDiagnostic {
	return PlanDiagnostic{Severity: d.Severity, Code: d.Code, Summary: d.Summary, Detail: d.Detail, Range: d.Range.view()}
}

func (r *SavedRange) view() *PlanRange {
	if r == nil {
		return nil
	}
	return &PlanRange{Filename: r.Filename, Line: r.Line, Column: r.Column}
}

// ErrStalePlan refuses a saved plan whose state moved on.
//
//lint:ignore ST1005 the wording users search for starts the sentence.
var ErrStalePlan = errors.New("Saved plan is stale — run plan again")

// ErrPlanMismatch refuses a saved plan that is not what the configuration
// and the state give now.
var ErrPlanMismatch = errors.New("the saved plan is not what the configuration and the state give now")

// PlanFromSaved checks a saved plan before anything of it is posted and
// returns the plan to apply. The saved plan is never executed as written:
// the plan is made again from the configuration and the current state, with
// the saved --target, --exclude, --replace and posting limit, at the clock
// now (a letter whose send_after has passed since is no longer the saved
// plan's "scheduled"), and the saved changes must equal it exactly (every
// address once, same action, job name, content, files and sha256). It
// refuses a plan made against another lineage or serial, one with errors,
// one whose configuration now evaluates differently, and names every
// address that differs.
func PlanFromSaved(sp *SavedPlan, cfg *config.Config, st *state.State, now time.Time) (*Plan, error) {
	if sp.FormatVersion != SavedPlanFormatVersion {
		return nil, errSavedVersion(sp.FormatVersion)
	}
	fresh := st.Serial == 0 && len(st.Mailings) == 0
	if sp.State.Lineage != st.Lineage && !(sp.State.Lineage == "" && fresh) {
		return nil, fmt.Errorf("%w: it was made for another state (lineage %s, the state is %s)", ErrStalePlan, sp.State.Lineage, st.Lineage)
	}
	if sp.State.Serial != st.Serial {
		return nil, fmt.Errorf("%w: the state changed since (serial %d when planned, now %d)", ErrStalePlan, sp.State.Serial, st.Serial)
	}
	if sp.Summary.Errors > 0 {
		return nil, errors.New("the saved plan has errors: fix them and run plan again")
	}
	if sp.RecipientsShown != "" {
		return nil, errMaskedPlan(sp.RecipientsShown)
	}
	opts := sp.Options()
	opts.Now = now
	p := MakePlan(cfg, st, opts)
	var problems []string
	if p.ConfigHash != sp.ConfigHash {
		problems = append(problems, fmt.Sprintf("the configuration evaluates differently than when the plan was made (config hash %s then, %s now)", short(sp.ConfigHash), short(p.ConfigHash)))
	}
	problems = append(problems, diffChanges(sp, p.Saved("", opts))...)
	if p.Diagnostics.HasErrors() {
		// Made again now, the plan breaks a guard rail it kept when saved
		// (a post_by passed since): nothing of it is posted.
		for _, d := range p.Diagnostics {
			if d.Severity == hcl.DiagError {
				problems = append(problems, d.Summary+": "+d.Detail)
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w:\n  %s", ErrPlanMismatch, strings.Join(problems, "\n  "))
	}
	// The pages counted at plan time, for the view: apply skips preflight.
	saved := map[string][]SavedFile{}
	for _, c := range sp.Changes {
		saved[c.Address] = c.Files
	}
	for _, ch := range p.Changes {
		if ch.Desired == nil {
			continue
		}
		for j, d := range ch.Desired.Documents {
			if d.Pages == 0 && j < len(saved[ch.Address]) {
				d.Pages = saved[ch.Address][j].Pages
			}
		}
	}
	return p, nil
}

// Options are the plan options a saved plan was made with. The posting
// limit is the one the plan was made under: a plan saved with --max-posts
// applies with it.
func (sp *SavedPlan) Options() PlanOptions {
	o := PlanOptions{Targets: sp.Targets, Excludes: sp.Excludes, Replace: sp.Replace}
	if sp.Summary.MaxPostsFrom == LimitFlag {
		o.MaxPosts = sp.Summary.MaxPosts
	}
	return o
}

// diffChanges names, per address, every way the saved changes differ from
// the changes made again now; both are sorted by address.
func diffChanges(saved, now *SavedPlan) []string {
	var out []string
	count := map[string]int{}
	for _, c := range saved.Changes {
		count[c.Address]++
	}
	nowBy := map[string]*SavedChange{}
	for i := range now.Changes {
		nowBy[now.Changes[i].Address] = &now.Changes[i]
	}
	seen := map[string]bool{}
	for i := range saved.Changes {
		s := &saved.Changes[i]
		if seen[s.Address] {
			continue
		}
		seen[s.Address] = true
		if count[s.Address] > 1 {
			out = append(out, fmt.Sprintf("%s: appears %d times in the saved plan", s.Address, count[s.Address]))
			continue
		}
		n, ok := nowBy[s.Address]
		if !ok {
			out = append(out, fmt.Sprintf("%s: %s in the saved plan, but it is not a change now (not in the configuration or the state, or not targeted)", s.Address, s.Action))
			continue
		}
		out = append(out, compareChange(s.Address, s, n, "in the saved plan")...)
	}
	for _, n := range now.Changes {
		if !seen[n.Address] {
			out = append(out, fmt.Sprintf("%s: missing from the saved plan (%s now)", n.Address, n.Action))
		}
	}
	if len(out) == 0 && summaryText(saved.Summary) != summaryText(now.Summary) {
		out = append(out, fmt.Sprintf("the summary says %s, the changes give %s", summaryText(saved.Summary), summaryText(now.Summary)))
	}
	return out
}

func summaryText(s SavedSummary) string {
	return fmt.Sprintf("%d to post, %d to forget, %d blocked, %d to update, %d unchanged, %d scheduled, a limit of %d", s.Post, s.Forget, s.Blocked, s.Update, s.NoOp, s.Scheduled, s.MaxPosts)
}

// diffChange compares what a change would do; the reason and the source
// position are for reading only and are taken from now. then names where s
// comes from, e.g. "in the saved plan": it serves the saved-plan check and
// apply --approved alike.
func diffChange(s, n *SavedChange, then string) []string {
	var out []string
	field := func(name, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %q %s, %q now", name, a, then, b))
		}
	}
	field("action", string(s.Action), string(n.Action))
	field("job name", s.JobName, n.JobName)
	field("service", s.Service, n.Service)
	field("owner", s.Owner, n.Owner)
	field("content hash", s.ContentHash, n.ContentHash)
	field("prior job", s.PriorJobID, n.PriorJobID)
	field("options", canonJSON(s.Options), canonJSON(n.Options))
	field("proofs", canonJSON(s.Proofs), canonJSON(n.Proofs))
	field("fix", canonJSON(s.Fix), canonJSON(n.Fix))
	field("edits", canonJSON(s.Edits), canonJSON(n.Edits))
	field("address check", s.AddressCheck, n.AddressCheck)
	field("send_after", s.SendAfter, n.SendAfter)
	field("post_by", s.PostBy, n.PostBy)
	if canonJSON(s.PriorRecipient) != canonJSON(n.PriorRecipient) {
		out = append(out, fmt.Sprintf("the recipient the state records for the posted letter is %s %s, %s now", recipientText(s.PriorRecipient), then, recipientText(n.PriorRecipient)))
	}
	for i := range max(len(s.Files), len(n.Files)) {
		switch {
		case i >= len(n.Files):
			out = append(out, fmt.Sprintf("document %q is %s only", s.Files[i].File, then))
		case i >= len(s.Files):
			out = append(out, fmt.Sprintf("document %q is not %s", n.Files[i].File, then))
		case s.Files[i].File != n.Files[i].File:
			out = append(out, fmt.Sprintf("document %d is %q %s, %q now", i+1, s.Files[i].File, then, n.Files[i].File))
		case s.Files[i].SHA256 != n.Files[i].SHA256:
			out = append(out, fmt.Sprintf("%s changed since it was planned (sha256 %s, planned %s)", n.Files[i].File, short(n.Files[i].SHA256), short(s.Files[i].SHA256)))
		default:
			field("box of "+n.Files[i].File, s.Files[i].Box, n.Files[i].Box)
			field("real path of "+n.Files[i].File, s.Files[i].RealPath, n.Files[i].RealPath)
			// The subject is what a review shows of a rendered letter
			// besides its recipient: a plan sealed again with another one
			// would show the reviewer a letter that is not the one posted.
			field("subject of "+n.Files[i].File, s.Files[i].Subject, n.Files[i].Subject)
			if canonJSON(s.Files[i].Recipient) != canonJSON(n.Files[i].Recipient) {
				a, b := recipientText(s.Files[i].Recipient), recipientText(n.Files[i].Recipient)
				if a == b {
					b += " (they differ in lines left out of this masked form)"
				}
				out = append(out, fmt.Sprintf("the recipient read from %s differs: %s %s, %s now", n.Files[i].File, a, then, b))
			}
			if s.Files[i].Size != n.Files[i].Size {
				out = append(out, fmt.Sprintf("size of %s %d %s, %d now", n.Files[i].File, s.Files[i].Size, then, n.Files[i].Size))
			}
		}
	}
	return out
}

// recipientText names a recipient in an error, masked: the error reaches
// CI logs, where a configuration may have asked for recipients to be
// masked; initials and the locality are enough to tell two apart.
func recipientText(r *SavedRecipient) string {
	if r == nil {
		return "none (not read)"
	}
	return fmt.Sprintf("%q", r.view().Masked().String())
}

// errMaskedPlan refuses a document printed with its recipients masked.
func errMaskedPlan(shown string) error {
	return fmt.Errorf("the plan was printed with --recipients=%s: its recipients cannot be checked against the letters, so it cannot be applied. Save the plan with `postform plan --out=FILE` (the saved plan keeps the recipients read) and apply that file", shown)
}

func errSavedVersion(v int) error {
	return fmt.Errorf("the saved plan has format version %d; this postform reads version %d: run plan again with this postform", v, SavedPlanFormatVersion)
}

// EncodeSavedPlan writes a saved plan as indented JSON, sealed with its
// digest.
func EncodeSavedPlan(sp *SavedPlan) ([]byte, error) {
	return encodeSealed(sp, func(c *SavedPlan) *string { return &c.Digest })
}

// encodeSealed writes a copy of doc as indented JSON, its digest field
// (digest) set to canonDigest of the copy without it.
func encodeSealed[T any](doc *T, digest func(*T) *string) ([]byte, error) {
	sealed := *doc
	d, err := canonDigest(&sealed, func(c *T) { *digest(c) = "" })
	if err != nil {
		return nil, err
	}
	*digest(&sealed) = d
	b, err := json.MarshalIndent(&sealed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// canonDigest is the sha256 of doc's compact JSON with unseal applied to a
// copy, taken after one decode: what a reader decodes is what is hashed,
// so a value that does not survive JSON unchanged cannot break the seal.
func canonDigest[T any](doc *T, unseal func(*T)) (string, error) {
	c := *doc
	unseal(&c)
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		return "", err
	}
	if b, err = json.Marshal(&back); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// DecodeSavedPlan reads a saved plan and checks its seal. The digest
// catches a plan edited or damaged after plan wrote it; anyone can compute
// a sha256, so it is not what stops a forged plan: PlanFromSaved is.
func DecodeSavedPlan(b []byte) (*SavedPlan, error) {
	sp, err := decodeSavedJSON(b)
	if err != nil {
		return nil, err
	}
	if sp.FormatVersion != SavedPlanFormatVersion {
		return nil, errSavedVersion(sp.FormatVersion)
	}
	if sp.Digest == "" {
		return nil, errors.New("the plan has no digest: it was not written by postform plan; run plan again")
	}
	if sp.RecipientsShown != "" {
		return nil, errMaskedPlan(sp.RecipientsShown)
	}
	want, err := canonDigest(sp, func(c *SavedPlan) { c.Digest = "" })
	if err != nil {
		return nil, fmt.Errorf("not a postform plan file: %w", err)
	}
	if sp.Digest != want {
		return nil, errors.New("the plan's digest does not match its content: it was edited or damaged after postform wrote it. Nothing was posted; run plan again and review the new plan")
	}
	return sp, nil
}

// decodeSavedJSON decodes one saved plan strictly: a field postform does
// not write, or anything after the plan, means it is not one. A view
// printed by plan --json, once it has a field of its own, fails here: the
// message says where a plan to apply comes from.
func decodeSavedJSON(b []byte) (*SavedPlan, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var sp SavedPlan
	if err := dec.Decode(&sp); err != nil {
		return nil, fmt.Errorf("not a postform plan file (%w): a plan to apply is the file `postform plan --out=FILE` writes", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a postform plan file: more data follows the plan document")
	}
	if sp.FormatVersion == 0 {
		return nil, errors.New("not a postform plan file: no format_version")
	}
	return &sp, nil
}
