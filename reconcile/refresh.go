package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// RefreshResult says what a refresh did.
type RefreshResult struct {
	// Refreshed counts the mailings asked of the platform; terminal ones
	// cost nothing and are not counted.
	Refreshed int
	// Errors are per-address failures; the rest of the refresh went on.
	Errors map[string]error
}

// Err joins the per-address errors, or nil.
func (r *RefreshResult) Err() error { return joinByAddress(r.Errors) }

// joinByAddress joins per-address errors in address order, or nil.
func joinByAddress(byAddr map[string]error) error {
	var errs []error
	for _, a := range sortedKeys(byAddr) {
		errs = append(errs, fmt.Errorf("%s: %w", a, byAddr[a]))
	}
	return errors.Join(errs...)
}

// NeedsRefresh lists the posted mailings that are not terminal.
func (e *Engine) NeedsRefresh() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, a := range e.State.Addresses() {
		m := e.State.Mailings[a]
		if m.Phase == state.PhasePosted && !m.Terminal {
			out = append(out, a)
		}
	}
	return out
}

// Pending lists the mailings whose posting attempt is unresolved.
func (e *Engine) Pending() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, a := range e.State.Addresses() {
		if e.State.Mailings[a].Phase == state.PhasePending {
			out = append(out, a)
		}
	}
	return out
}

// Refresh resolves pending attempts, then asks the platform about every
// posted mailing that is not terminal, downloads the proofs that appeared,
// and updates the state in memory (Persist writes it).
func (e *Engine) Refresh(ctx context.Context) *RefreshResult {
	e.startRun()
	res := &RefreshResult{Errors: map[string]error{}}
	var errMu sync.Mutex
	fail := func(addr string, err error) {
		errMu.Lock()
		defer errMu.Unlock()
		res.Errors[addr] = err
	}
	e.resolveAllPending(ctx, e.Pending(), fail)
	todo := e.NeedsRefresh()
	res.Refreshed = len(todo)
	e.forEach(ctx, todo, func(addr string) {
		if err := e.refreshOne(ctx, addr); err != nil {
			fail(addr, err)
			e.emit(Event{Kind: EventProblem, Address: addr, Detail: err.Error()})
		}
	})
	return res
}

func adoptJob(m *state.Mailing, j *nirva.Job) {
	m.Phase = state.PhasePosted
	m.JobID = j.ID
	if j.ServiceID != "" {
		m.ServiceID = j.ServiceID
	}
	m.JobStatus = j.Status
	m.SubmittedAt = j.Created
	if m.SubmittedAt.IsZero() {
		m.SubmittedAt = m.AttemptedAt
	}
	m.Problems = nil
}

// Import adopts an existing job into the state at addr and refreshes it.
// base carries what the configuration says of the mailing (may be nil).
func (e *Engine) Import(ctx context.Context, addr, jobID string, base *state.Mailing) error {
	e.startRun()
	if prior := e.get(addr); prior != nil && prior.Phase == state.PhasePosted && prior.JobID != jobID {
		return fmt.Errorf("%s is already in the state as job %s; remove it first with `postform state rm %s`", addr, prior.JobID, shellquote.Quote(addr))
	}
	// One job is one letter: a job tracked elsewhere is refused before the
	// platform is asked, and again under the answer's id.
	if err := e.claimJob(addr, jobID); err != nil {
		return fmt.Errorf("refusing to import job %s as %s: %w. If that is wrong, correct it first (e.g. `postform state rm` the wrong letter), then import again", jobID, addr, err)
	}
	j, err := e.Client.Job(ctx, jobID)
	if err != nil {
		e.releaseJob(addr, jobID)
		return fmt.Errorf("fetching job %s: %w", jobID, err)
	}
	if j.ID != jobID {
		e.releaseJob(addr, jobID)
		return fmt.Errorf("asked for job %s, the platform answered with job %q: nothing was imported; check the job id on the platform", jobID, j.ID)
	}
	m := base
	if m == nil {
		m = &state.Mailing{Address: addr}
	}
	if prior := e.get(addr); prior != nil && m.JobName == "" {
		m.JobName = prior.JobName
	}
	if m.JobName == "" {
		m.JobName = j.Name
	}
	adoptJob(m, j)
	m.Terminal = false
	if err := e.record(ctx, addr, m); err != nil {
		e.releaseJob(addr, jobID)
		return err
	}
	return e.refreshOne(ctx, addr)
}

