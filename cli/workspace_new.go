package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/state"
)

func newWorkspaceNewCommand(g *globals) *cobra.Command {
	return newWorkspaceNameCommand(g, "new NAME", "Create a workspace with an empty state and select it", `  postform workspace new march`, runWorkspaceNew)
}

// runWorkspaceNew creates the workspace opts.name with an empty state and
// selects it.
func runWorkspaceNew(ctx context.Context, opts *workspaceOptions) error {
	g, name := opts.g, opts.name
	if err := state.ValidateWorkspaceName(name); err != nil {
		return err
	}
	return withWorkspaces(opts, func(cfg *config.Config, ws state.Workspaces) error {
		names, err := ws.List(ctx)
		if err != nil {
			return err
		}
		if slices.Contains(names, name) {
			return fmt.Errorf("workspace %q already exists; select it with `postform workspace select %s`", name, shellquote.Quote(name))
		}
		if err := createWorkspace(ctx, cfg, name); err != nil {
			return err
		}
		if err := state.SelectWorkspace(cfg.Dir, name); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Created and selected workspace %q: its state is empty.\n", name)
		return nil
	})
}
