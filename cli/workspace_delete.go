package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

func newWorkspaceDeleteCommand(g *globals) *cobra.Command {
	return newWorkspaceNameCommand(g, "delete NAME", "Delete a workspace whose state tracks no letter", `  postform workspace delete march`, runWorkspaceDelete)
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
