package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
)

// proofsVerifyOptions are the arguments of postform proofs verify.
type proofsVerifyOptions struct {
	g    *globals
	load loadFlags
	// bundle is an export to check against its manifest instead of the
	// state ("": check the state's files).
	bundle string
	// addresses select letters as --target does (none: all).
	addresses []string
}

func newProofsVerifyCommand(g *globals) *cobra.Command {
	opts := &proofsVerifyOptions{g: g}
	cmd := &cobra.Command{
		Use:   "verify [ADDRESS...]",
		Short: "Re-hash every proof and posted document against the state (or a bundle against its manifest)",
		Long: `verify reads every proof and every posted document the state records and
compares its sha256 and size with the state's, naming each file missing or
altered; it exits 1 if any is. With ADDRESS arguments, only those letters (a
mailing name selects all its instances).

With --bundle, it checks an export (a folder or a .zip written by
'postform proofs export') against its own manifest.json instead; no state
or configuration is read.`,
		Example: `  postform proofs verify
  postform proofs verify 'mailing.invoice["acme"]'
  postform proofs verify --bundle evidence.zip`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.addresses = args
			return runProofsVerify(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().StringVar(&opts.bundle, "bundle", "", "check the export `DIR` or FILE.zip against its manifest.json")
	return cmd
}

// runProofsVerify re-hashes every file the state vouches for (or a bundle
// against its manifest); any missing or altered file is exit 1.
func runProofsVerify(ctx context.Context, opts *proofsVerifyOptions) error {
	g := opts.g
	if opts.bundle != "" {
		if len(opts.addresses) > 0 {
			return errors.New("--bundle checks a whole bundle: give it without addresses")
		}
		return g.verifyBundle(opts.bundle)
	}
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		files, bad := 0, 0
		for _, addr := range sess.engine.State.Addresses() {
			if !selected(addr, opts.addresses) {
				continue
			}
			for _, f := range evidenceOf(sess, sess.engine.State.Mailings[addr]) {
				files++
				if p := fileProblem(f); p != "" {
					bad++
					fmt.Fprintf(g.stderr, "%s\n  %s\n", termtext.Escape(f.describe()), termtext.Escape(p))
				}
			}
		}
		if bad > 0 {
			return &exitError{code: ExitError, err: fmt.Errorf("%d of %d file(s) the state vouches for are missing or altered (listed above); %s", bad, files, restoreHint(sess))}
		}
		fmt.Fprintf(g.stdout, "All %d file(s) match the state: every proof and posted document has the sha256 recorded.\n", files)
		return nil
	})
}
