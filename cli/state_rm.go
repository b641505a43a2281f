package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/state"
)

// stateRmOptions are the arguments of postform state rm.
type stateRmOptions struct {
	g         *globals
	load      loadFlags
	run       runFlags
	force     bool
	addresses []string
}

func newStateRmCommand(g *globals) *cobra.Command {
	opts := &stateRmOptions{g: g}
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
			opts.addresses = args
			return runStateRm(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.run.register(cmd)
	cmd.Flags().BoolVar(&opts.force, "force", false, "remove letters whose posting attempt is unresolved")
	return cmd
}

// runStateRm forgets the letters at opts.addresses, refusing them all when
// one has an unresolved attempt (unless --force).
func runStateRm(ctx context.Context, opts *stateRmOptions) error {
	g, args := opts.g, opts.addresses
	return g.withLockedSession(ctx, opts.load, opts.run, "state rm", func(sess *session) error {
		for _, a := range args {
			m, ok := sess.engine.State.Mailings[a]
			if !ok {
				return fmt.Errorf("%s is not in the state (see `postform state list`)", a)
			}
			if m.Phase == state.PhasePending && !opts.force {
				return fmt.Errorf("%s has an unresolved posting attempt (job name %q): it may have been posted, and removing it would let the next apply post it again. Resolve it first (`postform refresh`, `postform import %s JOB_ID` or `postform state resolve %s --not-posted`), or use --force", a, m.JobName, shellquote.Quote(a), shellquote.Quote(a))
			}
		}
		for _, a := range args {
			if err := sess.engine.Forget(ctx, a); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Removed %s from the state.\n", a)
			if configMailing(sess.cfg, a) != nil {
				fmt.Fprintf(g.stderr, "Warning: %s is still in the configuration: the next plan posts it again unless you `postform import %s JOB_ID` or remove its block.\n", a, shellquote.Quote(a))
			}
		}
		detail := ""
		if opts.force {
			detail = "--force"
		}
		return g.auditEdit(sess, "state rm", args, detail, sess.persist())
	})
}
