package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/reconcile"
)

// applyOptions are the arguments of postform apply.
type applyOptions struct {
	g           *globals
	plan        planFlags
	autoApprove bool
	// approved is a reviewed plan the new plan must equal ("": none).
	approved string
	// wait keeps refreshing after posting, every interval, for this long.
	wait, interval time.Duration
	// planFile is a saved plan to post exactly ("": plan afresh).
	planFile string
}

func newApplyCommand(g *globals) *cobra.Command {
	opts := &applyOptions{g: g}
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Post the planned letters exactly once, then track them",
		Long: `apply plans (refreshing first), shows the plan, asks for confirmation and posts.
Given a plan saved by 'plan --out', it posts exactly that plan without asking,
after checking that the state has not moved and that every PDF still has the
sha256 it was planned with.

With --approved=FILE (a plan saved by 'plan --out' and reviewed, typically on
the pull request), apply plans afresh and posts only if every letter it would
post, forget or edit is exactly one of the approved plan (address, job name,
service, options, documents, recipient), naming every difference otherwise.
The state may have moved since the review: the approval travels across the
merge; what is posted is what was reviewed.`,
		Example: `  postform apply
  postform apply --auto-approve --wait=10m
  postform apply review.plan
  postform apply --approved=review.plan`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.planFile = args[0]
			}
			return runApply(cmd.Context(), opts)
		},
	}
	opts.plan.register(cmd)
	cmd.Flags().BoolVar(&opts.autoApprove, "auto-approve", false, "post without asking for confirmation")
	cmd.Flags().StringVar(&opts.approved, "approved", "", "post only if the new plan is exactly this reviewed plan `FILE` (saved by plan --out)")
	cmd.Flags().DurationVar(&opts.wait, "wait", 0, "after posting, keep refreshing until every letter is done or this long has passed (e.g. 2m); exit 4 if some are still unfinished then")
	cmd.Flags().DurationVar(&opts.interval, "poll-interval", 2*time.Second, "how often --wait asks the platform")
	return cmd
}

// runApply plans (or reads the saved plan), shows it, asks unless told
// not to, posts, and with --wait follows the letters.
func runApply(ctx context.Context, opts *applyOptions) error {
	// f is changed by a saved plan (its --target and --replace become f's,
	// for the view); opts stays as parsed.
	g, f := opts.g, opts.plan
	defer applyGC()()
	autoApprove, approvedPath, wait, interval := opts.autoApprove, opts.approved, opts.wait, opts.interval
	// The audit entry names the plan files this run read.
	planFiles := []string{approvedPath}
	if opts.planFile != "" {
		planFiles = []string{opts.planFile, approvedPath}
	}
	var sess *session
	var plan *reconcile.Plan
	var err error
	var approved *reconcile.SavedPlan
	if approvedPath != "" {
		if opts.planFile != "" {
			return &exitError{code: ExitError, err: errors.New("--approved compares a new plan with the approved one: give it without a PLANFILE")}
		}
		if approved, err = g.readPlan(approvedPath); err != nil {
			return &exitError{code: ExitError, err: fmt.Errorf("refusing to post, nothing was posted: the approved plan: %w", err)}
		}
		autoApprove = true // the reviewer's approval is the consent
	}
	if opts.planFile != "" {
		sess, plan, err = g.savedPlan(ctx, opts.planFile, &f)
		autoApprove = true
	} else {
		sess, plan, err = g.preparePlan(ctx, "apply", f)
	}
	if err != nil {
		return err
	}
	defer sess.close()
	defer g.auditApply(sess, planFiles...)()
	// The human view prints only the changes that do something (as plan's
	// does): a document of every letter the state holds was most of the
	// view's cost when a few letters are posted beside 100,000 recorded.
	_, view := f.briefView(sess.cfg, plan)
	g.renderPlan(sess.cfg, plan, view)
	if !plan.HasChanges() {
		g.writeUnfinished(sess.engine, wait)
	}
	if plan.Diagnostics.HasErrors() {
		fmt.Fprintln(g.stderr, "Nothing was posted: fix the errors above and run apply again.")
		return silent(ExitError)
	}
	if approved != nil {
		if err := reconcile.CheckApproved(approved, plan.Saved(Version, f.reconcileOptions())); err != nil {
			return &exitError{code: ExitError, err: fmt.Errorf("refusing to post, nothing was posted: %w\nReview the new plan (plan again on a pull request) and approve it", err)}
		}
		fmt.Fprintf(g.stdout, "\nThe plan is the approved one (%s): posting it.\n", approvedPath)
	}
	if plan.HasChanges() {
		if !autoApprove {
			if err := g.confirm(plan); err != nil {
				return err
			}
		}
		// Nothing after the posting reads the configuration's letters
		// (the record, the report, --wait and the audit entry read the
		// state): dropped here, and the plan with them, each letter's
		// evaluation is collected once it is posted, not held to the end
		// of the run beside the state that replaces it.
		if applyHook != nil {
			applyHook(sess.cfg, false)
		}
		sess.cfg.Mailings = nil
		res := sess.engine.Apply(g.interrupt, plan)
		if applyHook != nil {
			applyHook(sess.cfg, true)
		}
		perr := sess.persist()
		g.reportApply(res)
		if perr != nil {
			return &exitError{code: ExitError, err: perr}
		}
		if res.Interrupted {
			return silent(ExitInterrupted)
		}
		if len(res.Errors) > 0 {
			if wait > 0 {
				g.wait(sess, wait, interval)
			}
			return silent(ExitError)
		}
	}
	if wait > 0 {
		return g.wait(sess, wait, interval)
	}
	return nil
}

