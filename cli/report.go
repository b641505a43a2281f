package cli

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// reportOptions are the arguments of postform report.
type reportOptions struct {
	g          *globals
	load       loadFlags
	recipients recipientsFlag
	out        string
}

func newReportCommand(g *globals) *cobra.Command {
	opts := &reportOptions{g: g}
	cmd := &cobra.Command{
		Use:   "report --out DIR",
		Short: "Write a static site of every letter's stage, tracking and proofs, for people who do not read state files",
		Long: `report writes DIR/index.html, one self-contained file: counts by stage with
a chart of the letters posted each day by where they are now, a searchable,
sortable, paginated table of every letter (address, recipient, service,
stage, tracking number, last event, proofs), and each letter's page with its
timeline (index.html#letter=N). Nothing is fetched from the network: it
opens from file://. Proof links point at the proofs folder, relative to DIR:
keep both where they are (or hand over 'postform proofs export' instead).

Recipients are shown as --recipients says (default: postform { review {
recipients } }, else full). No API call is made: run refresh first for news.`,
		Example: `  postform report --out report
  postform report --out report --recipients=masked`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.recipients.register(cmd)
	cmd.Flags().StringVar(&opts.out, "out", "", "write the site to the folder `DIR`")
	return cmd
}

// runReport writes the static site of the state (read without the lock or
// the network) into the folder opts.out.
func runReport(ctx context.Context, opts *reportOptions) error {
	g := opts.g
	if opts.out == "" {
		return fmt.Errorf("say where: --out DIR")
	}
	if err := opts.recipients.check(); err != nil {
		return err
	}
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		abs, err := filepath.Abs(opts.out)
		if err != nil {
			return err
		}
		n, err := writeReport(sess.engine.State, sess.engine.ProofsDir, abs, opts.recipients.forView(sess.cfg.Review.Recipients, false), time.Now())
		if err != nil {
			return fmt.Errorf("writing the report to %s: %w", opts.out, err)
		}
		fmt.Fprintf(g.stdout, "Wrote the report of %d letter(s) to %s (open %s in a browser).\n", n, termtext.Escape(opts.out), termtext.Escape(filepath.Join(opts.out, "index.html")))
		return nil
	})
}

// reportRow is one letter in the index's table (short keys: 10,000 rows
// are embedded in the page).
type reportRow struct {
	Address   string        `json:"a"`
	Recipient string        `json:"r"`
	Service   string        `json:"s"`
	Stage     string        `json:"st"`
	Tracking  string        `json:"t"`
	LastEvent string        `json:"e"`
	Proofs    []reportProof `json:"p"`
	// The letter's page (index.html#letter=N) shows these too.
	JobName   string        `json:"j,omitempty"`
	JobID     string        `json:"id,omitempty"`
	JobStatus string        `json:"js,omitempty"`
	Submitted string        `json:"sub,omitempty"`
	Events    []reportEvent `json:"ev"`
	Problems  []string      `json:"pr,omitempty"`
}

type reportProof struct {
	Name string `json:"n"`
	Href string `json:"h"`
}

type reportStage struct {
	Stage string
	Count int
	Width float64 // bar width in the SVG, of 400
	Y     int
}

type reportDay struct {
	Day                                   string
	X                                     float64
	W                                     float64
	Transit, Delivered, Failed, Other     int
	YTransit, YDelivered, YFailed, YOther float64
	HTransit, HDelivered, HFailed, HOther float64
}

type reportIndex struct {
	Generated string
	Lineage   string
	Serial    uint64
	Total     int
	Height    int // of the stages chart
	Stages    []reportStage
	Days      []reportDay
	MaxDay    int
	DataJSON  template.JS
}

type reportEvent struct {
	When  string `json:"w"`
	What  string `json:"x"`
	Where string `json:"y,omitempty"`
}

//go:embed report_index.html.tmpl
var reportIndexSrc string

var reportIndexTmpl = template.Must(template.New("index").Parse(reportIndexSrc))

// group is where a stage sits in the chart over time.
func group(s reconcile.Stage) string {
	switch s {
	case reconcile.StageDelivered, reconcile.StageDone:
		return "delivered"
	case reconcile.StageFailed:
		return "failed"
	case reconcile.StageReceived, reconcile.StageNotEligible, reconcile.StagePrinting, reconcile.StageMailed:
		return "transit"
	}
	return "other"
}

