package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

func newWorkspaceDeleteCommand(g *globals) *cobra.Command {
	opts := &workspaceOptions{g: g}
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a workspace whose state tracks no letter",
		Example: `  postform workspace delete march`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			return runWorkspaceDelete(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	return cmd
}

// runWorkspaceDelete deletes the workspace opts.name; the backend refuses
// one whose state still tracks a letter, and the selected one is refused
// here.
func runWorkspaceDelete(ctx context.Context, opts *workspaceOptions) error {
	g, name := opts.g, opts.name
	return withWorkspaces(opts, func(cfg *config.Config, ws state.Workspaces) error {
		if name == state.CurrentWorkspace(cfg.Dir) {
			return fmt.Errorf("workspace %q is selected: select another one before deleting it", name)
		}
		if err := ws.Delete(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Deleted workspace %q.\n", name)
		return nil
	})
}
