package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// stateShowOptions are the arguments of postform state show.
type stateShowOptions struct {
	g          *globals
	load       loadFlags
	recipients recipientsFlag
	address    string
}

func newStateShowCommand(g *globals) *cobra.Command {
	opts := &stateShowOptions{g: g}
	cmd := &cobra.Command{
		Use:     "show ADDRESS",
		Short:   "Show everything the state knows of one letter",
		Example: `  postform state show 'mailing.invoice["acme"]'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.address = args[0]
			return runStateShow(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.recipients.register(cmd)
	return cmd
}

// runStateShow prints the state's record of the letter at opts.address.
func runStateShow(ctx context.Context, opts *stateShowOptions) error {
	g := opts.g
	if err := opts.recipients.check(); err != nil {
		return err
	}
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		m, ok := sess.engine.State.Mailings[opts.address]
		if !ok {
			return fmt.Errorf("%s is not in the state (see `postform state list`)", opts.address)
		}
		writeMailing(g, sess.engine, m, opts.recipients.forView(sess.cfg.Review.Recipients, false))
		return nil
	})
}

// writeMailing prints one letter for state show and show. Every value is
// escaped: the state holds what the platform answered. Names are the
// plan's: a document's box is main when none is set, a proof is the path
// a user opens.
func writeMailing(g *globals, eng *reconcile.Engine, m *state.Mailing, recipients string) {
	w := g.stdout
	e := termtext.Escape
	fmt.Fprintf(w, "# %s\n", e(m.Address))
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-16s = %s\n", k, e(v))
		}
	}
	row("stage", string(reconcile.StageOf(m)))
	row("phase", string(m.Phase))
	row("job_name", m.JobName)
	row("job_id", m.JobID)
	row("job_status", jobStatusLine(m.JobStatus))
	row("service", fmt.Sprintf("%s (id %s)", m.Service, m.ServiceID))
	row("content_hash", m.ContentHash)
	row("input_hash", m.InputHash)
	row("recipient", recipientLine(stateRecipient(m.Recipient), recipients))
	if !m.AttemptedAt.IsZero() {
		row("attempted_at", m.AttemptedAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	if !m.SubmittedAt.IsZero() {
		row("submitted_at", m.SubmittedAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	if !m.LastRefreshed.IsZero() {
		row("last_refreshed", m.LastRefreshed.Format("2006-01-02T15:04:05Z07:00"))
	}
	row("terminal", fmt.Sprint(m.Terminal))
	for _, d := range m.Documents {
		fmt.Fprintf(w, "document         = %s (box %s, sha256 %s, %d bytes)\n", e(d.File), e(boxName(d.Box)), e(d.SHA256), d.Size)
	}
	for _, pg := range m.PackGroups {
		fmt.Fprintf(w, "pack_group %s   = %s %s %s\n", e(pg.ID), e(pg.Channel), e(pg.Status), e(strings.Join(pg.Reasons, "; ")))
	}
	for _, d := range m.Deliveries {
		fmt.Fprintf(w, "delivery %s     = %s %s\n", e(d.ID), e(d.Channel), e(d.Status))
		for _, s := range d.Shipments {
			fmt.Fprintf(w, "  shipment %s = %d %s tracking %s\n", e(s.ID), s.StatusCode, e(s.StatusLabel), e(dash(s.TrackingNumber)))
			for _, ev := range s.Events {
				fmt.Fprintf(w, "    %s %s %s\n", ev.Date.Format("2006-01-02 15:04"), e(ev.Code), e(ev.Label))
			}
		}
	}
	for _, p := range m.Proofs {
		fmt.Fprintf(w, "proof %-10s = %s (sha256 %s, %d bytes, fetched %s)\n", e(p.Name), e(eng.ProofFile(p.Path)), e(p.SHA256), p.Size, p.FetchedAt.Format("2006-01-02T15:04:05Z07:00"))
	}
	for _, sj := range m.Superseded {
		fmt.Fprintf(w, "superseded job   = %s (posted %s, tracking %s, %d proof(s) kept)\n", e(sj.JobID), sj.SubmittedAt.Format("2006-01-02"), e(dash(strings.Join(sj.TrackingNumbers, ","))), len(sj.Proofs))
	}
	for _, p := range m.Problems {
		fmt.Fprintf(w, "problem          = %s\n", e(p))
	}
}

// boxName is a document's box as the plan names it: main when unset.
func boxName(box string) string {
	if box == "" {
		return "main"
	}
	return box
}

// jobStatusLine glosses the platform's job status: the job's CREATED is
// terminal once its deliveries exist, and is no letter's progress (that is
// the stage, above it).
func jobStatusLine(s string) string {
	switch s {
	case "":
		return ""
	case nirva.JobCreated:
		return s + " (the job is processed and its deliveries made; the letter's progress is its stage)"
	case nirva.JobPackGroupCreated:
		return s + " (the job waits for its pack groups to be eligible)"
	}
	return s
}
