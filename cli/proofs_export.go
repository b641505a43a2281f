package cli

import (
	"archive/zip"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postform/postform/audit"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// ManifestFormat names an export's manifest.json; ManifestVersion is its
// version (docs/proofs-export.md). A reader refuses a higher version.
const (
	ManifestFormat  = "postform-proofs-export"
	ManifestVersion = 1
)

type manifest struct {
	Format          string           `json:"format"`
	FormatVersion   int              `json:"format_version"`
	GeneratedAt     time.Time        `json:"generated_at"`
	PostformVersion string           `json:"postform_version"`
	State           manifestState    `json:"state"`
	Selection       manifestSelect   `json:"selection"`
	Letters         []manifestLetter `json:"letters"`
}

type manifestState struct {
	Lineage   string `json:"lineage"`
	Serial    uint64 `json:"serial"`
	Workspace string `json:"workspace"`
	// AuditHead is the hash of the trail's last entry when exported.
	AuditHead string `json:"audit_head,omitempty"`
}

type manifestSelect struct {
	Targets []string `json:"targets,omitempty"`
	Since   string   `json:"since,omitempty"`
}

type manifestLetter struct {
	Address     string             `json:"address"`
	Recipient   *state.Recipient   `json:"recipient,omitempty"`
	JobID       string             `json:"job_id"`
	JobName     string             `json:"job_name"`
	Service     string             `json:"service"`
	ServiceID   string             `json:"service_id,omitempty"`
	SubmittedAt time.Time          `json:"submitted_at,omitzero"`
	JobStatus   string             `json:"job_status,omitempty"`
	Stage       string             `json:"stage"`
	Shipments   []manifestShipment `json:"shipments"`
	Files       []manifestFile     `json:"files"`
	Audit       []audit.Entry      `json:"audit"`
}

type manifestShipment struct {
	ID             string                `json:"id"`
	TrackingNumber string                `json:"tracking_number,omitempty"`
	StatusCode     int                   `json:"status_code"`
	StatusLabel    string                `json:"status_label,omitempty"`
	Events         []state.TrackingEvent `json:"events"`
}

type manifestFile struct {
	// Kind is "proof" or "document".
	Kind string `json:"kind"`
	// Path is the file inside the bundle, with forward slashes.
	Path       string    `json:"path"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	Name       string    `json:"name,omitempty"`
	ShipmentID string    `json:"shipment_id,omitempty"`
	JobID      string    `json:"job_id,omitempty"`
	FetchedAt  time.Time `json:"fetched_at,omitzero"`
	Box        string    `json:"box,omitempty"`
	Source     string    `json:"source,omitempty"`
}

// proofsExportOptions are the arguments of postform proofs export.
type proofsExportOptions struct {
	g       *globals
	load    loadFlags
	out     string
	targets []string
	since   string
}

func newProofsExportCommand(g *globals) *cobra.Command {
	opts := &proofsExportOptions{g: g}
	cmd := &cobra.Command{
		Use:   "export --out DIR|FILE.zip",
		Short: "Write every letter's proofs and posted documents with a manifest of hashes and a readable index",
		Long: `export writes, for each posted letter, its proofs and the documents posted,
a manifest.json (address, recipient, job, service, submitted_at, tracking
numbers and events, every file's sha256, size and fetched_at, the audit
entries that concern the letter) and an index.html to read it all in a
browser. The format of manifest.json is in docs/proofs-export.md.

Every file is checked against the state first: export refuses to write a
bundle with a missing or altered file. 'postform proofs verify --bundle'
checks a bundle later, anywhere.`,
		Example: `  postform proofs export --out evidence
  postform proofs export --out evidence.zip --target mailing.invoice --since 2026-11-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProofsExport(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().StringVar(&opts.out, "out", "", "write the bundle to the folder `DIR`, or to FILE.zip")
	cmd.Flags().StringArrayVar(&opts.targets, "target", nil, "export only this `ADDRESS` (a mailing name selects all its instances; repeatable)")
	cmd.Flags().StringVar(&opts.since, "since", "", "export only letters submitted on or after `DATE` (2026-11-01 or RFC 3339)")
	return cmd
}

// runProofsExport writes the bundle of the selected letters to opts.out,
// refusing to write one with a missing or altered file.
func runProofsExport(ctx context.Context, opts *proofsExportOptions) error {
	g := opts.g
	if opts.out == "" {
		return errors.New("say where: --out DIR or --out FILE.zip")
	}
	var sinceT time.Time
	if opts.since != "" {
		var err error
		if sinceT, err = parseSince(opts.since); err != nil {
			return err
		}
	}
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		return g.exportProofs(sess, opts.out, opts.targets, opts.since, sinceT)
	})
}

