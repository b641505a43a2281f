package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// importOptions are the arguments of postform import.
type importOptions struct {
	g       *globals
	load    loadFlags
	run     runFlags
	address string
	jobID   string
}

func newImportCommand(g *globals) *cobra.Command {
	opts := &importOptions{g: g}
	cmd := &cobra.Command{
		Use:     "import ADDRESS JOB_ID",
		Short:   "Adopt a job that exists on the platform into the state",
		Example: `  postform import 'mailing.invoice["acme"]' 88012`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.address, opts.jobID = args[0], args[1]
			return runImport(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	opts.run.register(cmd)
	return cmd
}

// runImport adopts an existing job as the letter at opts.address, under the
// state lock, and records it in the audit trail.
func runImport(ctx context.Context, opts *importOptions) error {
	g, addr, jobID := opts.g, opts.address, opts.jobID
	return g.withLockedSession(ctx, opts.load, opts.run, "import", func(sess *session) error {
		desired := configMailing(sess.cfg, addr)
		if desired == nil {
			return fmt.Errorf("%s is not a mailing of this configuration: declare it first, so that postform knows what the job is", addr)
		}
		if err := sess.connect(ctx, false); err != nil {
			return err
		}
		if err := sess.engine.Import(ctx, addr, jobID, importBase(desired)); err != nil {
			sess.persist()
			return err
		}
		if err := g.auditEdit(sess, "import", []string{addr}, "", sess.persist()); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Imported job %s as %s.\n", jobID, addr)
		return nil
	})
}

// importBase is what the configuration says of an imported letter: the
// same record a post would make, recipient included, so that the next plan
// compares it like any posted letter.
func importBase(m *config.Mailing) *state.Mailing { return reconcile.NewRecord(m, "") }

// configMailing is the configuration's mailing at addr, nil when it
// declares none.
func configMailing(cfg *config.Config, addr string) *config.Mailing {
	for _, m := range cfg.Mailings {
		if m.Address == addr {
			return m
		}
	}
	return nil
}
