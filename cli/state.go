package cli

import "github.com/spf13/cobra"

func newStateCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Inspect and repair the state",
		Example: `  postform state list
  postform state show mailing.notice`,
	}
	cmd.AddCommand(newStateListCommand(g), newStateShowCommand(g), newStateRmCommand(g), newStateResolveCommand(g),
		newStatePullCommand(g), newStatePushCommand(g), newStateMvCommand(g))
	return cmd
}