// applyHook, when set (by a test), runs with the session's configuration
// just before the posting (posted false) and once it returned (true).
var applyHook func(cfg *config.Config, posted bool)

// applyGCPercent is the collector's GOGC for an apply, unless GOGC is set.
// Execute's 200 suits a plan, whose heap is mostly what it keeps; an apply
// posts for minutes, allocating garbage (requests, answers, journal lines)
// over a live heap of the configuration, the plan and the new records. At
// 200 its heap reached three times that live heap: 652 MiB for 100,000
// letters (issue 18). The collections this adds run mostly while the
// workers wait on the network. It holds for the whole apply, evaluation
// and plan included, not only the posting: with the human view built
// whole, an apply's peak comes before its first POST.
const applyGCPercent = 100

// applyGC sets the collector's target for an apply and returns what
// restores it.
func applyGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(applyGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

// savedPlan loads a plan saved by plan --out and checks it before anything
// is posted: its digest, the same state lineage and serial, the same
// configuration, every change made again from the configuration and the
// state and found equal, and the same bytes in every PDF. What is applied
// is the plan made again, never the file's paths and names as written. The
// plan's --target and --replace become f's, for the view.
func (g *globals) savedPlan(ctx context.Context, path string, f *planFlags) (*session, *reconcile.Plan, error) {
	if len(f.targets)+len(f.excludes) > 0 {
		return nil, nil, &exitError{code: ExitError, err: errors.New("--target and --exclude cannot be used with a saved plan: it is applied exactly as planned; make a new plan with them instead")}
	}
	doc, err := g.readPlan(path)
	if err != nil {
		return nil, nil, &exitError{code: ExitError, err: fmt.Errorf("refusing the saved plan, nothing was posted: %w", err)}
	}
	// A saved plan narrows on its own (targets, excludes), but what would
	// post a letter again or raise the posting limit must be said again on
	// this command line: the file alone (which anyone can reseal) never
	// makes postform post more than the configuration allows.
	if err := confirmSavedPlanFlags(doc, f, path); err != nil {
		return nil, nil, &exitError{code: ExitError, err: fmt.Errorf("refusing the saved plan, nothing was posted: %w", err)}
	}
	f.targets, f.excludes, f.replace = doc.Targets, doc.Excludes, doc.Replace
	if doc.Summary.MaxPostsFrom == reconcile.LimitFlag {
		f.maxPosts = doc.Summary.MaxPosts
	}
	now, err := planClock()
	if err != nil {
		return nil, nil, err
	}
	// The recipients the plan shows are read again (from the cache when
	// known) to be checked; a plan that read none skips preflight as before.
	sess, err := g.openSession(ctx, f.load, !readsRecipients(doc), "apply", true, f.run)
	if err != nil {
		return nil, nil, err
	}
	plan, err := reconcile.PlanFromSaved(doc, sess.cfg, sess.engine.State, now)
	if err == nil {
		err = plan.VerifyFiles()
	}
	if err != nil && !errors.Is(err, reconcile.ErrStalePlan) {
		err = fmt.Errorf("refusing the saved plan, nothing was posted:\n%w\nRun plan again and review the new plan", err)
	}
	if err != nil {
		sess.close()
		return nil, nil, &exitError{code: ExitError, err: err}
	}
	c := plan.Counts()
	if c.Post > 0 || c.Update > 0 {
		if err := sess.connect(ctx, c.Post > 0); err != nil {
			sess.close()
			return nil, nil, err
		}
	}
	return sess, plan, nil
}

// The environment variables that tune when an empty job-name lookup is
// taken as "not posted" (see reconcile.LookupPolicy; docs in the README).
const (
	envLookupWindow  = "POSTFORM_LOOKUP_WINDOW"
	envIndexingDelay = "POSTFORM_INDEXING_DELAY"
)

// lookupPolicyFromEnv is the default policy (3 lookups over 90 s, attempts
// older than 2 min), with the window and the platform's indexing delay
// taken from the environment when set.
func lookupPolicyFromEnv() (*reconcile.LookupPolicy, error) {
	p := reconcile.DefaultLookupPolicy()
	for name, d := range map[string]*time.Duration{envLookupWindow: &p.Window, envIndexingDelay: &p.IndexingDelay} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed < 0 {
			return nil, fmt.Errorf("%s=%q: want a duration such as 90s or 2m (0 to trust the first answer at once)", name, v)
		}
		*d = parsed
	}
	return &p, nil
}

