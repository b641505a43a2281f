package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/state"
)

func newProofsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proofs",
		Short: "Check, export and bring back the proofs of deposit and receipt",
		Example: `  postform proofs verify
  postform proofs export --out evidence.zip --since 2026-11-01
  postform proofs verify --bundle evidence.zip
  postform proofs pull`,
	}
	cmd.AddCommand(newProofsVerifyCommand(g), newProofsExportCommand(g), newProofsPullCommand(g))
	return cmd
}

// evidenceFile is one file the state vouches for: a proof or a posted
// document, with the sha256 and size the state recorded.
type evidenceFile struct {
	Address  string
	Kind     string // "proof" or "document"
	Name     string // the proof's name, or the document's box
	Shipment string
	JobID    string // a superseded job's id; empty for the current job
	// Disk is the file's path as a user names it (for messages); Root and
	// Rel open it.
	Disk   string
	Root   string
	Rel    string
	SHA256 string
	Size   int64
	proof  *state.Proof
	doc    *state.Document
}

// evidenceOf lists every proof and posted document of m.
func evidenceOf(sess *session, m *state.Mailing) []evidenceFile {
	var out []evidenceFile
	proofsDir := sess.engine.ProofsDir
	add := func(p state.Proof, job string) {
		out = append(out, evidenceFile{Address: m.Address, Kind: "proof", Name: p.Name, Shipment: p.ShipmentID, JobID: job,
			Disk: userPath(sess.cfg.Dir, filepath.Join(proofsDir, filepath.FromSlash(p.Path))), Root: proofsDir, Rel: filepath.FromSlash(p.Path),
			SHA256: p.SHA256, Size: p.Size, proof: &p})
	}
	for _, p := range m.Proofs {
		add(p, "")
	}
	for _, sj := range m.Superseded {
		for _, p := range sj.Proofs {
			add(p, sj.JobID)
		}
	}
	if m.Phase == state.PhasePosted {
		for _, d := range m.Documents {
			root, rel := sess.cfg.Dir, filepath.FromSlash(d.File)
			if filepath.IsAbs(rel) {
				root, rel = filepath.Dir(rel), filepath.Base(rel)
			}
			out = append(out, evidenceFile{Address: m.Address, Kind: "document", Name: d.Box, Disk: d.File, Root: root, Rel: rel,
				SHA256: d.SHA256, Size: d.Size, doc: &d})
		}
	}
	return out
}

// userPath is p relative to the working directory when inside it.
func userPath(dir, p string) string {
	if rel, err := filepath.Rel(dir, p); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return p
}

// openEvidence opens root/rel for reading, confined to root and without
// following a link at rel (a checkout could plant one).
func openEvidence(root, rel string) (*os.File, error) {
	d, err := safefs.Open(root)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Open(rel)
}

// hashFile returns the sha256 and size of root/rel, opened by openEvidence.
func hashFile(root, rel string) (string, int64, error) {
	f, err := openEvidence(root, rel)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return sha256Of(f)
}

// sha256Of returns the hex sha256 of what r holds and its size.
func sha256Of(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// fileProblem says what is wrong with f on disk, or "" when it is the file
// the state recorded. A document's sha256 in the state may lack its size.
func fileProblem(f evidenceFile) string {
	sum, n, err := hashFile(f.Root, f.Rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return "unreadable: " + err.Error()
	case sum != f.SHA256:
		return fmt.Sprintf("altered: its sha256 is %s, the state recorded %s", sum, f.SHA256)
	case f.Size != 0 && n != f.Size:
		return fmt.Sprintf("altered: %d bytes, the state recorded %d", n, f.Size)
	}
	return ""
}

func (f evidenceFile) describe() string {
	what := f.Kind
	if f.Kind == "proof" {
		what = fmt.Sprintf("proof %s of shipment %s", f.Name, f.Shipment)
		if f.JobID != "" {
			what += fmt.Sprintf(" (superseded job %s)", f.JobID)
		}
	}
	return fmt.Sprintf("%s: %s of %s", f.Disk, what, f.Address)
}

// restoreHint says how a lost proof comes back, truly for the backend: the
// state records a proof as downloaded, so refresh never fetches it again.
func restoreHint(sess *session) string {
	if s, ok := sess.backend.(state.ProofStore); ok {
		return "`postform proofs pull` brings lost or altered proofs back from " + s.DescribeProofs() + "; a posted document must be restored from version control"
	}
	return "with the local backend proofs live only on disk (refresh does not fetch a proof the state records again): restore them from a backup or the CI artifact; a posted document must be restored from version control"
}

// selected reports whether addr is one of addrs (a mailing name selects
// its instances, as --target does); no addrs selects all.
func selected(addr string, addrs []string) bool {
	if len(addrs) == 0 {
		return true
	}
	for _, a := range addrs {
		if addr == a || strings.HasPrefix(addr, a+"[") {
			return true
		}
	}
	return false
}

// warnMissingProofs tells status users which recorded proofs are not on
// disk, and how to get them back.
func warnMissingProofs(g *globals, sess *session) {
	var missing []string
	for _, addr := range sess.engine.State.Addresses() {
		for _, f := range evidenceOf(sess, sess.engine.State.Mailings[addr]) {
			if f.Kind != "proof" {
				continue
			}
			if _, err := os.Lstat(filepath.Join(f.Root, f.Rel)); errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, f.Disk)
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	eg := missing[0]
	if len(missing) > 1 {
		eg += fmt.Sprintf(" and %d more", len(missing)-1)
	}
	writeMessage(g.stderr, "Warning: ", fmt.Sprintf("%d proof(s) recorded in the state are not on disk (%s); %s", len(missing), eg, restoreHint(sess)))
}
