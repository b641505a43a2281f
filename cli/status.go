package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// statusOptions are the arguments of postform status.
type statusOptions struct {
	g          *globals
	load       loadFlags
	out        formatFlags
	recipients recipientsFlag
}

func newStatusCommand(g *globals) *cobra.Command {
	opts := &statusOptions{g: g}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every letter's stage, tracking number, proofs and problems (from the state; no API call)",
		Example: `  postform status
  postform status --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print as one JSON document")
	opts.recipients.register(cmd)
	return cmd
}

// runStatus prints every letter of the state (read without the lock or
// the network) in the view opts.out chooses.
func runStatus(ctx context.Context, opts *statusOptions) error {
	g := opts.g
	format, err := viewFormat(opts.out, &opts.recipients)
	if err != nil {
		return err
	}
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		st := sess.engine.State
		mode := opts.recipients.forView(sess.cfg.Review.Recipients, format == formatJSON)
		if format == formatJSON {
			return writeStatusJSON(g, st, mode)
		}
		if len(st.Mailings) == 0 {
			fmt.Fprintln(g.stdout, "No letters in the state yet: run `postform apply`.")
			return nil
		}
		writeStatusTable(g.stdout, st, mode)
		rel, err := filepath.Rel(sess.cfg.Dir, sess.engine.ProofsDir)
		if err != nil {
			rel = sess.engine.ProofsDir
		}
		// proofs_dir is the checkout's text.
		fmt.Fprintf(g.stdout, "\nProofs are kept under %s/ (sha256 of each in the state: `postform state show ADDRESS`).\n", termtext.Escape(rel))
		warnMissingProofs(g, sess)
		return nil
	})
}

// statusDocument is the JSON form of status (format documented in
// docs/json-format.md).
type statusDocument struct {
	FormatVersion int             `json:"format_version"`
	Lineage       string          `json:"lineage"`
	Serial        uint64          `json:"serial"`
	Mailings      []statusMailing `json:"mailings"`
}

type statusMailing struct {
	Address   string `json:"address"`
	Stage     string `json:"stage"`
	Phase     string `json:"phase"`
	JobName   string `json:"job_name"`
	JobID     string `json:"job_id,omitempty"`
	JobStatus string `json:"job_status,omitempty"`
	// Recipient is who the letter was addressed to, shown as the view's
	// --recipients says.
	Recipient       *reconcile.PlanRecipient `json:"recipient,omitempty"`
	TrackingNumbers []string                 `json:"tracking_numbers"`
	LastEvent       string                   `json:"last_event,omitempty"`
	Proofs          []state.Proof            `json:"proofs"`
	MissingProofs   []string                 `json:"missing_proofs"`
	Problems        []string                 `json:"problems"`
	Terminal        bool                     `json:"terminal"`
}

func writeStatusJSON(g *globals, st *state.State, mode string) error {
	doc := statusDocument{FormatVersion: 1, Lineage: st.Lineage, Serial: st.Serial, Mailings: []statusMailing{}}
	for _, a := range st.Addresses() {
		m := st.Mailings[a]
		sm := statusMailing{Address: a, Stage: string(reconcile.StageOf(m)), Phase: string(m.Phase), JobName: m.JobName,
			JobID: m.JobID, JobStatus: m.JobStatus, TrackingNumbers: m.TrackingNumbers(), LastEvent: lastEvent(m),
			Proofs: m.Proofs, MissingProofs: missingProofs(m), Problems: m.Problems, Terminal: m.Terminal,
			Recipient: stateRecipient(m.Recipient).Shown(mode)}
		if sm.TrackingNumbers == nil {
			sm.TrackingNumbers = []string{}
		}
		if sm.Proofs == nil {
			sm.Proofs = []state.Proof{}
		}
		if sm.Problems == nil {
			sm.Problems = []string{}
		}
		doc.Mailings = append(doc.Mailings, sm)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, string(b))
	return nil
}

// The recipient comes last: the widest column, it would push the others.
func writeStatusTable(w io.Writer, st *state.State, mode string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tSTAGE\tJOB\tTRACKING\tLAST EVENT\tPROOFS\tPROBLEMS\tTO")
	for _, a := range st.Addresses() {
		m := st.Mailings[a]
		// Everything but the stage is outside text (the state holds what the
		// platform said): escaped, so a label cannot drive the terminal or
		// break the table with a tab or a newline.
		cells := []string{a, string(reconcile.StageOf(m)), m.JobID, strings.Join(m.TrackingNumbers(), ","),
			lastEvent(m), proofSummary(m), strings.Join(m.Problems, "; "), recipientLine(stateRecipient(m.Recipient), mode)}
		for i, c := range cells {
			cells[i] = dash(termtext.Escape(c))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// missingProofs lists the requested proofs not kept yet.
func missingProofs(m *state.Mailing) []string {
	missing := []string{}
	if m.Phase != state.PhasePosted || m.JobStatus == nirva.JobProcessingError {
		return missing
	}
	for _, want := range m.RequestedProofs {
		if _, ok := slicesIndexProof(m.Proofs, want); !ok {
			missing = append(missing, want)
		}
	}
	return missing
}

func slicesIndexProof(ps []state.Proof, name string) (int, bool) {
	i := slices.IndexFunc(ps, func(p state.Proof) bool { return p.Name == name })
	return i, i >= 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lastEvent(m *state.Mailing) string {
	var last *state.TrackingEvent
	for _, d := range m.Deliveries {
		for _, s := range d.Shipments {
			for i := range s.Events {
				// Carriers date events to the second: on a tie the later
				// event in the history is the last one.
				if last == nil || !s.Events[i].Date.Before(last.Date) {
					last = &s.Events[i]
				}
			}
		}
	}
	if last == nil {
		return ""
	}
	return fmt.Sprintf("%s %s", last.Date.Format("2006-01-02"), last.Code)
}

// proofSummary lists the proofs kept and those still expected.
func proofSummary(m *state.Mailing) string {
	var have []string
	for _, p := range m.Proofs {
		if !slices.Contains(have, p.Name) {
			have = append(have, p.Name)
		}
	}
	missing := missingProofs(m)
	out := strings.Join(have, ",")
	if len(missing) > 0 && !m.Terminal {
		if out != "" {
			out += " "
		}
		out += "(awaiting " + strings.Join(missing, ",") + ")"
	}
	return out
}

// writeUnfinished says, after a plan with nothing to post, which posted
// letters are still on their way, by stage: "No changes" must not read as
// "all delivered". wait is apply's --wait (0: none).
func (g *globals) writeUnfinished(e *reconcile.Engine, wait time.Duration) {
	addrs := append(e.NeedsRefresh(), e.Pending()...)
	if len(addrs) == 0 {
		return
	}
	counts := map[reconcile.Stage]int{}
	for _, a := range addrs {
		counts[reconcile.StageOf(e.State.Mailings[a])]++
	}
	line := fmt.Sprintf("Not finished yet: %s.", stageList(counts))
	if wait > 0 {
		line += fmt.Sprintf(" Waiting up to %s for them.", wait)
	} else {
		line += " `postform apply --wait=10m` or `postform refresh` follows them; `postform status` shows each."
	}
	fmt.Fprintln(g.stdout, line)
}
