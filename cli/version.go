package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// versionOptions are the arguments of postform version: none but where
// to print.
type versionOptions struct {
	g *globals
}

func newVersionCommand(g *globals) *cobra.Command {
	opts := &versionOptions{g: g}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print postform's version",
		Example: "  postform version\n  postform --version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.Context(), opts)
		},
	}
}

func runVersion(_ context.Context, opts *versionOptions) error {
	_, err := fmt.Fprintf(opts.g.stdout, "postform %s\n", Version)
	return err
}
