package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
)

// stateListOptions are the arguments of postform state list.
type stateListOptions struct {
	g    *globals
	load loadFlags
}

func newStateListCommand(g *globals) *cobra.Command {
	opts := &stateListOptions{g: g}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the addresses in the state",
		Example: `  postform state list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStateList(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	return cmd
}

// runStateList prints every address the state holds, one a line, sorted.
func runStateList(ctx context.Context, opts *stateListOptions) error {
	g := opts.g
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		for _, a := range sess.engine.State.Addresses() {
			fmt.Fprintln(g.stdout, termtext.Escape(a))
		}
		return nil
	})
}
