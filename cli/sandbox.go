package cli

import "github.com/spf13/cobra"

func newSandboxCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "sandbox", Short: "Run the built-in simulator of the postal platform, or list what it received",
		Long: `The sandbox simulates the postal platform: endpoint = "sandbox" runs it in
process (its world kept under .postform/sandbox/), 'sandbox serve' over HTTP.
It accepts any non-empty login and password but the password "wrong",
which it refuses (401 BAD_CREDENTIALS) as the platform refuses bad ones.
In process, a provider block with neither login nor password is given
sandbox/sandbox.`,
		Example: "  postform sandbox jobs\n  postform sandbox serve --addr 127.0.0.1:8080"}
	cmd.AddCommand(newSandboxServeCommand(g), newSandboxJobsCommand(g))
	return cmd
}
