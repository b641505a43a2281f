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

func newWorkspaceSelectCommand(g *globals) *cobra.Command {
	return newWorkspaceNameCommand(g, "select NAME", "Select an existing workspace", `  postform workspace select default`, runWorkspaceSelect)
}

// runWorkspaceSelect makes opts.name, which must exist (or be the
// default), the working directory's workspace.
func runWorkspaceSelect(ctx context.Context, opts *workspaceOptions) error {
	g, name := opts.g, opts.name
	return withWorkspaces(opts, func(cfg *config.Config, ws state.Workspaces) error {
		names, err := ws.List(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(names, name) && name != state.DefaultWorkspace {
			return fmt.Errorf("workspace %q does not exist (workspaces: %v); create it with `postform workspace new %s`", name, names, shellquote.Quote(name))
		}
		if err := state.SelectWorkspace(cfg.Dir, name); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Switched to workspace %q.\n", name)
		return nil
	})
}
