package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

// PlanFormatVersion is the version of the JSON plan document: the saved
// plan file, `plan --json` and `show --json` all write this one document.
// Documented in docs/json-format.md.
const PlanFormatVersion = 1

// PlanDocument is the stable, versioned JSON form of a plan. It holds the
// evaluated mailings and the state they were planned against, never a
// credential.
type PlanDocument struct {
	FormatVersion   int              `json:"format_version"`
	PostformVersion string           `json:"postform_version"`
	State           PlanStateRef     `json:"state"`
	Targets         []string         `json:"targets,omitempty"`
	Replace         []string         `json:"replace,omitempty"`
	Changes         []PlanChange     `json:"changes"`
	Diagnostics     []PlanDiagnostic `json:"diagnostics"`
	Summary         PlanSummary      `json:"summary"`
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
	// PriorJobID is the job already posted for this address, if any.
	PriorJobID string          `json:"prior_job_id,omitempty"`
	Edits      []PackGroupEdit `json:"edits,omitempty"`
	DeclRange  *PlanRange      `json:"declared_at,omitempty"`
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

// PlanSummary counts the changes.
type PlanSummary struct {
	Post    int `json:"post"`
	Forget  int `json:"forget"`
	Blocked int `json:"blocked"`
	Update  int `json:"update"`
	NoOp    int `json:"no_op"`
	Errors  int `json:"errors"`
}

// Document converts a plan into its JSON document.
func (p *Plan) Document(version string, opts PlanOptions) *PlanDocument {
	doc := &PlanDocument{FormatVersion: PlanFormatVersion, PostformVersion: version,
		State: PlanStateRef{Lineage: p.Lineage, Serial: p.Serial}, Targets: opts.Targets, Replace: opts.Replace,
		Changes: []PlanChange{}, Diagnostics: []PlanDiagnostic{}}
	for _, ch := range p.Changes {
		pc := PlanChange{Address: ch.Address, Action: ch.Action, Reason: ch.Reason, Edits: ch.Edits}
		if ch.Prior != nil {
			pc.PriorJobID = ch.Prior.JobID
		}
		if m := ch.Desired; m != nil {
			pc.ContentHash, pc.JobName, pc.Service, pc.Owner = m.ContentHash, m.JobName, m.Service, m.Owner
			pc.Options, pc.Proofs, pc.Fix = m.Options, m.Proofs, m.Fix
			for _, d := range m.Documents {
				pc.Files = append(pc.Files, PlanFile{Box: d.Box, File: d.File, SHA256: d.SHA256, Size: d.Size, Pages: d.Pages, RealPath: d.RealPath})
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
	doc.Summary = PlanSummary{Post: c.Post, Forget: c.Forget, Blocked: c.Blocked, Update: c.Update, NoOp: c.NoOp}
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

// PlanFromDocument rebuilds a plan from its saved document, against the
// current state: it refuses a plan made against another lineage or serial,
// and one with errors. Document paths are resolved against dir.
func PlanFromDocument(doc *PlanDocument, st *state.State, dir string) (*Plan, error) {
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
	p := &Plan{Lineage: st.Lineage, Serial: st.Serial}
	for _, pc := range doc.Changes {
		ch := &Change{Address: pc.Address, Action: pc.Action, Reason: pc.Reason, Edits: pc.Edits, Prior: st.Mailings[pc.Address]}
		if pc.Action != ActionForget {
			m := &config.Mailing{Address: pc.Address, Service: pc.Service, JobName: pc.JobName, Owner: pc.Owner,
				Options: pc.Options, Proofs: pc.Proofs, Fix: pc.Fix, ContentHash: pc.ContentHash}
			for _, f := range pc.Files {
				path := f.File
				if !filepath.IsAbs(path) {
					path = filepath.Join(dir, path)
				}
				m.Documents = append(m.Documents, &config.Document{Box: f.Box, File: f.File, Path: path, SHA256: f.SHA256, Size: f.Size, Pages: f.Pages})
			}
			if pc.DeclRange != nil {
				m.DeclRange = hcl.Range{Filename: pc.DeclRange.Filename, Start: hcl.Pos{Line: pc.DeclRange.Line, Column: pc.DeclRange.Column}}
			}
			ch.Desired = m
		}
		p.Changes = append(p.Changes, ch)
	}
	return p, nil
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

// EncodePlanDocument writes the document as indented JSON.
func EncodePlanDocument(doc *PlanDocument) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodePlanDocument reads a saved plan.
func DecodePlanDocument(b []byte) (*PlanDocument, error) {
	var doc PlanDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a postform plan file: %w", err)
	}
	if doc.FormatVersion == 0 {
		return nil, errors.New("not a postform plan file: no format_version")
	}
	return &doc, nil
}
