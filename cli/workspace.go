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
	var lf loadFlags
	withWorkspaces := func(ctx context.Context, fn func(cfg *config.Config, ws state.Workspaces) error) error {
		cfg, err := g.loadConfig(lf, true)
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
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the workspaces; the selected one is marked with *",
		Example: `  postform workspace list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWorkspaces(cmd.Context(), func(cfg *config.Config, ws state.Workspaces) error {
				names, err := ws.List(cmd.Context())
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
					fmt.Fprintf(g.stdout, "%s %s\n", mark, n)
				}
				return nil
			})
		},
	}
	newCmd := &cobra.Command{
		Use:     "new NAME",
		Short:   "Create a workspace with an empty state and select it",
		Example: `  postform workspace new march`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := state.ValidateWorkspaceName(name); err != nil {
				return err
			}
			return withWorkspaces(cmd.Context(), func(cfg *config.Config, ws state.Workspaces) error {
				names, err := ws.List(cmd.Context())
				if err != nil {
					return err
				}
				if slices.Contains(names, name) {
					return fmt.Errorf("workspace %q already exists; select it with `postform workspace select %s`", name, shellquote.Quote(name))
				}
				if err := createWorkspace(cmd.Context(), cfg, name); err != nil {
					return err
				}
				if err := state.SelectWorkspace(cfg.Dir, name); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Created and selected workspace %q: its state is empty.\n", name)
				return nil
			})
		},
	}
	selectCmd := &cobra.Command{
		Use:     "select NAME",
		Short:   "Select an existing workspace",
		Example: `  postform workspace select default`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			return withWorkspaces(cmd.Context(), func(cfg *config.Config, ws state.Workspaces) error {
				names, err := ws.List(cmd.Context())
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
		},
	}
	deleteCmd := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a workspace whose state tracks no letter",
		Example: `  postform workspace delete march`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			return withWorkspaces(cmd.Context(), func(cfg *config.Config, ws state.Workspaces) error {
				if name == state.CurrentWorkspace(cfg.Dir) {
					return fmt.Errorf("workspace %q is selected: select another one before deleting it", name)
				}
				if err := ws.Delete(cmd.Context(), name); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Deleted workspace %q.\n", name)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{list, newCmd, selectCmd, deleteCmd} {
		lf.register(c)
		cmd.AddCommand(c)
	}
	return cmd
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
