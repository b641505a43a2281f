package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/shellquote"
)

// stateResolveOptions are the arguments of postform state resolve.
type stateResolveOptions struct {
	g         *globals
	load      loadFlags
	run       runFlags
	notPosted bool
	address   string
}

func newStateResolveCommand(g *globals) *cobra.Command {
	opts := &stateResolveOptions{g: g}
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
			opts.address = args[0]
			return runStateResolve(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.run.register(cmd)
	cmd.Flags().BoolVar(&opts.notPosted, "not-posted", false, "the letter was not posted (no job exists on the platform)")
	return cmd
}

// runStateResolve marks a pending letter not posted, so the next apply
// posts it; the user must say so with --not-posted.
func runStateResolve(ctx context.Context, opts *stateResolveOptions) error {
	g, addr := opts.g, opts.address
	if !opts.notPosted {
		return fmt.Errorf("say what you checked: --not-posted (or adopt the job with `postform import %s JOB_ID`)", shellquote.Quote(addr))
	}
	return g.withLockedSession(ctx, opts.load, opts.run, "state resolve", func(sess *session) error {
		if err := sess.engine.ResolveNotPosted(ctx, addr); err != nil {
			return err
		}
		if err := sess.persist(); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%s is marked not posted; the next apply will post it.\n", addr)
		return g.auditEdit(sess, "state resolve", []string{addr}, "--not-posted", nil)
	})
}
