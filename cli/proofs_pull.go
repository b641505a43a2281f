package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/state"
)

// proofsPullOptions are the arguments of postform proofs pull.
type proofsPullOptions struct {
	g    *globals
	load loadFlags
	// addresses select letters as --target does (none: all).
	addresses []string
}

func newProofsPullCommand(g *globals) *cobra.Command {
	opts := &proofsPullOptions{g: g}
	cmd := &cobra.Command{
		Use:   "pull [ADDRESS...]",
		Short: "Write the proofs kept in the state database (pg backend) to the proofs folder",
		Long: `With the pg backend, every proof refresh downloads is also kept in the
database. pull writes every proof the state records (or those of ADDRESS…)
to the proofs folder, byte for byte, on any machine: nothing is asked of the
platform. A file already there with the right sha256 is left alone; a
missing or altered one is written again.`,
		Example: `  postform proofs pull
  postform proofs pull 'mailing.invoice["acme"]'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.addresses = args
			return runProofsPull(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	return cmd
}

// runProofsPull writes the proofs the pg backend keeps to the proofs folder.
func runProofsPull(ctx context.Context, opts *proofsPullOptions) error {
	g := opts.g
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		store, ok := sess.backend.(state.ProofStore)
		if !ok {
			return fmt.Errorf("the state %s keeps no proofs: with the local backend they live only in the proofs folder; pull needs the pg backend", sess.backend.Describe())
		}
		return g.pullProofs(ctx, sess, store, opts.addresses)
	})
}

func (g *globals) pullProofs(ctx context.Context, sess *session, store state.ProofStore, addrs []string) error {
	// The folder refresh downloads into: confined to the working directory.
	dir, err := sess.engine.ProofsFS()
	if err != nil {
		return err
	}
	written, kept := 0, 0
	var failed []string
	for _, addr := range sess.engine.State.Addresses() {
		if !selected(addr, addrs) {
			continue
		}
		for _, f := range evidenceOf(sess, sess.engine.State.Mailings[addr]) {
			if f.Kind != "proof" {
				continue
			}
			if fileProblem(f) == "" {
				kept++
				continue
			}
			data, err := store.LoadProof(ctx, f.SHA256)
			if err == nil {
				err = dir.WriteFile(f.Rel, data, 0o644)
			}
			if err != nil {
				failed = append(failed, f.describe()+": "+err.Error())
				continue
			}
			written++
			fmt.Fprintf(g.stdout, "%s\n", termtext.Escape(f.describe()))
		}
	}
	fmt.Fprintf(g.stdout, "Pulled %d proof(s) from %s; %d already on disk.\n", written, store.DescribeProofs(), kept)
	if len(failed) > 0 {
		for _, f := range failed {
			writeMessage(g.stderr, "Error: ", f)
		}
		return &exitError{code: ExitError, err: fmt.Errorf("%d proof(s) could not be pulled (listed above)", len(failed))}
	}
	return nil
}
