package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
)

// refreshOptions are the arguments of postform refresh.
type refreshOptions struct {
	g    *globals
	load loadFlags
	run  runFlags
}

func newRefreshCommand(g *globals) *cobra.Command {
	opts := &refreshOptions{g: g}
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Ask the platform about every unfinished letter and download new proofs",
		Example: `  postform refresh
  postform refresh --lock-timeout=1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRefresh(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.run.register(cmd)
	return cmd
}

// runRefresh asks the platform about every unfinished letter under the
// lock, records what it learns and downloads new proofs.
func runRefresh(ctx context.Context, opts *refreshOptions) error {
	g := opts.g
	return g.withLockedSession(ctx, opts.load, opts.run, "refresh", func(sess *session) error {
		todo := len(sess.engine.NeedsRefresh())
		pending := len(sess.engine.Pending())
		if todo+pending == 0 {
			fmt.Fprintln(g.stdout, "Nothing to refresh: every letter in the state is done.")
			return nil
		}
		if err := sess.connect(ctx, pending > 0); err != nil {
			return err
		}
		defer g.auditRefresh(sess)()
		// One line per change, even on a terminal, and a line
		// when the platform keeps it silent for long.
		p := newProgress(g, sess.engine, 0).plain()
		p.beat = startHeartbeat(g.stdout, fmt.Sprintf("Refreshing %d unfinished letter(s)", todo+pending))
		sess.engine.OnEvent = p.event
		res := sess.engine.Refresh(g.interrupt)
		p.done()
		if err := sess.persist(); err != nil {
			return &exitError{code: ExitError, err: err}
		}
		for _, addr := range sortedKeys(res.Errors) {
			fmt.Fprintf(g.stderr, "Error: refreshing %s: %s\n", termtext.Escape(addr), termtext.Escape(res.Errors[addr].Error()))
		}
		fmt.Fprintf(g.stdout, "Refreshed %d letter(s); %d still in progress.\n", res.Refreshed, len(sess.engine.NeedsRefresh())+len(sess.engine.Pending()))
		if len(res.Errors) > 0 {
			return silent(ExitError)
		}
		return nil
	})
}
