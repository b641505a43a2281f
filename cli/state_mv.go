package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
)

// stateMvOptions are the arguments of postform state mv.
type stateMvOptions struct {
	g        *globals
	load     loadFlags
	run      runFlags
	from, to string
}

func newStateMvCommand(g *globals) *cobra.Command {
	opts := &stateMvOptions{g: g}
	cmd := &cobra.Command{
		Use:   "mv FROM TO",
		Short: "Give a tracked letter a new address, after renaming its mailing block or key",
		Example: `  postform state mv mailing.notice mailing.reminder
  postform state mv 'mailing.invoice["acme"]' 'mailing.invoice["acme-sas"]'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.from, opts.to = args[0], args[1]
			return runStateMv(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.run.register(cmd)
	return cmd
}

// runStateMv moves the record at opts.from to opts.to, under the lock.
func runStateMv(ctx context.Context, opts *stateMvOptions) error {
	g, from, to := opts.g, opts.from, opts.to
	if _, _, _, err := config.ParseAddress(to); err != nil {
		return fmt.Errorf("%q is not a mailing address (e.g. mailing.invoice[\"acme\"]): %v", to, err)
	}
	return g.withLockedSession(ctx, opts.load, opts.run, "state mv", func(sess *session) error {
		if err := sess.engine.Move(ctx, from, to); err != nil {
			return err
		}
		// Said once the state is written, as import does: a failed write
		// moved nothing.
		if err := sess.persist(); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Moved %s to %s.\n", from, to)
		return g.auditEdit(sess, "state mv", []string{from, to}, "", nil)
	})
}
