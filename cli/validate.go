package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/reconcile"
)

// validateOptions are the arguments of postform validate.
type validateOptions struct {
	g    *globals
	load loadFlags
	out  formatFlags
}

func newValidateCommand(g *globals) *cobra.Command {
	opts := &validateOptions{g: g}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration and every PDF, without the network or the state",
		Example: `  postform validate
  postform validate --json --var 'batch=2026-03'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print {valid, error_count, warning_count, letters, diagnostics} as JSON")
	return cmd
}

// validateDocument is validate --json.
type validateDocument struct {
	FormatVersion int                        `json:"format_version"`
	Valid         bool                       `json:"valid"`
	ErrorCount    int                        `json:"error_count"`
	WarningCount  int                        `json:"warning_count"`
	Letters       int                        `json:"letters"`
	Diagnostics   []reconcile.PlanDiagnostic `json:"diagnostics"`
}

// runValidate checks the configuration of the working directory; the exit
// code is 1 when it is not valid.
func runValidate(_ context.Context, opts *validateOptions) error {
	g := opts.g
	format, err := opts.out.format()
	if err != nil {
		return err
	}
	if format == formatJSON {
		return validateJSON(g, opts.load)
	}
	cfg, err := g.loadConfig(opts.load, false)
	if err != nil {
		return err
	}
	if diags := addressProblems(cfg); len(diags) > 0 {
		// Every letter's, posted or not: plan reports only those it posts.
		g.writeDiagnostics(cfg, diags)
		return silent(ExitError)
	}
	fmt.Fprintf(g.stdout, "The configuration is valid: %d letter(s).\n", len(cfg.Mailings))
	return nil
}

// validateJSON prints the diagnostics as one JSON document instead of
// writing them to stderr.
func validateJSON(g *globals, lf loadFlags) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	recipients := openRecipientCache(dir)
	cfg, diags := config.Load(dir, config.LoadOptions{VarArgs: lf.args, Env: os.Environ(), Version: Version,
		PDF: processPDF(), Recipients: recipients, CacheDir: layout.UserCache()})
	if !diags.HasErrors() {
		recipients.save()
		diags = append(diags, addressProblems(cfg)...)
	}
	doc := validateDocument{FormatVersion: 1, Valid: !diags.HasErrors(), Diagnostics: []reconcile.PlanDiagnostic{}}
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			doc.ErrorCount++
		} else {
			doc.WarningCount++
		}
		doc.Diagnostics = append(doc.Diagnostics, reconcile.DiagnosticDocument(d))
	}
	if doc.Valid {
		doc.Letters = len(cfg.Mailings)
	}
	if err := writeJSON(g.stdout, doc); err != nil {
		return err
	}
	if !doc.Valid {
		return silent(ExitError)
	}
	return nil
}
