package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/postform/postform/audit"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/state"
)

// logOptions are the arguments of postform log.
type logOptions struct {
	g      *globals
	load   loadFlags
	out    formatFlags
	verify bool
	// address keeps only the entries that concern this letter ("": all).
	address string
}

func newLogCommand(g *globals) *cobra.Command {
	opts := &logOptions{g: g}
	cmd := &cobra.Command{
		Use:   "log [ADDRESS]",
		Short: "Show the audit trail: who applied or edited the state, when, from which commit and plan",
		Long: `log prints the audit trail kept with the state: one entry per apply (who, CI
run, git commit, postform version, saved plan's sha256, each letter posted)
and per state edit (state rm, state mv, state resolve, import, force-unlock).
Given an ADDRESS, only the entries that concern that letter.

Each entry carries the sha256 of the one before it. --verify checks the whole
chain and exits 1 naming the first entry that does not hold.`,
		Example: `  postform log
  postform log 'mailing.invoice["acme"]'
  postform log --json
  postform log --verify`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.address = args[0]
			}
			return runLog(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print the entries as one JSON document")
	cmd.Flags().BoolVar(&opts.verify, "verify", false, "check the hash chain and exit 1 naming the first entry that does not hold")
	return cmd
}

// runLog prints the audit trail in the view opts.out chooses, or with
// --verify checks its chain.
func runLog(ctx context.Context, opts *logOptions) error {
	g := opts.g
	format, err := opts.out.format()
	if err != nil {
		return err
	}
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		store, err := auditStore(sess)
		if err != nil {
			return err
		}
		entries, chainErr := audit.Read(ctx, store)
		var ce *audit.ChainError
		if chainErr != nil && !errors.As(chainErr, &ce) {
			return chainErr
		}
		if opts.verify {
			if chainErr != nil {
				return &exitError{code: ExitError, err: fmt.Errorf("%w in %s; it was changed after it was written (the entries before it hold)", chainErr, describeAudit(store))}
			}
			fmt.Fprintf(g.stdout, "The audit trail holds: %d entries, each chained to the one before (%s).\n", len(entries), describeAudit(store))
			return nil
		}
		if opts.address != "" {
			kept := entries[:0]
			for _, e := range entries {
				if e.Concerns(opts.address) {
					kept = append(kept, e)
				}
			}
			entries = kept
		}
		if format == formatJSON {
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(logDocument{FormatVersion: 1, Entries: entries}); err != nil {
				return err
			}
		} else {
			writeLog(g, entries)
		}
		if chainErr != nil {
			writeMessage(g.stderr, "Warning: ", chainErr.Error()+"; run `postform log --verify`")
		}
		return nil
	})
}

// logDocument is log --json.
type logDocument struct {
	FormatVersion int           `json:"format_version"`
	Entries       []audit.Entry `json:"entries"`
}

func writeLog(g *globals, entries []audit.Entry) {
	if len(entries) == 0 {
		fmt.Fprintln(g.stdout, "No audit entries.")
		return
	}
	e := termtext.Escape
	for _, en := range entries {
		who := en.User
		if en.Host != "" {
			who += "@" + en.Host
		}
		fmt.Fprintf(g.stdout, "#%d %s %s by %s", en.Seq, en.Time.Format(time.RFC3339), e(en.Action), e(who))
		if en.CI != nil {
			fmt.Fprintf(g.stdout, " (%s %s %s)", e(en.CI.System), e(en.CI.Actor), e(en.CI.RunURL))
		}
		fmt.Fprintln(g.stdout)
		switch {
		case en.Git.Commit != "" && en.Git.Dirty:
			fmt.Fprintf(g.stdout, "  commit %s (uncommitted changes)\n", e(en.Git.Commit))
		case en.Git.Commit != "":
			fmt.Fprintf(g.stdout, "  commit %s\n", e(en.Git.Commit))
		default:
			fmt.Fprintf(g.stdout, "  commit unknown: %s\n", e(en.Git.Unknown))
		}
		fmt.Fprintf(g.stdout, "  postform %s\n", e(en.PostformVersion))
		if en.PlanSHA256 != "" {
			fmt.Fprintf(g.stdout, "  plan %s sha256 %s\n", e(en.PlanFile), e(en.PlanSHA256))
		}
		if en.Detail != "" {
			fmt.Fprintf(g.stdout, "  %s\n", e(en.Detail))
		}
		for _, a := range en.Addresses {
			fmt.Fprintf(g.stdout, "  %s\n", e(a))
		}
		for _, l := range en.Letters {
			fmt.Fprintf(g.stdout, "  %s %s job %s (content %s)\n", e(l.Status), e(l.Address), e(dash(l.JobID)), e(l.ContentHash))
		}
	}
}

// auditStore is where the session's backend keeps the audit trail.
func auditStore(sess *session) (audit.Store, error) {
	s, ok := sess.backend.(audit.Store)
	if !ok {
		return nil, fmt.Errorf("the state backend %s keeps no audit trail", sess.backend.Describe())
	}
	return s, nil
}