func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since=%s: write a date such as 2026-11-01 or a time such as 2026-11-01T09:00:00Z", s)
}

// bundleFile is one file to write into a bundle.
type bundleFile struct {
	name string
	src  evidenceFile
	data []byte // generated files (manifest, index)
}

func (g *globals) exportProofs(sess *session, out string, targets []string, since string, sinceT time.Time) error {
	st := sess.engine.State
	var entries []audit.Entry
	if store, err := auditStore(sess); err == nil {
		var chainErr error
		entries, chainErr = audit.Read(g.interrupt, store)
		if chainErr != nil {
			var ce *audit.ChainError
			if !errors.As(chainErr, &ce) {
				return chainErr
			}
			writeMessage(g.stderr, "Warning: ", chainErr.Error()+"; the entries are exported as they read (run `postform log --verify`)")
		}
	}
	m := manifest{Format: ManifestFormat, FormatVersion: ManifestVersion, GeneratedAt: time.Now().UTC().Round(time.Second),
		PostformVersion: Version, Selection: manifestSelect{Targets: targets, Since: since},
		State: manifestState{Lineage: st.Lineage, Serial: st.Serial, Workspace: state.CurrentWorkspace(sess.cfg.Dir)}}
	if len(entries) > 0 {
		m.State.AuditHead = entries[len(entries)-1].Hash
	}
	var files []bundleFile
	var problems []string
	for _, addr := range st.Addresses() {
		ml := st.Mailings[addr]
		if ml.Phase != state.PhasePosted || !selected(addr, targets) || (!sinceT.IsZero() && ml.SubmittedAt.Before(sinceT)) {
			continue
		}
		l := manifestLetter{Address: addr, Recipient: ml.Recipient, JobID: ml.JobID, JobName: ml.JobName, Service: ml.Service,
			ServiceID: ml.ServiceID, SubmittedAt: ml.SubmittedAt, JobStatus: ml.JobStatus, Stage: string(reconcile.StageOf(ml)),
			Shipments: []manifestShipment{}, Files: []manifestFile{}, Audit: []audit.Entry{}}
		for _, d := range ml.Deliveries {
			for _, s := range d.Shipments {
				l.Shipments = append(l.Shipments, manifestShipment{ID: s.ID, TrackingNumber: s.TrackingNumber, StatusCode: s.StatusCode,
					StatusLabel: s.StatusLabel, Events: append([]state.TrackingEvent{}, s.Events...)})
			}
		}
		base := "letters/" + filepath.ToSlash(reconcile.ProofDir(addr))
		for i, f := range evidenceOf(sess, ml) {
			if p := fileProblem(f); p != "" {
				problems = append(problems, f.describe()+": "+p)
				continue
			}
			mf := manifestFile{Kind: f.Kind, SHA256: f.SHA256, Size: f.Size}
			if f.proof != nil {
				// The name postform gave the proof, encoded again: the state
				// is a backend's answer, and "..", or a name verify would
				// refuse, must not reach the bundle.
				name := safefs.Component(path.Base(f.proof.Path))
				mf.Path = base + "/proofs/" + name
				if f.JobID != "" {
					mf.Path = base + "/superseded/" + safefs.Component(f.JobID) + "/" + name
				}
				mf.Name, mf.ShipmentID, mf.JobID, mf.FetchedAt = f.Name, f.Shipment, f.JobID, f.proof.FetchedAt
			} else {
				mf.Path = fmt.Sprintf("%s/documents/%d-%s", base, i+1, safefs.Component(path.Base(filepath.ToSlash(f.doc.File))))
				mf.Box, mf.Source = f.doc.Box, f.doc.File
				if mf.Size == 0 {
					_, mf.Size, _ = hashFile(f.Root, f.Rel)
				}
			}
			l.Files = append(l.Files, mf)
			files = append(files, bundleFile{name: mf.Path, src: f})
		}
		for _, e := range entries {
			if e.Concerns(addr) {
				l.Audit = append(l.Audit, e)
			}
		}
		m.Letters = append(m.Letters, l)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(g.stderr, termtext.Escape(p))
		}
		return &exitError{code: ExitError, err: fmt.Errorf("nothing was exported: %d file(s) are missing or altered (listed above); %s", len(problems), restoreHint(sess))}
	}
	if m.Letters == nil {
		m.Letters = []manifestLetter{}
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	var index bytes.Buffer
	if err := exportIndex.Execute(&index, m); err != nil {
		return err
	}
	files = append(files, bundleFile{name: "manifest.json", data: append(mj, '\n')}, bundleFile{name: "index.html", data: index.Bytes()})
	if err := writeBundle(out, files); err != nil {
		return fmt.Errorf("writing the export %s: %w", out, err)
	}
	n := 0
	for _, l := range m.Letters {
		n += len(l.Files)
	}
	fmt.Fprintf(g.stdout, "Exported %d letter(s), %d file(s), to %s (manifest.json, index.html).\n", len(m.Letters), n, termtext.Escape(out))
	return nil
}