// refreshOne asks the platform about one posted letter.
func (e *Engine) refreshOne(ctx context.Context, addr string) error {
	m := e.get(addr)
	before := StageOf(m)
	// A job that reached CREATED never changes again; only its deliveries do.
	if m.JobStatus != nirva.JobCreated {
		j, err := e.Client.Job(ctx, m.JobID)
		if err != nil {
			return fmt.Errorf("job %s: %w", m.JobID, err)
		}
		failpoint(fpMidRefresh)
		m.JobStatus = j.Status
		if j.Status == nirva.JobPackGroupCreated || j.PackGroupCountPerStates[nirva.PackGroupNotEligible] > 0 {
			pgs, err := e.Client.PackGroups(ctx, m.JobID)
			if err != nil {
				return fmt.Errorf("pack groups of job %s: %w", m.JobID, err)
			}
			m.PackGroups = convertPackGroups(pgs)
		} else if len(m.PackGroups) > 0 && j.PackGroupCountPerStates[nirva.PackGroupNotEligible] == 0 {
			for i := range m.PackGroups {
				if m.PackGroups[i].Status == nirva.PackGroupNotEligible {
					m.PackGroups[i].Status, m.PackGroups[i].Eligible, m.PackGroups[i].Reasons = nirva.PackGroupEligible, true, nil
				}
			}
		}
	}
	if m.JobStatus == nirva.JobCreated {
		ds, err := e.Client.Deliveries(ctx, m.JobID)
		if err != nil {
			return fmt.Errorf("deliveries of job %s: %w", m.JobID, err)
		}
		m.Deliveries = mergeDeliveries(m.Deliveries, ds)
		if err := e.fetchProofs(ctx, m); err != nil {
			m.LastRefreshed = e.now()
			e.put(m)
			return err
		}
	}
	m.Problems = problemsOf(m)
	m.Terminal = isTerminal(m)
	m.LastRefreshed = e.now()
	e.put(m)
	if after := StageOf(m); after != before {
		e.emit(Event{Kind: EventStage, Address: addr, Stage: after, Detail: stageDetail(m)})
	}
	return nil
}

func stageDetail(m *state.Mailing) string {
	var parts []string
	if tn := m.TrackingNumbers(); len(tn) > 0 {
		parts = append(parts, "tracking "+strings.Join(tn, ", "))
	}
	if len(m.Problems) > 0 {
		parts = append(parts, strings.Join(m.Problems, "; "))
	}
	return strings.Join(parts, "; ")
}

func convertPackGroups(pgs []nirva.PackGroup) []state.PackGroup {
	out := make([]state.PackGroup, len(pgs))
	for i, p := range pgs {
		out[i] = state.PackGroup{ID: p.ID, Channel: p.Channel, Status: p.Status, Eligible: p.Eligible, Reasons: p.Reasons, Raw: p.Raw}
	}
	return out
}

// mergeDeliveries takes the platform's deliveries, keeping the tracking
// events already learned for each shipment.
func mergeDeliveries(old []state.Delivery, ds []nirva.Delivery) []state.Delivery {
	events := map[string][]state.TrackingEvent{}
	for _, d := range old {
		for _, s := range d.Shipments {
			events[s.ID] = s.Events
		}
	}
	out := make([]state.Delivery, len(ds))
	for i, d := range ds {
		sd := state.Delivery{ID: d.ID, Channel: d.Channel, Status: d.Status}
		for _, s := range d.Shipments {
			sd.Shipments = append(sd.Shipments, state.Shipment{
				ID: s.ID, StatusCode: s.StatusCode, StatusLabel: s.StatusLabel,
				TrackingNumber: s.TrackingNumber(), Files: s.Files(), Events: events[s.ID],
			})
		}
		out[i] = sd
	}
	return out
}

