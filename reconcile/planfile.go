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
	"github.com/postform/postform/state"
)

// PlanFormatVersion is the version of the JSON plan document: the saved
// plan file, `plan --json` and `show --json` all write this one document.
// Documented in docs/json-format.md. Version 2 added config_hash and
// digest, which apply checks before posting a saved plan; version 3 the
// recipient of each letter, read from its address window, which apply
// checks too.
const PlanFormatVersion = 3

// PlanDocument is the stable, versioned JSON form of a plan. It holds the
// evaluated mailings and the state they were planned against, never a
// credential.
type PlanDocument struct {
	FormatVersion   int              `json:"format_version"`
	PostformVersion string           `json:"postform_version"`
	State           PlanStateRef     `json:"state"`
	Targets         []string         `json:"targets,omitempty"`
	Excludes        []string         `json:"excludes,omitempty"`
	Replace         []string         `json:"replace,omitempty"`
	Changes         []PlanChange     `json:"changes"`
	Diagnostics     []PlanDiagnostic `json:"diagnostics"`
	Summary         PlanSummary      `json:"summary"`
	// ConfigHash is ConfigHash of the configuration the plan was made from.
	ConfigHash string `json:"config_hash"`
	// ReviewRecipients is the configuration's postform.review.recipients
	// when it is not "full": how show renders this plan by default.
	ReviewRecipients string `json:"review_recipients,omitempty"`
	// RecipientsShown is set ("masked" or "hidden") on a document printed
	// with its recipients masked (plan --json --recipients=masked): such a
	// document is for reading only and cannot be applied.
	RecipientsShown string `json:"recipients_shown,omitempty"`
	// Digest is the sha256 of the document's canonical JSON without the
	// digest: a saved plan edited after plan wrote it is refused.
	Digest string `json:"digest,omitempty"`

	// redact masks recipient lines in other text of a view (View).
	redact *strings.Replacer
}

// PlanStateRef pins the state a plan was made against.
type PlanStateRef struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// PlanChange is one address of the plan.
type PlanChange struct {
	Address     string            `json:"address"`
	Action      Action            `json:"action"`
	Reason      string            `json:"reason"`
	ContentHash string            `json:"content_hash,omitempty"`
	JobName     string            `json:"job_name,omitempty"`
	Service     string            `json:"service,omitempty"`
	Owner       string            `json:"owner,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
	Proofs      []string          `json:"proofs,omitempty"`
	Fix         map[string]any    `json:"fix,omitempty"`
	Files       []PlanFile        `json:"files,omitempty"`
	// AddressCheck is "read" when the recipient was read from the address
	// window of the letter's MAIN-box document, "skipped" when the mailing
	// turned the check off (preflight = { address = false }), absent when
	// unknown (plan --skip-preflight).
	AddressCheck string `json:"address_check,omitempty"`
	// PriorJobID is the job already posted for this address, if any.
	PriorJobID string `json:"prior_job_id,omitempty"`
	// PriorRecipient is the recipient the state records for the letter
	// already posted (blocked, replace and forget changes), when known.
	PriorRecipient *PlanRecipient  `json:"prior_recipient,omitempty"`
	Edits          []PackGroupEdit `json:"edits,omitempty"`
	// SendAfter and PostBy are the letter's schedule (RFC 3339, in the
	// zone it was configured in), when set.
	SendAfter string     `json:"send_after,omitempty"`
	PostBy    string     `json:"post_by,omitempty"`
	DeclRange *PlanRange `json:"declared_at,omitempty"`
}

// PlanFile is one document of a letter.
type PlanFile struct {
	Box    string `json:"box,omitempty"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Pages  int    `json:"pages"`
	// RealPath is where symbolic links on File lead, when elsewhere.
	RealPath string `json:"real_path,omitempty"`
	// Recipient is who the letter goes to, read from page 1 of this
	// document's address window (the letter's first MAIN-box document).
	Recipient *PlanRecipient `json:"recipient,omitempty"`
	// Subject is the subject of a letter postform renders from a letter
	// block; absent for a PDF made elsewhere.
	Subject string `json:"subject,omitempty"`
}