func (b bundleFile) copyTo(w io.Writer) error {
	if b.data != nil {
		_, err := w.Write(b.data)
		return err
	}
	f, err := openEvidence(b.src.Root, b.src.Rel)
	if err != nil {
		return err
	}
	defer f.Close()
	// Hashed again while copied: what lands in the bundle is what was
	// checked.
	sum, _, err := sha256Of(io.TeeReader(f, w))
	if err != nil {
		return err
	}
	if sum != b.src.SHA256 {
		return fmt.Errorf("%s changed while it was exported (sha256 %s, the state recorded %s)", b.src.Disk, sum, b.src.SHA256)
	}
	return nil
}

// writeBundle writes files to the folder out, or to the zip out, through
// the confined writer: the folder is the user's, names inside it are ours.
func writeBundle(out string, files []bundleFile) error {
	if strings.EqualFold(filepath.Ext(out), ".zip") {
		d, err := safefs.Open(filepath.Dir(out))
		if err != nil {
			return err
		}
		defer d.Close()
		_, err = d.WriteWith(filepath.Base(out), 0o644, func(w io.Writer) error {
			zw := zip.NewWriter(w)
			for _, f := range files {
				fw, err := zw.Create(f.name)
				if err != nil {
					return err
				}
				if err := f.copyTo(fw); err != nil {
					return err
				}
			}
			return zw.Close()
		})
		return err
	}
	d, err := safefs.OpenCreateAt(out) // a link planted at the folder is refused
	if err != nil {
		return err
	}
	defer d.Close()
	for _, f := range files {
		if _, err := d.WriteWith(filepath.FromSlash(f.name), 0o644, f.copyTo); err != nil {
			return err
		}
	}
	return nil
}

