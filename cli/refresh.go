package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
)

func newRefreshCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var rf runFlags
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Ask the platform about every unfinished letter and download new proofs",
		Example: `  postform refresh
  postform refresh --lock-timeout=1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withLockedSession(cmd.Context(), lf, rf, "refresh", func(sess *session) error {
				todo := len(sess.engine.NeedsRefresh())
				pending := len(sess.engine.Pending())
				if todo+pending == 0 {
					fmt.Fprintln(g.stdout, "Nothing to refresh: every letter in the state is done.")
					return nil
				}
				if err := sess.connect(cmd.Context(), pending > 0); err != nil {
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
		},
	}
	lf.register(cmd)
	rf.register(cmd)
	return cmd
}
