package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// PlanViewFormatVersion is the version of the JSON view of a plan, which
// `plan --json` and `show --json` print (docs/json-format.md). It is not the
// saved plan file (SavedPlan, SavedPlanFormatVersion): a field added to the
// view within a version leaves saved plans as they are. Version 3 is where
// the two parted; before, they were one document.
const PlanViewFormatVersion = 3

// PlanDocument is the stable, versioned JSON view of a plan, for people
// and machines to read. It holds the evaluated mailings and the state they
// were planned against, never a credential. It is printed, never applied.
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
	// with its recipients masked (plan --json --recipients=masked).
	RecipientsShown string `json:"recipients_shown,omitempty"`
	// Digest is the sha256 of the document's canonical JSON without the
	// digest, set by EncodePlanView.
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

// Document is the plan's JSON view: the view of the plan as saved, so
// that show --json of a saved plan prints what plan --json printed.
func (p *Plan) Document(version string, opts PlanOptions) *PlanDocument {
	return p.document(version, opts, true)
}

// DiagnosticDocument converts one diagnostic to its JSON form: the view of
// it as a saved plan keeps it, like every other part of the view.
func DiagnosticDocument(d *hcl.Diagnostic) PlanDiagnostic {
	return savedDiagnostic(d).view()
}

// severityName is a diagnostic's severity as the JSON documents write it.
func severityName(d *hcl.Diagnostic) string {
	if d.Severity == hcl.DiagWarning {
		return "warning"
	}
	return "error"
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

// EncodePlanView writes the view as indented JSON with its digest.
func EncodePlanView(doc *PlanDocument) ([]byte, error) {
	return encodeSealed(doc, func(c *PlanDocument) *string { return &c.Digest })
}