// verifyBundle checks an export against its manifest.json.
func (g *globals) verifyBundle(bundle string) error {
	open, closeAll, err := openBundle(bundle)
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("reading the bundle %s: %w", bundle, err)}
	}
	defer closeAll()
	data, err := readAllFrom(open, "manifest.json")
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("the bundle %s has no readable manifest.json: %w", bundle, err)}
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil || m.Format != ManifestFormat {
		return &exitError{code: ExitError, err: fmt.Errorf("%s/manifest.json is not a postform export manifest (want \"format\": %q)", bundle, ManifestFormat)}
	}
	if m.FormatVersion > ManifestVersion {
		return &exitError{code: ExitError, err: fmt.Errorf("%s/manifest.json has format_version %d; this postform reads up to %d: upgrade postform", bundle, m.FormatVersion, ManifestVersion)}
	}
	files, bad := 0, 0
	for _, l := range m.Letters {
		for _, f := range l.Files {
			files++
			problem := ""
			switch {
			case !fs.ValidPath(f.Path):
				problem = "its path leaves the bundle: the manifest was edited"
			case f.Size < 0 || f.Size > maxBundleFile:
				problem = fmt.Sprintf("the manifest gives it %d bytes: not a size postform exports (at most %d), the manifest was edited", f.Size, int64(maxBundleFile))
			default:
				// Never more than one byte past the manifest's size: a
				// zip entry can inflate to far more than its file holds.
				sum, n, err := hashFrom(open, f.Path, f.Size+1)
				switch {
				case errors.Is(err, fs.ErrNotExist):
					problem = "missing"
				case err != nil:
					problem = "unreadable: " + err.Error()
				case n > f.Size:
					problem = fmt.Sprintf("altered: larger than the %d bytes the manifest says", f.Size)
				case sum != f.SHA256:
					problem = fmt.Sprintf("altered: its sha256 is %s, the manifest says %s", sum, f.SHA256)
				case n != f.Size:
					problem = fmt.Sprintf("altered: %d bytes, the manifest says %d", n, f.Size)
				}
			}
			if problem != "" {
				bad++
				fmt.Fprintf(g.stderr, "%s: %s of %s\n  %s\n", termtext.Escape(f.Path), f.Kind, termtext.Escape(l.Address), termtext.Escape(problem))
			}
		}
	}
	if bad > 0 {
		return &exitError{code: ExitError, err: fmt.Errorf("%d of %d file(s) of the bundle %s do not match its manifest (listed above)", bad, files, bundle)}
	}
	fmt.Fprintf(g.stdout, "The bundle %s holds: %d letter(s), %d file(s), each with the sha256 and size of its manifest.\n", termtext.Escape(bundle), len(m.Letters), files)
	return nil
}

// openBundle returns a function opening a bundle's file by its slash path,
// for a folder or a zip.
func openBundle(bundle string) (func(string) (io.ReadCloser, error), func(), error) {
	fi, err := os.Stat(bundle)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		zr, err := zip.OpenReader(bundle)
		if err != nil {
			return nil, nil, err
		}
		return func(name string) (io.ReadCloser, error) { return zr.Open(name) }, func() { zr.Close() }, nil
	}
	d, err := safefs.Open(bundle)
	if err != nil {
		return nil, nil, err
	}
	return func(name string) (io.ReadCloser, error) { return d.Open(filepath.FromSlash(name)) }, func() { d.Close() }, nil
}

func readAllFrom(open func(string) (io.ReadCloser, error), name string) ([]byte, error) {
	r, err := open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, maxBundleFile))
}

// maxBundleFile is the largest file verify --bundle hashes, as readAllFrom
// bounds the manifest: far above any proof or posted document.
const maxBundleFile = 1 << 30

// hashFrom hashes at most limit bytes of the bundle's file name.
func hashFrom(open func(string) (io.ReadCloser, error), name string, limit int64) (string, int64, error) {
	r, err := open(name)
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	return sha256Of(io.LimitReader(r, limit))
}

//go:embed proofs_export.html.tmpl
var exportIndexSrc string

var exportIndex = template.Must(template.New("index").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
}).Parse(exportIndexSrc))
