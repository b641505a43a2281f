package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

func newStateCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and repair the state",
		Example: `  postform state list
  postform state show mailing.notice`,
	}
	cmd.AddCommand(newStateListCommand(g), newStateShowCommand(g), newStateRmCommand(g), newStateResolveCommand(g),
		newStatePullCommand(g), newStatePushCommand(g), newStateMvCommand(g))
	return cmd
}

func newStateListCommand(g *globals) *cobra.Command {
	var lf loadFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the addresses in the state",
		Example: `  postform state list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withReadOnlySession(cmd.Context(), lf, func(sess *session) error {
				for _, a := range sess.engine.State.Addresses() {
					fmt.Fprintln(g.stdout, termtext.Escape(a))
				}
				return nil
			})
		},
	}
	lf.register(cmd)
	return cmd
}

func newStateShowCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var rf recipientsFlag
	cmd := &cobra.Command{
		Use:     "show ADDRESS",
		Short:   "Show everything the state knows of one letter",
		Example: `  postform state show 'mailing.invoice["acme"]'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := rf.check(); err != nil {
				return err
			}
			return g.withReadOnlySession(cmd.Context(), lf, func(sess *session) error {
				m, ok := sess.engine.State.Mailings[args[0]]
				if !ok {
					return fmt.Errorf("%s is not in the state (see `postform state list`)", args[0])
				}
				writeMailing(g, sess.engine, m, rf.forView(sess.cfg.Review.Recipients, false))
				return nil
			})
		},
	}
	lf.register(cmd)
	rf.register(cmd)
	return cmd
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

func newStateRmCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var rf runFlags
	var force bool
	cmd := &cobra.Command{
		Use:     "rm ADDRESS...",
		Short:   "Stop tracking letters (nothing is unsent; proofs stay on disk)",
		Example: `  postform state rm mailing.notice`,
		Long: `rm removes letters from the state. A letter still in the configuration is then
planned as new, and posted again by the next apply: rm is for letters you
stop declaring, or before 'postform import'. A letter whose posting attempt is
unresolved may have been posted: rm refuses it unless --force.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withLockedSession(cmd.Context(), lf, rf, "state rm", func(sess *session) error {
				for _, a := range args {
					m, ok := sess.engine.State.Mailings[a]
					if !ok {
						return fmt.Errorf("%s is not in the state (see `postform state list`)", a)
					}
					if m.Phase == state.PhasePending && !force {
						return fmt.Errorf("%s has an unresolved posting attempt (job name %q): it may have been posted, and removing it would let the next apply post it again. Resolve it first (`postform refresh`, `postform import %s JOB_ID` or `postform state resolve %s --not-posted`), or use --force", a, m.JobName, shellquote.Quote(a), shellquote.Quote(a))
					}
				}
				for _, a := range args {
					if err := sess.engine.Forget(cmd.Context(), a); err != nil {
						return err
					}
					fmt.Fprintf(g.stdout, "Removed %s from the state.\n", a)
					for _, m := range sess.cfg.Mailings {
						if m.Address == a {
							fmt.Fprintf(g.stderr, "Warning: %s is still in the configuration: the next plan posts it again unless you `postform import %s JOB_ID` or remove its block.\n", a, shellquote.Quote(a))
						}
					}
				}
				return g.auditEdit(sess, "state rm", args, map[bool]string{true: "--force"}[force], sess.persist())
			})
		},
	}
	lf.register(cmd)
	rf.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "remove letters whose posting attempt is unresolved")
	return cmd
}

func newStateResolveCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var rf runFlags
	var notPosted bool
	cmd := &cobra.Command{
		Use:     "resolve ADDRESS --not-posted",
		Short:   "Declare that an interrupted posting attempt posted nothing",
		Example: `  postform state resolve mailing.notice --not-posted`,
		Long: `When a run stopped between recording a letter as pending and the platform's
answer, and the platform cannot look jobs up by name, postform cannot tell
whether the letter was posted. Check on the platform; if a job exists, adopt it
with 'postform import ADDRESS JOB_ID'; if none does, run this command so the
next apply posts it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !notPosted {
				return fmt.Errorf("say what you checked: --not-posted (or adopt the job with `postform import %s JOB_ID`)", shellquote.Quote(args[0]))
			}
			return g.withLockedSession(cmd.Context(), lf, rf, "state resolve", func(sess *session) error {
				if err := sess.engine.ResolveNotPosted(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "%s is marked not posted; the next apply will post it.\n", args[0])
				return g.auditEdit(sess, "state resolve", args, "--not-posted", sess.persist())
			})
		},
	}
	lf.register(cmd)
	rf.register(cmd)
	cmd.Flags().BoolVar(&notPosted, "not-posted", false, "the letter was not posted (no job exists on the platform)")
	return cmd
}

func newStatePullCommand(g *globals) *cobra.Command {
	var lf loadFlags
	cmd := &cobra.Command{
		Use:     "pull",
		Short:   "Print the state (snapshot and journal folded) as JSON",
		Example: `  postform state pull > backup.state.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withReadOnlySession(cmd.Context(), lf, func(sess *session) error {
				data, err := state.Encode(sess.engine.State)
				if err != nil {
					return err
				}
				g.stdout.Write(data)
				return nil
			})
		},
	}
	lf.register(cmd)
	return cmd
}

func newStatePushCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var rf runFlags
	var force bool
	cmd := &cobra.Command{
		Use:     "push FILE",
		Short:   "Replace the state with FILE (refused for another lineage or an older serial unless --force)",
		Example: `  postform state push backup.state.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			return g.withLockedSession(cmd.Context(), lf, rf, "state push", func(sess *session) error {
				if err := state.Push(cmd.Context(), sess.backend, data, force); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Pushed %s to %s.\n", args[0], sess.backend.Describe())
				return nil
			})
		},
	}
	lf.register(cmd)
	rf.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "replace a state of another lineage or a newer serial")
	return cmd
}

func newStateMvCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var rf runFlags
	cmd := &cobra.Command{
		Use:   "mv FROM TO",
		Short: "Give a tracked letter a new address, after renaming its mailing block or key",
		Example: `  postform state mv mailing.notice mailing.reminder
  postform state mv 'mailing.invoice["acme"]' 'mailing.invoice["acme-sas"]'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, to := args[0], args[1]
			if _, _, _, err := config.ParseAddress(to); err != nil {
				return fmt.Errorf("%q is not a mailing address (e.g. mailing.invoice[\"acme\"]): %v", to, err)
			}
			return g.withLockedSession(cmd.Context(), lf, rf, "state mv", func(sess *session) error {
				if err := sess.engine.Move(cmd.Context(), from, to); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Moved %s to %s.\n", from, to)
				return g.auditEdit(sess, "state mv", args, "", sess.persist())
			})
		},
	}
	lf.register(cmd)
	rf.register(cmd)
	return cmd
}
