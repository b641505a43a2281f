package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

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
