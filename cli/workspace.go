package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/state"
)

// backendConfig is the state.Config of the configuration's backend block
// for one workspace.
func backendConfig(cfg *config.Config, workspace string) state.Config {
	return state.Config{Type: cfg.Backend.Type, Dir: cfg.Dir, Workspace: workspace,
		Path: cfg.Backend.Attrs["path"], ConnStr: cfg.Backend.Attrs["conn_str"], SchemaName: cfg.Backend.Attrs["schema_name"]}
}

func newWorkspaceCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workspace",
		Short: "Keep several independent states (e.g. one per batch or environment)",
		Example: `  postform workspace new march
  postform workspace list`,
	}
	cmd.AddCommand(newWorkspaceListCommand(g), newWorkspaceNewCommand(g), newWorkspaceSelectCommand(g), newWorkspaceDeleteCommand(g))
	return cmd
}

// workspaceOptions are the arguments every workspace subcommand shares.
type workspaceOptions struct {
	g    *globals
	load loadFlags
	// name is the workspace named on the command line ("" for list).
	name string
}

// newWorkspaceNameCommand is a workspace subcommand of one NAME argument
// (new, select, delete), which run carries out.
func newWorkspaceNameCommand(g *globals, use, short, example string, run func(context.Context, *workspaceOptions) error) *cobra.Command {
	opts := &workspaceOptions{g: g}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			return run(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	return cmd
}

// withWorkspaces evaluates the configuration, opens its backend and runs fn
// on the backend's workspaces.
func withWorkspaces(opts *workspaceOptions, fn func(cfg *config.Config, ws state.Workspaces) error) error {
	cfg, err := opts.g.loadConfig(opts.load, true)
	if err != nil {
		return err
	}
	b, err := state.Open(backendConfig(cfg, state.CurrentWorkspace(cfg.Dir)))
	if err != nil {
		return err
	}
	defer b.Close()
	ws, ok := b.(state.Workspaces)
	if !ok {
		return fmt.Errorf("the %s backend does not support workspaces", cfg.Backend.Type)
	}
	return fn(cfg, ws)
}

// createWorkspace writes an empty state into a new workspace so that it is
// listed, and so its lineage is fixed from birth.
func createWorkspace(ctx context.Context, cfg *config.Config, name string) error {
	b, err := state.Open(backendConfig(cfg, name))
	if err != nil {
		return err
	}
	defer b.Close()
	st, err := b.Load(ctx)
	if err != nil {
		return err
	}
	data, err := state.Encode(st)
	if err != nil {
		return err
	}
	return state.Push(ctx, b, data, false)
}
