package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/postform/postform/state"
)

// statePushOptions are the arguments of postform state push.
type statePushOptions struct {
	g     *globals
	load  loadFlags
	run   runFlags
	force bool
	file  string
}

func newStatePushCommand(g *globals) *cobra.Command {
	opts := &statePushOptions{g: g}
	cmd := &cobra.Command{
		Use:     "push FILE",
		Short:   "Replace the state with FILE (refused for another lineage or an older serial unless --force)",
		Example: `  postform state push backup.state.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			return runStatePush(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.run.register(cmd)
	cmd.Flags().BoolVar(&opts.force, "force", false, "replace a state of another lineage or a newer serial")
	return cmd
}

// runStatePush replaces the backend's state with the file, under the lock.
func runStatePush(ctx context.Context, opts *statePushOptions) error {
	g := opts.g
	data, err := os.ReadFile(opts.file)
	if err != nil {
		return err
	}
	return g.withLockedSession(ctx, opts.load, opts.run, "state push", func(sess *session) error {
		if err := state.Push(ctx, sess.backend, data, opts.force); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Pushed %s to %s.\n", opts.file, sess.backend.Describe())
		return nil
	})
}