// confirm asks for "yes" on a terminal and refuses when stdin is not one:
// letters cost money and cannot be recalled, so silence is never consent.
func (g *globals) confirm(p *reconcile.Plan) error {
	if !isTerminal(g.stdin) {
		return &exitError{code: ExitError, err: errors.New("apply needs confirmation but standard input is not a terminal: review the plan above, then run `postform apply --auto-approve`")}
	}
	c := p.Counts()
	fmt.Fprintf(g.stdout, "\nDo you want to post %d letter(s)? Posted letters cannot be recalled.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", c.Post)
	line, _ := bufio.NewReader(g.stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return &exitError{code: ExitError, err: errors.New("apply cancelled: nothing was posted")}
	}
	return nil
}

func (g *globals) reportApply(res *reconcile.ApplyResult) {
	for _, addr := range sortedKeys(res.Errors) {
		// One line per letter: its error quotes the platform, escaped whole.
		fmt.Fprintf(g.stderr, "Error: %s: %s\n", termtext.Escape(addr), termtext.Escape(res.Errors[addr].Error()))
	}
	parts := []string{fmt.Sprintf("%d posted", res.Posted)}
	if res.Refused > 0 {
		parts = append(parts, fmt.Sprintf("%d refused", res.Refused))
	}
	if res.Uncertain > 0 {
		parts = append(parts, fmt.Sprintf("%d uncertain (left pending; the next run resolves them)", res.Uncertain))
	}
	if res.Forgotten > 0 {
		parts = append(parts, fmt.Sprintf("%d forgotten", res.Forgotten))
	}
	if res.Edited > 0 {
		parts = append(parts, fmt.Sprintf("%d updated", res.Edited))
	}
	head := "Apply complete"
	if res.Interrupted {
		head = "Apply interrupted"
	}
	fmt.Fprintf(g.stdout, "\n%s: %s.\n", g.paint(bold, head), strings.Join(parts, ", "))
}

// wait keeps refreshing until every letter is terminal or d has passed,
// showing progress in place on a terminal and, otherwise, one plain line
// per change and a line with the counts per stage whenever nothing was
// printed for heartbeatEvery.
func (g *globals) wait(sess *session, d, interval time.Duration) error {
	deadline := time.Now().Add(d)
	if sess.client == nil && len(sess.engine.NeedsRefresh())+len(sess.engine.Pending()) > 0 {
		if err := sess.connect(g.interrupt, len(sess.engine.Pending()) > 0); err != nil {
			return err
		}
	}
	p := newProgress(g, sess.engine, d)
	defer p.done()
	sess.engine.OnEvent = p.event
	defer func() { sess.engine.OnEvent = nil }()
	for {
		left := sess.engine.NeedsRefresh()
		pending := sess.engine.Pending()
		p.draw()
		if len(left) == 0 && len(pending) == 0 {
			p.done()
			fmt.Fprintln(g.stdout, "All letters are done: delivered or failed, with their proofs kept.")
			return nil
		}
		if time.Now().After(deadline) {
			p.done()
			fmt.Fprintf(g.stdout, "Stopped waiting after %s: %d letter(s) still in progress; `postform refresh` picks up from here.\n", d, len(left)+len(pending))
			// Everything posted was recorded, but what was waited for
			// did not happen: CI must not take it for "delivered".
			return silent(ExitWaitTimeout)
		}
		sleep := min(interval, time.Until(deadline))
		select {
		case <-g.interrupt.Done():
			p.done()
			return silent(ExitInterrupted)
		case <-time.After(sleep):
		}
		res := sess.engine.Refresh(g.interrupt)
		if err := sess.persist(); err != nil {
			p.done()
			return &exitError{code: ExitError, err: err}
		}
		for _, addr := range sortedKeys(res.Errors) {
			p.warn(fmt.Sprintf("Warning: refreshing %s: %s", termtext.Escape(addr), termtext.Escape(res.Errors[addr].Error())))
		}
	}
}

