package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postform/postform/state"
)

// statePullOptions are the arguments of postform state pull.
type statePullOptions struct {
	g    *globals
	load loadFlags
}

func newStatePullCommand(g *globals) *cobra.Command {
	opts := &statePullOptions{g: g}
	cmd := &cobra.Command{
		Use:     "pull",
		Short:   "Print the state (snapshot and journal folded) as JSON",
		Example: `  postform state pull > backup.state.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatePull(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	return cmd
}

// runStatePull writes the state in its file format to stdout.
func runStatePull(ctx context.Context, opts *statePullOptions) error {
	g := opts.g
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		data, err := state.Encode(sess.engine.State)
		if err != nil {
			return err
		}
		g.stdout.Write(data)
		return nil
	})
}