func describeAudit(s audit.Store) string {
	if d, ok := s.(interface{ DescribeAudit() string }); ok {
		return d.DescribeAudit()
	}
	return "the audit trail"
}

// newAuditEntry describes who runs action, from where: never a secret
// (the CI identity is names and URLs, the commit is a hash).
func newAuditEntry(ctx context.Context, sess *session, action string) audit.Entry {
	host, _ := os.Hostname()
	return audit.Entry{
		Time:            time.Now(),
		Action:          action,
		Workspace:       state.CurrentWorkspace(sess.cfg.Dir),
		User:            audit.UserName(),
		Host:            host,
		CI:              audit.CIOf(os.Getenv),
		Git:             audit.GitOf(ctx, sess.cfg.Dir),
		PostformVersion: Version,
	}
}

// appendAudit appends e to the session's trail.
func appendAudit(sess *session, e audit.Entry) error {
	store, err := auditStore(sess)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := audit.Append(ctx, store, e); err != nil {
		return fmt.Errorf("writing the audit entry of this run to %s: %w", describeAudit(store), err)
	}
	return nil
}

// auditApply notes what the state holds before an apply and returns the
// function that, deferred, appends the run's entry: every letter posted
// (a new attempt answered with a job id), left pending (a new attempt
// whose answer was lost) or adopted (an earlier attempt found by name). It runs under the lock, on every path out of the command. The
// letters posted are recorded in the state whatever happens here, so a
// failure is reported, not turned into a failed apply.
func (g *globals) auditApply(sess *session, planFiles ...string) func() {
	return g.auditRun(sess, "apply", false, planFiles...)
}

// auditRefresh is auditApply for refresh, which posts nothing but may
// adopt an earlier run's job or conclude it was not posted: an entry is
// written only when it did.
func (g *globals) auditRefresh(sess *session) func() {
	return g.auditRun(sess, "refresh", true)
}

// jobSeen is what the state said of one letter.
type jobSeen struct {
	job     string
	attempt time.Time
}

func snapshotJobs(st *state.State) map[string]jobSeen {
	out := make(map[string]jobSeen, len(st.Mailings))
	for addr, m := range st.Mailings {
		out[addr] = jobSeen{m.JobID, m.AttemptedAt}
	}
	return out
}

func (g *globals) auditRun(sess *session, action string, onlyWhenLetters bool, planFiles ...string) func() {
	// Compared with the state as the session read it, before the refresh
	// that precedes a plan adopted anything.
	before := sess.loaded
	if before == nil {
		before = snapshotJobs(sess.engine.State)
	}
	e := newAuditEntry(context.Background(), sess, action)
	for _, p := range planFiles {
		if p == "" {
			continue
		}
		if sum, ok := g.planSums[p]; ok {
			e.PlanFile, e.PlanSHA256 = p, sum
		}
	}
	return func() {
		st := sess.engine.State
		for _, addr := range st.Addresses() {
			m, b := st.Mailings[addr], before[addr]
			status := ""
			switch {
			case m.Phase == state.PhasePosted && m.JobID != "" && m.JobID != b.job && !m.AttemptedAt.Equal(b.attempt):
				status = "posted"
			case m.Phase == state.PhasePosted && m.JobID != "" && m.JobID != b.job:
				// An earlier run's unanswered attempt, found by its job name.
				status = "adopted"
			case m.Phase == state.PhasePending && !m.AttemptedAt.Equal(b.attempt):
				status = "pending"
			}
			if status != "" {
				e.Letters = append(e.Letters, audit.Letter{Address: addr, JobID: m.JobID, JobName: m.JobName, ContentHash: m.ContentHash, Status: status})
			}
		}
		if onlyWhenLetters && len(e.Letters) == 0 {
			return
		}
		if err := appendAudit(sess, e); err != nil {
			writeMessage(g.stderr, "Error: ", err.Error()+"; the letters posted are recorded in the state (`postform status`), only the audit trail misses this run")
		}
	}
}

// auditEdit appends the entry of a state edit that succeeded (err nil)
// and returns err, or the audit failure.
func (g *globals) auditEdit(sess *session, action string, addrs []string, detail string, err error) error {
	if err != nil {
		return err
	}
	e := newAuditEntry(context.Background(), sess, action)
	e.Detail = detail
	for _, a := range addrs {
		if m := sess.engine.State.Mailings[a]; m != nil && action == "import" {
			e.Letters = append(e.Letters, audit.Letter{Address: a, JobID: m.JobID, JobName: m.JobName, ContentHash: m.ContentHash, Status: "imported"})
			continue
		}
		e.Addresses = append(e.Addresses, a)
	}
	if err := appendAudit(sess, e); err != nil {
		return fmt.Errorf("%s was done and is recorded in the state, but %w", action, err)
	}
	return nil
}
