package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

func newValidateCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration and every PDF, without the network or the state",
		Example: `  postform validate
  postform validate --json --var 'batch=2026-03'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return g.validateJSON(lf)
			}
			cfg, err := g.loadConfig(lf, false)
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
		},
	}
	lf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {valid, error_count, warning_count, letters, diagnostics} as JSON")
	return cmd
}

func newImportCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var rf runFlags
	cmd := &cobra.Command{
		Use:     "import ADDRESS JOB_ID",
		Short:   "Adopt a job that exists on the platform into the state",
		Example: `  postform import 'mailing.invoice["acme"]' 88012`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, jobID := args[0], args[1]
			return g.withLockedSession(cmd.Context(), lf, rf, "import", func(sess *session) error {
				var desired *config.Mailing
				for _, m := range sess.cfg.Mailings {
					if m.Address == addr {
						desired = m
					}
				}
				if desired == nil {
					return fmt.Errorf("%s is not a mailing of this configuration: declare it first, so that postform knows what the job is", addr)
				}
				if err := sess.connect(cmd.Context(), false); err != nil {
					return err
				}
				if err := sess.engine.Import(cmd.Context(), addr, jobID, importBase(desired)); err != nil {
					sess.persist()
					return err
				}
				if err := g.auditEdit(sess, "import", []string{addr}, "", sess.persist()); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Imported job %s as %s.\n", jobID, addr)
				return nil
			})
		},
	}
	lf.register(cmd)
	rf.register(cmd)
	return cmd
}

// importBase is the state record the configuration implies for a job
// being adopted, so that the next plan compares it like any posted letter.
// importBase is what the configuration says of an imported letter: the
// same record a post would make, recipient included.
func importBase(m *config.Mailing) *state.Mailing { return reconcile.NewRecord(m, "") }

func newForceUnlockCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var force bool
	cmd := &cobra.Command{
		Use:     "force-unlock LOCK_ID",
		Short:   "Remove a state lock left by a process that is gone",
		Example: `  postform force-unlock 6f1c2a9e-8d41-4c6b-9a57-2f0e3b1d7c55`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				const warning = "force-unlock removes another run's lock; if that run is still posting, two runs could post the same letters. Make sure it is gone"
				if !isTerminal(g.stdin) {
					return fmt.Errorf("%s, then run with --force", warning)
				}
				fmt.Fprintf(g.stdout, "%s.\n  Only 'yes' will be accepted to remove lock %s.\n\n  Enter a value: ", warning, args[0])
				line, _ := bufio.NewReader(g.stdin).ReadString('\n')
				if strings.TrimSpace(line) != "yes" {
					return errors.New("force-unlock cancelled: the lock is still held")
				}
			}
			sess, err := g.openSession(cmd.Context(), lf, true, "force-unlock", false, runFlags{})
			if err != nil {
				return err
			}
			defer sess.close()
			if err := g.auditEdit(sess, "force-unlock", nil, "lock "+args[0], sess.backend.ForceUnlock(cmd.Context(), args[0])); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "The state lock %s was removed.\n", args[0])
			return nil
		},
	}
	lf.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "do not ask for confirmation")
	return cmd
}

func newSandboxCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "sandbox", Short: "Run the built-in simulator of the postal platform, or list what it received",
		Long: `The sandbox simulates the postal platform: endpoint = "sandbox" runs it in
process (its world kept under .postform/sandbox/), 'sandbox serve' over HTTP.
It accepts any non-empty login and password but the password "wrong",
which it refuses (401 BAD_CREDENTIALS) as the platform refuses bad ones.
In process, a provider block with neither login nor password is given
sandbox/sandbox.`,
		Example: "  postform sandbox jobs\n  postform sandbox serve --addr 127.0.0.1:8080"}
	var opts sandbox.Options
	var addr, hostile string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the simulator over HTTP on a loopback address",
		Example: `  postform sandbox serve --addr 127.0.0.1:8080 --time-scale 60
  postform sandbox serve --dir world --fail-rate 0.1 --drop-after-create 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := sandbox.ParseHostile(hostile)
			if err != nil {
				return fmt.Errorf("--hostile: %w", err)
			}
			opts.Faults.Hostile = h
			opts.PDF = processPDF()
			return sandbox.Serve(g.interrupt, addr, opts, func(a string) {
				fmt.Fprintf(g.stdout, "sandbox listening on http://%s\n", a)
			})
		},
	}
	f := serve.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (loopback)")
	f.StringVar(&opts.Dir, "dir", "", "keep the world in this folder across restarts (default: memory only)")
	f.Float64Var(&opts.TimeScale, "time-scale", 1, "run the letters' clock this many times faster")
	f.DurationVar(&opts.Faults.Latency, "latency", 0, "add this latency to every request")
	f.Float64Var(&opts.Faults.FailRate, "fail-rate", 0, "answer this fraction of requests with 503")
	f.IntVar(&opts.Faults.Burst429Every, "burst-429-every", 0, "every Nth request starts a burst of 429s")
	f.IntVar(&opts.Faults.Burst429Len, "burst-429-len", 3, "length of each 429 burst")
	f.IntVar(&opts.Faults.RetryAfter, "retry-after", 1, "Retry-After seconds on 429")
	f.IntVar(&opts.Faults.DropAfterCreate, "drop-after-create", 0, "drop the response of the next N job creations (the jobs exist)")
	f.BoolVar(&opts.Faults.HangAfterCreate, "hang-after-create", false, "never answer job creations (the jobs exist)")
	f.BoolVar(&opts.Faults.NoJobLookup, "no-job-lookup", false, "answer 405 to job lookup by name")
	f.DurationVar(&opts.TokenIdle, "token-idle", 0, "tokens expire after this idle time (default 30m)")
	f.Int64Var(&opts.Faults.Seed, "seed", 1, "random seed for injected faults")
	f.StringVar(&hostile, "hostile", "", "misbehave on purpose, to test a client against a hostile platform: a comma-separated list of "+strings.Join(sandbox.HostileModes, ", "))
	cmd.AddCommand(serve, newSandboxJobsCommand(g))
	return cmd
}

// validateJSON prints the diagnostics as one JSON document; the exit code
// is 1 when the configuration is not valid.
func (g *globals) validateJSON(lf loadFlags) error {
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
	doc := struct {
		FormatVersion int                        `json:"format_version"`
		Valid         bool                       `json:"valid"`
		ErrorCount    int                        `json:"error_count"`
		WarningCount  int                        `json:"warning_count"`
		Letters       int                        `json:"letters"`
		Diagnostics   []reconcile.PlanDiagnostic `json:"diagnostics"`
	}{FormatVersion: 1, Valid: !diags.HasErrors(), Diagnostics: []reconcile.PlanDiagnostic{}}
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
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, string(b))
	if !doc.Valid {
		return silent(ExitError)
	}
	return nil
}