// PlanDiagnostic is a diagnostic in machine-readable form.
type PlanDiagnostic struct {
	Severity string     `json:"severity"`
	Code     string     `json:"code,omitempty"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *PlanRange `json:"range,omitempty"`
}

// PlanRange is a source position.
type PlanRange struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// PlanSummary counts the changes and shows the guard rails in force.
type PlanSummary struct {
	Post    int `json:"post"`
	Forget  int `json:"forget"`
	Blocked int `json:"blocked"`
	Update  int `json:"update"`
	NoOp    int `json:"no_op"`
	Errors  int `json:"errors"`
	// Scheduled counts the letters held back until their send_after.
	Scheduled int `json:"scheduled"`
	// MaxPosts is the posting limit in force; MaxPostsFrom says where it
	// comes from: "default", "max_posts" or "flag" (--max-posts).
	MaxPosts     int    `json:"max_posts"`
	MaxPostsFrom string `json:"max_posts_from"`
	// EstimatedPostage is null when no pricing is configured.
	EstimatedPostage *PlanPostage `json:"estimated_postage"`
}

// PlanPostage is the estimated postage of the letters the plan posts.
type PlanPostage struct {
	Currency string `json:"currency"`
	// Total is in units of the currency, to the cent.
	Total    float64              `json:"total"`
	Services []PlanServicePostage `json:"services"`
}

// PlanServicePostage is one service's share of the postage.
type PlanServicePostage struct {
	Service       string  `json:"service"`
	Letters       int     `json:"letters"`
	Price         float64 `json:"price"`
	ExtraSheets   int     `json:"extra_sheets"`
	PerExtraSheet float64 `json:"per_extra_sheet"`
	Total         float64 `json:"total"`
}

// Text is the estimate as the plan views show it:
// "6,420.00 EUR (1,000 × Lettre recommandée avec AR at 6.42)".
func (e *PlanPostage) Text() string {
	var parts []string
	for _, s := range e.Services {
		part := fmt.Sprintf("%s × %s at %s", Count(s.Letters), s.Service, Money(cents(s.Price)))
		if s.ExtraSheets > 0 {
			part += fmt.Sprintf(" + %s extra sheet(s) at %s", Count(s.ExtraSheets), Money(cents(s.PerExtraSheet)))
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		parts = append(parts, "no letter posted")
	}
	return fmt.Sprintf("%s %s (%s)", Money(cents(e.Total)), e.Currency, strings.Join(parts, "; "))
}

// Document converts a plan into its JSON document.
func (p *Plan) Document(version string, opts PlanOptions) *PlanDocument {
	doc := &PlanDocument{FormatVersion: PlanFormatVersion, PostformVersion: version,
		State: PlanStateRef{Lineage: p.Lineage, Serial: p.Serial}, Targets: opts.Targets, Excludes: opts.Excludes, Replace: opts.Replace,
		Changes: []PlanChange{}, Diagnostics: []PlanDiagnostic{}, ConfigHash: p.ConfigHash}
	for _, ch := range p.Changes {
		pc := PlanChange{Address: ch.Address, Action: ch.Action, Reason: ch.Reason, Edits: ch.Edits}
		if ch.Prior != nil {
			pc.PriorJobID = ch.Prior.JobID
			switch ch.Action {
			case ActionBlocked, ActionReplace, ActionForget:
				pc.PriorRecipient = stateRecipient(ch.Prior.Recipient)
			}
		}
		if m := ch.Desired; m != nil {
			pc.ContentHash, pc.JobName, pc.Service, pc.Owner = m.ContentHash, m.JobName, m.Service, m.Owner
			pc.Options, pc.Proofs, pc.Fix = m.Options, m.Proofs, m.Fix
			pc.AddressCheck = m.AddressCheck
			if t := m.Schedule.SendAfter; !t.IsZero() {
				pc.SendAfter = t.Format(time.RFC3339)
			}
			if t := m.Schedule.PostBy; !t.IsZero() {
				pc.PostBy = t.Format(time.RFC3339)
			}
			for _, d := range m.Documents {
				pc.Files = append(pc.Files, PlanFile{Box: d.Box, File: d.File, SHA256: d.SHA256, Size: d.Size, Pages: d.Pages, RealPath: d.RealPath,
					Recipient: planRecipient(d.Recipient), Subject: d.Subject()})
			}
			pc.DeclRange = planRange(&m.DeclRange)
		} else if ch.Prior != nil {
			pc.ContentHash, pc.JobName, pc.Service = ch.Prior.ContentHash, ch.Prior.JobName, ch.Prior.Service
		}
		doc.Changes = append(doc.Changes, pc)
	}
	for _, d := range p.Diagnostics {
		doc.Diagnostics = append(doc.Diagnostics, DiagnosticDocument(d))
	}
	c := p.Counts()
	doc.Summary = PlanSummary{Post: c.Post, Forget: c.Forget, Blocked: c.Blocked, Update: c.Update, NoOp: c.NoOp,
		Scheduled: c.Scheduled, MaxPosts: p.MaxPosts, MaxPostsFrom: p.MaxPostsFrom}
	if e := p.Estimate; e != nil {
		pp := &PlanPostage{Currency: e.Currency, Total: float64(e.Total) / 100, Services: []PlanServicePostage{}}
		for _, s := range e.Services {
			pp.Services = append(pp.Services, PlanServicePostage{Service: s.Service, Letters: s.Letters, Price: s.Price,
				ExtraSheets: s.ExtraSheets, PerExtraSheet: s.PerExtraSheet, Total: float64(s.Total) / 100})
		}
		doc.Summary.EstimatedPostage = pp
	}
	for _, d := range p.Diagnostics {
		if d.Severity == hcl.DiagError {
			doc.Summary.Errors++
		}
	}
	return doc
}

// DiagnosticDocument converts one diagnostic to its JSON form.
func DiagnosticDocument(d *hcl.Diagnostic) PlanDiagnostic {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	return PlanDiagnostic{Severity: sev, Code: config.DiagCode(d), Summary: d.Summary, Detail: d.Detail, Range: planRange(d.Subject)}
}

func planRange(r *hcl.Range) *PlanRange {
	if r == nil || r.Filename == "" {
		return nil
	}
	return &PlanRange{Filename: filepath.Base(r.Filename), Line: r.Start.Line, Column: r.Start.Column}
}

// ErrStalePlan refuses a saved plan whose state moved on.
//
//lint:ignore ST1005 the wording users search for starts the sentence.
var ErrStalePlan = errors.New("Saved plan is stale — run plan again")

// PlanFromDocument checks a saved plan before anything of it is posted
// and returns the plan to apply. The saved document is never executed as
// written: the plan is made again from the configuration and the current
// state, with the saved --target, --exclude, --replace and posting limit,
// at the clock now (a letter whose send_after has passed since is no longer
// the saved plan's "scheduled"), and the saved changes must
// equal it exactly (every address once, same action, job name, content,
// files and sha256). It refuses a plan made against another lineage or
// serial, one with errors, one whose configuration now evaluates
// differently, and names every address that differs.
func PlanFromDocument(doc *PlanDocument, cfg *config.Config, st *state.State, now time.Time) (*Plan, error) {
	if doc.FormatVersion != PlanFormatVersion {
		return nil, fmt.Errorf("the saved plan has format version %d; this postform reads version %d: run plan again with this postform", doc.FormatVersion, PlanFormatVersion)
	}
	fresh := st.Serial == 0 && len(st.Mailings) == 0
	if doc.State.Lineage != st.Lineage && !(doc.State.Lineage == "" && fresh) {
		return nil, fmt.Errorf("%w: it was made for another state (lineage %s, the state is %s)", ErrStalePlan, doc.State.Lineage, st.Lineage)
	}
	if doc.State.Serial != st.Serial {
		return nil, fmt.Errorf("%w: the state changed since (serial %d when planned, now %d)", ErrStalePlan, doc.State.Serial, st.Serial)
	}
	if doc.Summary.Errors > 0 {
		return nil, errors.New("the saved plan has errors: fix them and run plan again")
	}
	if doc.RecipientsShown != "" {
		return nil, errMaskedPlan(doc.RecipientsShown)
	}
	opts := doc.options()
	opts.Now = now
	p := MakePlan(cfg, st, opts)
	var problems []string
	if p.ConfigHash != doc.ConfigHash {
		problems = append(problems, fmt.Sprintf("the configuration evaluates differently than when the plan was made (config hash %s then, %s now)", short(doc.ConfigHash), short(p.ConfigHash)))
	}
	problems = append(problems, diffChanges(doc, p.Document("", opts))...)
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
	saved := map[string][]PlanFile{}
	for _, c := range doc.Changes {
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

// options are the plan options a saved plan was made with. The posting
// limit is the one the plan was made under: a plan saved with --max-posts
// applies with it.
func (doc *PlanDocument) options() PlanOptions {
	o := PlanOptions{Targets: doc.Targets, Excludes: doc.Excludes, Replace: doc.Replace}
	if doc.Summary.MaxPostsFrom == LimitFlag {
		o.MaxPosts = doc.Summary.MaxPosts
	}
	return o
}

// ErrPlanMismatch refuses a saved plan that is not what the configuration
// and the state give now.
var ErrPlanMismatch = errors.New("the saved plan is not what the configuration and the state give now")

// diffChanges names, per address, every way the saved changes differ from
// the changes made again now; both are sorted by address.
func diffChanges(saved, now *PlanDocument) []string {
	var out []string
	count := map[string]int{}
	for _, c := range saved.Changes {
		count[c.Address]++
	}
	nowBy := map[string]*PlanChange{}
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
		for _, d := range diffChange(s, n, "in the saved plan") {
			out = append(out, s.Address+": "+d)
		}
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

func summaryText(s PlanSummary) string {
	return fmt.Sprintf("%d to post, %d to forget, %d blocked, %d to update, %d unchanged, %d scheduled, a limit of %d", s.Post, s.Forget, s.Blocked, s.Update, s.NoOp, s.Scheduled, s.MaxPosts)
}

// diffChange compares what a change would do; the reason and the source
// position are for reading only and are taken from now. then names where s
// comes from, e.g. "in the saved plan": it serves the saved-plan check and
// apply --approved alike.
func diffChange(s, n *PlanChange, then string) []string {
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
func recipientText(r *PlanRecipient) string {
	if r == nil {
		return "none (not read)"
	}
	return fmt.Sprintf("%q", r.Masked().String())
}

// errMaskedPlan refuses a document printed with its recipients masked.
func errMaskedPlan(shown string) error {
	return fmt.Errorf("the plan was printed with --recipients=%s: its recipients cannot be checked against the letters, so it cannot be applied. Save the plan with `postform plan --out=FILE` (the saved plan keeps the recipients read) and apply that file", shown)
}

// canonJSON is a value's JSON for comparing: nil and empty are alike.
func canonJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unencodable %T", v)
	}
	switch string(b) {
	case "null", "{}", "[]":
		return ""
	}
	return string(b)
}

// ConfigHash identifies an evaluated configuration: for every mailing, its
// address, job name, service, owner, options, proofs, fix, content hash and
// each document's box, file as written, sha256 and size. Pages are left out
// (apply does not preflight again), and so are absolute paths, so a plan
// made in one checkout applies in another.
func ConfigHash(cfg *config.Config) string {
	type doc struct {
		Box    string `json:"box"`
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
	type mailing struct {
		Address     string            `json:"address"`
		JobName     string            `json:"job_name"`
		Service     string            `json:"service"`
		Owner       string            `json:"owner"`
		Options     map[string]string `json:"options"`
		Proofs      []string          `json:"proofs"`
		Fix         map[string]any    `json:"fix"`
		ContentHash string            `json:"content_hash"`
		Documents   []doc             `json:"documents"`
	}
	canon := struct {
		V        int       `json:"v"`
		Mailings []mailing `json:"mailings"`
	}{V: 1, Mailings: []mailing{}}
	for _, m := range cfg.Mailings {
		cm := mailing{Address: m.Address, JobName: m.JobName, Service: m.Service, Owner: m.Owner, Options: m.Options,
			Proofs: m.Proofs, Fix: m.Fix, ContentHash: m.ContentHash, Documents: []doc{}}
		for _, d := range m.Documents {
			cm.Documents = append(cm.Documents, doc{Box: d.Box, File: d.File, SHA256: d.SHA256, Size: d.Size})
		}
		canon.Mailings = append(canon.Mailings, cm)
	}
	b, err := json.Marshal(canon)
	if err != nil {
		// fix holds what HCL decoded from JSON; it always encodes.
		b = []byte(fmt.Sprintf("unencodable configuration: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// VerifyFiles re-hashes every document the plan would post and reports
// each one that changed since planning: a reviewed plan posts exactly the
// reviewed PDFs or nothing.
func (p *Plan) VerifyFiles() error {
	var errs []error
	for _, ch := range p.Changes {
		if ch.Action != ActionCreate && ch.Action != ActionReplace {
			continue
		}
		for _, d := range ch.Desired.Documents {
			rc, err := openVerified(d)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ch.Address, err))
				continue
			}
			rc.Close()
		}
	}
	return errors.Join(errs...)
}

// EncodePlanDocument writes the document as indented JSON, sealed with
// its digest.
func EncodePlanDocument(doc *PlanDocument) ([]byte, error) {
	sealed := *doc
	d, err := planDigest(&sealed)
	if err != nil {
		return nil, err
	}
	sealed.Digest = d
	b, err := json.MarshalIndent(&sealed, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// planDigest is the sha256 of the document's compact JSON without its
// digest, taken after one decode: what a reader decodes is what is hashed,
// so a value that does not survive JSON unchanged cannot break the seal.
func planDigest(doc *PlanDocument) (string, error) {
	unsealed := *doc
	unsealed.Digest = ""
	b, err := json.Marshal(&unsealed)
	if err != nil {
		return "", err
	}
	var back PlanDocument
	if err := json.Unmarshal(b, &back); err != nil {
		return "", err
	}
	if b, err = json.Marshal(&back); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// DecodePlanDocument reads a saved plan and checks its seal. The digest
// catches a plan edited or damaged after plan wrote it; anyone can compute
// a sha256, so it is not what stops a forged plan: PlanFromDocument is.
func DecodePlanDocument(b []byte) (*PlanDocument, error) {
	doc, err := decodePlanJSON(b)
	if err != nil {
		return nil, err
	}
	if doc.FormatVersion != PlanFormatVersion {
		return nil, fmt.Errorf("the plan has format version %d; this postform reads version %d: run plan again with this postform", doc.FormatVersion, PlanFormatVersion)
	}
	if doc.Digest == "" {
		return nil, errors.New("the plan has no digest: it was not written by postform plan; run plan again")
	}
	if doc.RecipientsShown != "" {
		return nil, errMaskedPlan(doc.RecipientsShown)
	}
	want, err := planDigest(doc)
	if err != nil {
		return nil, fmt.Errorf("not a postform plan file: %w", err)
	}
	if doc.Digest != want {
		return nil, errors.New("the plan's digest does not match its content: it was edited or damaged after postform wrote it. Nothing was posted; run plan again and review the new plan")
	}
	return doc, nil
}

// decodePlanJSON decodes one plan document strictly: a field postform does
// not write, or anything after the document, means it is not one.
func decodePlanJSON(b []byte) (*PlanDocument, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc PlanDocument
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a postform plan file: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a postform plan file: more data follows the plan document")
	}
	if doc.FormatVersion == 0 {
		return nil, errors.New("not a postform plan file: no format_version")
	}
	return &doc, nil
}