// progress renders --wait. On a terminal: one line redrawn in place, the
// counts per stage and a bar, whatever the number of letters. Otherwise: a
// line per event, and a heartbeat line with the counts when the log would
// stay silent longer than heartbeatEvery.
type progress struct {
	g      *globals
	engine *reconcile.Engine
	tty    bool
	drawn  bool
	start  time.Time
	limit  time.Duration
	beat   *heartbeat
}

func newProgress(g *globals, e *reconcile.Engine, limit time.Duration) *progress {
	p := &progress{g: g, engine: e, tty: isTerminal(g.stdout), start: time.Now(), limit: limit}
	return p
}

// plain makes the progress one line per change, even on a terminal
// (refresh), with no heartbeat.
func (p *progress) plain() *progress {
	p.tty = false
	p.limit = -1
	return p
}

func (p *progress) event(ev reconcile.Event) {
	if p.tty {
		return
	}
	// Details quote the platform (statuses, proof names, problems).
	ev.Address, ev.Stage, ev.Detail = termtext.Escape(ev.Address), reconcile.Stage(termtext.Escape(string(ev.Stage))), termtext.Escape(ev.Detail)
	var line string
	switch ev.Kind {
	case reconcile.EventStage:
		line = fmt.Sprintf("%s: %s", ev.Address, ev.Stage)
		if ev.Detail != "" {
			line += " (" + ev.Detail + ")"
		}
	case reconcile.EventProof, reconcile.EventAdopted, reconcile.EventResolved, reconcile.EventProblem:
		line = fmt.Sprintf("%s: %s", ev.Address, ev.Detail)
	default:
		return
	}
	if p.beat != nil {
		p.beat.println(line)
		return
	}
	fmt.Fprintln(p.g.stdout, line)
}

// draw shows where the letters are. It reads the state, so it is called
// between refreshes only.
func (p *progress) draw() {
	counts, done, total := stageCounts(p.engine.State)
	elapsed := time.Since(p.start).Truncate(time.Second)
	if !p.tty {
		if p.limit < 0 {
			return
		}
		what := fmt.Sprintf("Waiting for %d of %d letter(s) to finish: %s", total-done, total, counts)
		if p.beat == nil {
			p.beat = startHeartbeat(p.g.stdout, what)
		} else {
			p.beat.set(what)
		}
		return
	}
	fmt.Fprintf(p.g.stdout, "\r\x1b[KWaiting %s of %s %s %d/%d finished: %s", elapsed, p.limit, bar(done, total, 20), done, total, counts)
	p.drawn = true
}

func (p *progress) warn(msg string) {
	if p.tty && p.drawn {
		fmt.Fprint(p.g.stdout, "\r\x1b[K")
	}
	if p.beat != nil {
		p.beat.printed()
	}
	fmt.Fprintln(p.g.stderr, msg)
}

func (p *progress) done() {
	if p.beat != nil {
		p.beat.stop()
		p.beat = nil
	}
	if p.tty && p.drawn {
		fmt.Fprintln(p.g.stdout)
		p.drawn = false
	}
}

// confirmSavedPlanFlags checks that --replace and --max-posts on the apply
// command line repeat exactly the plan's own: none when it has none.
func confirmSavedPlanFlags(doc *reconcile.SavedPlan, f *planFlags, path string) error {
	given, saved := slices.Sorted(slices.Values(f.replace)), slices.Sorted(slices.Values(doc.Replace))
	if !slices.Equal(given, saved) {
		if len(saved) == 0 {
			return errors.New("--replace cannot be used with a saved plan that replaces nothing: make a new plan with it instead")
		}
		args := make([]string, len(saved))
		for i, a := range saved {
			args[i] = shellquote.Quote("--replace=" + a)
		}
		return fmt.Errorf("this plan posts again (--replace) %s: a saved plan cannot ask for that on its own; confirm it with `postform apply %s %s`",
			strings.Join(saved, ", "), strings.Join(args, " "), shellquote.Quote(path))
	}
	limit := 0
	if doc.Summary.MaxPostsFrom == reconcile.LimitFlag {
		limit = doc.Summary.MaxPosts
	}
	if f.maxPosts != limit {
		if limit == 0 {
			return errors.New("--max-posts cannot be used with a saved plan made without it: make a new plan with it instead")
		}
		return fmt.Errorf("this plan was made with --max-posts=%d: a saved plan cannot raise the posting limit on its own; confirm it with `postform apply --max-posts=%d %s`", limit, limit, shellquote.Quote(path))
	}
	return nil
}