// ProofFile is where a proof recorded at path (relative to ProofsDir) is,
// as a user can open it: relative to the working directory when it lies
// inside (proofs/notice/88012-CERTIF.pdf), absolute otherwise.
func (e *Engine) ProofFile(path string) string {
	abs := filepath.Join(e.ProofsDir, path)
	if e.WorkDir != "" {
		if rel, err := filepath.Rel(e.WorkDir, abs); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return abs
}

// fetchProofs downloads each requested proof the platform now offers and
// that is not on disk yet. TRACKING_DETAIL grows with the shipment, so it is
// fetched again until it has been fetched at the shipment's final status,
// and decoded into events.
func (e *Engine) fetchProofs(ctx context.Context, m *state.Mailing) error {
	for di := range m.Deliveries {
		for si := range m.Deliveries[di].Shipments {
			s := &m.Deliveries[di].Shipments[si]
			for _, name := range s.Files {
				if !slices.Contains(m.RequestedProofs, name) {
					continue
				}
				if have, ok := m.Proof(s.ID, name); ok && (name != "TRACKING_DETAIL" || (have.ShipmentCode == s.StatusCode && nirva.ShipmentFinal(s.StatusCode))) {
					continue
				}
				p, err := e.download(ctx, m.Address, s.ID, name)
				if err != nil {
					return fmt.Errorf("proof %s of shipment %s: %w", name, s.ID, err)
				}
				p.ShipmentCode = s.StatusCode
				m.Proofs = replaceProof(m.Proofs, p)
				e.emit(Event{Kind: EventProof, Address: m.Address, Detail: fmt.Sprintf("%s saved to %s", name, e.ProofFile(p.Path))})
				if name == "TRACKING_DETAIL" {
					if err := e.readTrackingDetail(p.Path, s); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func replaceProof(ps []state.Proof, p state.Proof) []state.Proof {
	for i := range ps {
		if ps[i].ShipmentID == p.ShipmentID && ps[i].Name == p.Name {
			ps[i] = p
			return ps
		}
	}
	return append(ps, p)
}

func (e *Engine) readTrackingDetail(path string, s *state.Shipment) error {
	fsys, err := e.ProofsFS()
	if err != nil {
		return err
	}
	f, err := fsys.Open(filepath.FromSlash(path))
	if err != nil {
		return err
	}
	defer f.Close()
	td, err := e.Client.DecodeTrackingDetail(f)
	if err != nil {
		return fmt.Errorf("tracking detail %s: %w", path, err)
	}
	s.Events = make([]state.TrackingEvent, 0, len(td.Events))
	for _, ev := range td.Events {
		s.Events = append(s.Events, state.TrackingEvent{Date: ev.Date, Code: ev.Code, Label: ev.Label})
	}
	if s.TrackingNumber == "" {
		s.TrackingNumber = td.TrackingNumber
	}
	return nil
}

// download writes one proof under ProofsDir atomically and hashes it.
// The path kept in state is relative to ProofsDir. The shipment id and the
// proof name come from the platform: each is encoded into one safe file-name
// element, and the write is confined to the proofs folder (no "..", no
// planted link). A failed or refused download leaves no partial file.
func (e *Engine) download(ctx context.Context, addr, shipmentID, name string) (state.Proof, error) {
	fsys, err := e.ProofsFS()
	if err != nil {
		return state.Proof{}, err
	}
	rel := filepath.Join(ProofDir(addr), safefs.Component(shipmentID)+"-"+safefs.Component(name)+proofExt(name))
	h := sha256.New()
	// A backend that keeps proofs with the state (pg) gets a copy, so that
	// a CI runner thrown away loses none and no proof is fetched twice.
	store, _ := e.Backend.(state.ProofStore)
	var kept bytes.Buffer
	n, err := fsys.WriteWith(rel, 0o644, func(w io.Writer) error {
		dst := io.MultiWriter(w, h)
		if store != nil {
			dst = io.MultiWriter(w, h, &kept)
		}
		got, err := e.Client.DownloadTrackingFile(ctx, shipmentID, name, dst)
		if got > 0 {
			failpoint(fpMidProof)
		}
		return err
	})
	if err != nil {
		return state.Proof{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if store != nil {
		if err := store.StoreProof(ctx, sum, kept.Bytes()); err != nil {
			return state.Proof{}, fmt.Errorf("%s of shipment %s was saved to %s but could not be kept with the state (the next refresh fetches it again): %w", name, shipmentID, filepath.Join(e.ProofsDir, rel), err)
		}
	}
	return state.Proof{Name: name, ShipmentID: shipmentID, Path: filepath.ToSlash(rel),
		SHA256: sum, Size: n, FetchedAt: e.now()}, nil
}

// ProofsFS opens the proofs folder once, confined to the working directory:
// a proofs_dir that leaves it, or a committed link on the way, is refused.
// A run that may post opens it first, so that no letter is posted whose
// proofs could not be kept.
func (e *Engine) ProofsFS() (*safefs.Dir, error) {
	e.proofsOnce.Do(func() {
		if e.WorkDir == "" {
			e.proofs, e.proofsErr = safefs.OpenCreate(e.ProofsDir)
			return
		}
		rel, err := filepath.Rel(e.WorkDir, e.ProofsDir)
		if err != nil || !filepath.IsLocal(rel) {
			e.proofsErr = fmt.Errorf("the proofs folder %s is outside the working directory %s: set proofs_dir to a folder inside it", e.ProofsDir, e.WorkDir)
			return
		}
		wd, err := safefs.Open(e.WorkDir)
		if err != nil {
			e.proofsErr = err
			return
		}
		defer wd.Close() // the proofs folder, once opened, stands alone
		if e.proofs, err = wd.Sub(rel); err != nil {
			e.proofsErr = fmt.Errorf("the proofs folder: %w", err)
		}
	})
	return e.proofs, e.proofsErr
}

func proofExt(name string) string {
	if name == "TRACKING_DETAIL" {
		return ".json"
	}
	return ".pdf"
}

// ProofDir is the folder of one mailing's proofs, relative to the proofs
// folder: mailing.reminder["acme"] → reminder/acme. Characters that are not
// safe in a file name are replaced, with a short hash to keep names unique.
func ProofDir(addr string) string {
	name := strings.TrimPrefix(addr, "mailing.")
	key := ""
	if i := strings.Index(name, "["); i >= 0 {
		name, key = name[:i], strings.Trim(name[i:], "[]\"")
	}
	if key == "" {
		return safefs.Component(name)
	}
	return filepath.Join(safefs.Component(name), safefs.Component(key))
}

// isTerminal: nothing more will change and every requested proof is kept.
func isTerminal(m *state.Mailing) bool {
	if m.Phase != state.PhasePosted {
		return false
	}
	if m.JobStatus == nirva.JobProcessingError {
		return true
	}
	if m.JobStatus != nirva.JobCreated || len(m.Deliveries) == 0 {
		return false
	}
	for _, d := range m.Deliveries {
		if d.Status != nirva.DeliveryOutputted && d.Status != nirva.DeliveryError {
			return false
		}
		if d.Status == nirva.DeliveryError {
			continue
		}
		if len(d.Shipments) == 0 {
			return false
		}
		for _, s := range d.Shipments {
			if !nirva.ShipmentFinal(s.StatusCode) {
				return false
			}
			if nirva.ShipmentFailed(s.StatusCode) {
				continue // no proof of receipt will come for a failed shipment
			}
			for _, want := range m.RequestedProofs {
				if d.Channel != "" && d.Channel != "MAIL" {
					break // proofs come with postal shipments only
				}
				if _, ok := m.Proof(s.ID, want); !ok {
					return false
				}
			}
		}
	}
	return true
}

// problemsOf lists what a sender must know about a letter, including any
// status the API contract does not list: it is kept verbatim, and said.
func problemsOf(m *state.Mailing) []string {
	var out []string
	if m.JobStatus != "" && !nirva.KnownJobStatus(m.JobStatus) {
		out = append(out, fmt.Sprintf("unknown job status %q from the platform (kept as is)", m.JobStatus))
	}
	for _, pg := range m.PackGroups {
		if !nirva.KnownPackGroupStatus(pg.Status) {
			out = append(out, fmt.Sprintf("pack group %s: unknown status %q (kept as is)", pg.ID, pg.Status))
		}
	}
	for _, d := range m.Deliveries {
		if !nirva.KnownDeliveryStatus(d.Status) {
			out = append(out, fmt.Sprintf("delivery %s: unknown status %q (kept as is)", d.ID, d.Status))
		}
		for _, sh := range d.Shipments {
			if _, ok := nirva.ShipmentCodeMeaning(sh.StatusCode); !ok {
				out = append(out, fmt.Sprintf("shipment %s: unknown status code %d %q (kept as is)", sh.ID, sh.StatusCode, sh.StatusLabel))
			}
		}
	}
	if m.JobStatus == nirva.JobProcessingError {
		out = append(out, "PROCESSING_ERROR: the platform could not read the documents; nothing was posted")
	}
	out = append(out, notEligible(m)...)
	for _, d := range m.Deliveries {
		if d.Status == nirva.DeliveryError {
			out = append(out, fmt.Sprintf("delivery %s (%s) failed", d.ID, d.Channel))
		}
		for _, s := range d.Shipments {
			if nirva.ShipmentFailed(s.StatusCode) {
				label := s.StatusLabel
				if label == "" {
					label = "failed"
				}
				out = append(out, fmt.Sprintf("shipment %s: %d %s", s.ID, s.StatusCode, label))
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