// writeReport writes the site for st into out and returns how many
// letters it shows. It is one file, index.html: the table and every
// letter's page (index.html#letter=N) are drawn from the data embedded in
// it, so 10,000 letters are one write, not 10,000 file creations.
func writeReport(st *state.State, proofsDir, out, mode string, now time.Time) (int, error) {
	d, err := safefs.OpenCreateAt(out) // a link planted at the folder is refused
	if err != nil {
		return 0, err
	}
	defer d.Close()
	addrs := st.Addresses()
	rows := make([]reportRow, 0, len(addrs))
	counts := map[reconcile.Stage]int{}
	days := map[string]*reportDay{}
	for _, addr := range addrs {
		m := st.Mailings[addr]
		stage := reconcile.StageOf(m)
		counts[stage]++
		row := reportRow{Address: addr, Recipient: recipientLine(stateRecipient(m.Recipient), mode), Service: m.Service,
			Stage: string(stage), LastEvent: lastEvent(m), Proofs: []reportProof{}, JobName: m.JobName, JobID: m.JobID, JobStatus: m.JobStatus,
			Events: timeline(m), Problems: m.Problems}
		if !m.SubmittedAt.IsZero() {
			row.Submitted = m.SubmittedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		row.Tracking = strings.Join(m.TrackingNumbers(), ", ")
		for _, p := range m.Proofs {
			row.Proofs = append(row.Proofs, reportProof{Name: p.Name, Href: proofHref(out, proofsDir, p.Path)})
		}
		rows = append(rows, row)
		if !m.SubmittedAt.IsZero() {
			day := m.SubmittedAt.UTC().Format(time.DateOnly)
			rd := days[day]
			if rd == nil {
				rd = &reportDay{Day: day}
				days[day] = rd
			}
			switch group(stage) {
			case "delivered":
				rd.Delivered++
			case "failed":
				rd.Failed++
			case "transit":
				rd.Transit++
			default:
				rd.Other++
			}
		}
	}
	idx := reportIndex{Generated: now.UTC().Format("2006-01-02 15:04 UTC"), Lineage: st.Lineage, Serial: st.Serial, Total: len(rows)}
	most := 0
	for _, s := range reconcile.Stages {
		if counts[s] > most {
			most = counts[s]
		}
	}
	for _, s := range reconcile.Stages {
		if counts[s] == 0 {
			continue
		}
		idx.Stages = append(idx.Stages, reportStage{Stage: string(s), Count: counts[s], Width: 400 * float64(counts[s]) / float64(most), Y: 24 * len(idx.Stages)})
	}
	idx.Height = 24*len(idx.Stages) + 4
	idx.Days = chartDays(days)
	data, err := json.Marshal(rows) // escapes <, > and &: safe inside <script>
	if err != nil {
		return 0, err
	}
	idx.DataJSON = template.JS(data)
	var buf bytes.Buffer
	if err := reportIndexTmpl.Execute(&buf, idx); err != nil {
		return 0, err
	}
	return len(rows), d.WriteFile("index.html", buf.Bytes(), 0o644)
}

// chartDays lays out the stacked bars of letters posted per day.
func chartDays(days map[string]*reportDay) []reportDay {
	keys := sortedKeys(days)
	if len(keys) > 90 {
		keys = keys[len(keys)-90:] // the last 90 days of posting
	}
	most := 1
	for _, k := range keys {
		d := days[k]
		most = max(most, d.Transit+d.Delivered+d.Failed+d.Other)
	}
	const width, height = 600.0, 160.0
	w := width / float64(max(len(keys), 1))
	out := make([]reportDay, 0, len(keys))
	for i, k := range keys {
		d := *days[k]
		d.X, d.W = float64(i)*w, max(w-2, 1)
		scale := height / float64(most)
		y := height
		for _, part := range []struct {
			n    int
			y, h *float64
		}{{d.Delivered, &d.YDelivered, &d.HDelivered}, {d.Transit, &d.YTransit, &d.HTransit}, {d.Failed, &d.YFailed, &d.HFailed}, {d.Other, &d.YOther, &d.HOther}} {
			*part.h = float64(part.n) * scale
			y -= *part.h
			*part.y = y
		}
		out = append(out, d)
	}
	return out
}

// proofHref is the link from out/index.html to a proof: a relative path,
// made to start with "./" or "../" so that no recorded name ("javascript:…")
// can read as a URL scheme.
func proofHref(out, proofsDir, rel string) string {
	abs := filepath.Join(proofsDir, filepath.FromSlash(rel))
	p, err := filepath.Rel(out, abs)
	if err != nil {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "../") {
		p = "./" + p
	}
	return (&url.URL{Path: p}).String()
}

// timeline is the letter's history, oldest first: the posting attempt, the
// platform's acceptance, every tracking event, every proof kept.
func timeline(m *state.Mailing) []reportEvent {
	type ev struct {
		at time.Time
		e  reportEvent
	}
	var evs []ev
	add := func(at time.Time, what, where string) {
		if !at.IsZero() {
			evs = append(evs, ev{at, reportEvent{When: at.UTC().Format("2006-01-02 15:04"), What: what, Where: where}})
		}
	}
	add(m.AttemptedAt, "posting attempted", m.JobName)
	add(m.SubmittedAt, "accepted by the platform", "job "+m.JobID)
	for _, d := range m.Deliveries {
		for _, s := range d.Shipments {
			for _, e := range s.Events {
				what := e.Code
				if e.Label != "" {
					what += " — " + e.Label
				}
				add(e.Date, what, "shipment "+s.ID+" "+s.TrackingNumber)
			}
		}
	}
	for _, p := range m.Proofs {
		add(p.FetchedAt, "proof "+p.Name+" kept", "sha256 "+p.SHA256)
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return a.at.Compare(b.at) })
	out := make([]reportEvent, len(evs))
	for i, e := range evs {
		out[i] = e.e
	}
	return out
}
