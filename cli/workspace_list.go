package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/state"
)

func newWorkspaceListCommand(g *globals) *cobra.Command {
	opts := &workspaceOptions{g: g}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the workspaces; the selected one is marked with *",
		Example: `  postform workspace list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorkspaceList(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	return cmd
}

// runWorkspaceList prints the backend's workspaces, the selected one
// marked, listed even before its state is first written.
func runWorkspaceList(ctx context.Context, opts *workspaceOptions) error {
	g := opts.g
	return withWorkspaces(opts, func(cfg *config.Config, ws state.Workspaces) error {
		names, err := ws.List(ctx)
		if err != nil {
			return err
		}
		cur := state.CurrentWorkspace(cfg.Dir)
		if !slices.Contains(names, cur) {
			names = append(names, cur)
		}
		slices.Sort(names)
		for _, n := range names {
			mark := " "
			if n == cur {
				mark = "*"
			}
			// A pg backend's names and a checkout's .postform/environment
			// are not validated on the way in.
			fmt.Fprintf(g.stdout, "%s %s\n", mark, termtext.Escape(n))
		}
		return nil
	})
}
