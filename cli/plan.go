package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/reconcile"
)

// planFlags are shared by plan and apply.
type planFlags struct {
	load    loadFlags
	run     runFlags
	refresh bool
	targets []string
	replace []string
	// excludes leave addresses out, as targets select them; maxPosts
	// overrides the configuration's posting limit (0: the configuration's).
	excludes []string
	maxPosts int
	// skipPreflight posts files postform's own PDF checks would refuse,
	// leaving the platform to judge them.
	skipPreflight bool
	recipients    recipientsFlag
	// viewOnly: the plan is only printed in the human view, never saved,
	// previewed or printed as JSON, so it needs no configuration hash
	// (reconcile.PlanOptions.NoConfigHash).
	viewOnly bool
}

func (f *planFlags) register(cmd *cobra.Command) {
	f.load.register(cmd)
	f.run.register(cmd)
	cmd.Flags().BoolVar(&f.refresh, "refresh", true, "ask the platform about unfinished letters before planning")
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "plan only this `ADDRESS` (repeatable; mailing.NAME selects all its instances)")
	cmd.Flags().StringArrayVar(&f.excludes, "exclude", nil, "leave this `ADDRESS` out of the plan (repeatable; mailing.NAME leaves out all its instances; combines with --target)")
	cmd.Flags().IntVar(&f.maxPosts, "max-posts", 0, "allow this run to post at most `N` letters, instead of the postform block's max_posts (default 100)")
	cmd.Flags().StringArrayVar(&f.replace, "replace", nil, "post the already-posted letter at this `ADDRESS` AGAIN (repeatable)")
	cmd.Flags().BoolVar(&f.skipPreflight, "skip-preflight", false, "do not check the PDFs before posting (the platform alone judges them)")
	f.recipients.register(cmd)
}

// view is doc as a view shows it: recipients masked as --recipients or
// the configuration says; it records in doc the default a saved plan keeps.
func (f *planFlags) view(cfg *config.Config, doc *reconcile.PlanDocument, asJSON bool) *reconcile.PlanDocument {
	doc.ReviewRecipients = reviewDefault(cfg)
	return doc.View(f.recipients.forView(cfg.Review.Recipients, asJSON))
}

// briefView is the human view's plan document and its view: only the
// changes that do something (plan.Brief), recipients shown as f asks.
func (f *planFlags) briefView(cfg *config.Config, plan *reconcile.Plan) (doc, view *reconcile.PlanDocument) {
	doc = plan.Brief(Version, f.reconcileOptions())
	doc.ReviewRecipients = reviewDefault(cfg)
	return doc, plan.ViewBrief(doc, f.recipients.forView(cfg.Review.Recipients, false))
}

// planOptions are the arguments of postform plan.
type planOptions struct {
	g        *globals
	plan     planFlags
	out      formatFlags
	detailed bool
	// saveTo is the file the plan is saved to ("": not saved); preview
	// the folder of the HTML preview ("": none).
	saveTo, preview string
}

func newPlanCommand(g *globals) *cobra.Command {
	opts := &planOptions{g: g}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show which letters apply would post, forget or refuse",
		Example: `  postform plan
  postform plan --out=review.plan
  postform plan --target='mailing.invoice["acme"]' --refresh=false
  postform plan --markdown --detailed-exitcode`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), opts)
		},
	}
	opts.plan.register(cmd)
	cmd.Flags().BoolVar(&opts.detailed, "detailed-exitcode", false, "exit 0 with no changes, 1 on an error or a blocked letter, 2 when there are changes (none blocked)")
	cmd.Flags().StringVar(&opts.saveTo, "out", "", "save the plan to `FILE`, for: postform apply FILE")
	cmd.Flags().StringVar(&opts.preview, "preview", "", "write a static HTML page showing each letter (recipient, page 1) into the folder `DIR`")
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print the plan as one JSON document (see docs/json-format.md)")
	cmd.Flags().BoolVar(&opts.out.markdown, "markdown", false, "print the plan as a pull-request comment")
	return cmd
}

// runPlan makes the plan and prints it in the view opts.out chooses,
// saving it with --out; the exit code says whether it has changes.
func runPlan(ctx context.Context, opts *planOptions) error {
	g := opts.g
	format, err := viewFormat(opts.out, &opts.plan.recipients)
	if err != nil {
		return err
	}
	humanOnly := format == formatHuman && opts.preview == "" && opts.saveTo == ""
	opts.plan.viewOnly = humanOnly
	sess, plan, err := g.preparePlan(ctx, "plan", opts.plan)
	if err != nil {
		return err
	}
	defer sess.close()
	ropts := opts.plan.reconcileOptions()
	// The saved form is made once, for the file and the view; the human
	// view alone needs only the changes that do something.
	var saved *reconcile.SavedPlan
	var doc, view *reconcile.PlanDocument
	if humanOnly {
		doc, view = opts.plan.briefView(sess.cfg, plan)
	} else {
		saved = plan.Saved(Version, ropts)
		doc = saved.Document()
		view = opts.plan.view(sess.cfg, doc, format == formatJSON)
	}
	if done, err := g.writeMachinePlan(view, format == formatJSON, format == formatMarkdown); err != nil {
		return err
	} else if !done {
		g.renderPlan(sess.cfg, plan, view)
		if !plan.HasChanges() {
			g.writeUnfinished(sess.engine, 0)
		}
	}
	if opts.preview != "" {
		if err := g.preview(opts.preview, doc, sess.cfg, opts.plan.recipients.forView(sess.cfg.Review.Recipients, false), format != formatHuman); err != nil {
			return err
		}
	}
	if plan.Diagnostics.HasErrors() {
		return silent(ExitError)
	}
	if opts.saveTo != "" {
		saved.ReviewRecipients = doc.ReviewRecipients
		if err := writePlanFile(opts.saveTo, saved); err != nil {
			return err
		}
		if format == formatHuman {
			fmt.Fprintf(g.stdout, "\nSaved the plan to %s. To post exactly these letters, run:\n    postform apply %s\n", opts.saveTo, shellquote.Quote(opts.saveTo))
		}
	}
	if opts.detailed && plan.HasChanges() {
		return silent(ExitChanges)
	}
	return nil
}

// reconcileOptions are the flags that shape the plan, as the engine takes them.
func (f *planFlags) reconcileOptions() reconcile.PlanOptions {
	return reconcile.PlanOptions{Targets: f.targets, Excludes: f.excludes, Replace: f.replace, MaxPosts: f.maxPosts}
}

// writePlanFile saves a plan atomically: a half-written plan must never be
// mistaken for a reviewed one.
func writePlanFile(path string, sp *reconcile.SavedPlan) error {
	b, err := reconcile.EncodeSavedPlan(sp)
	if err != nil {
		return err
	}
	if err := safefs.WriteFileAt(path, b, 0o644); err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	return nil
}

// readPlanFile loads a saved plan.
func readPlanFile(path string) (*reconcile.SavedPlan, error) {
	doc, _, err := decodePlanFile(path)
	return doc, err
}

// readPlan is readPlanFile for a plan this run may post: the sha256 of the
// bytes read is kept for the audit trail.
func (g *globals) readPlan(path string) (*reconcile.SavedPlan, error) {
	doc, sum, err := decodePlanFile(path)
	if err == nil {
		if g.planSums == nil {
			g.planSums = map[string]string{}
		}
		g.planSums[path] = sum
	}
	return doc, err
}

func decodePlanFile(path string) (*reconcile.SavedPlan, string, error) {
	b, err := safefs.ReadFileAt(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading the saved plan: %w", err)
	}
	sum := sha256.Sum256(b)
	doc, err := reconcile.DecodeSavedPlan(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return doc, hex.EncodeToString(sum[:]), nil
}

// planMadeHook, when set (by a benchmark), runs once the first plan is
// made, the configuration and the state both still held: the moment of a
// plan's peak heap, for a heap profile to show what is live then.
var planMadeHook func()

// preparePlan loads the configuration and the state, refreshes what is
// unfinished and makes the plan. The session it returns holds the lock
// (for apply, and for a plan that refreshes) until closed.
func (g *globals) preparePlan(ctx context.Context, operation string, f planFlags) (*session, *reconcile.Plan, error) {
	if err := f.recipients.check(); err != nil {
		return nil, nil, err
	}
	if f.maxPosts < 0 {
		return nil, nil, errors.New("--max-posts is how many letters this run may post: a whole number, 1 or more")
	}
	now, err := planClock()
	if err != nil {
		return nil, nil, err
	}
	lock := f.refresh || operation == "apply"
	// plan --refresh=false reads only the state: it needs no credentials.
	f.load.offline = operation == "plan" && !f.refresh
	sess, err := g.openSession(ctx, f.load, f.skipPreflight, operation, lock, f.run)
	if err != nil {
		return nil, nil, err
	}
	cfg := sess.cfg
	opts := f.reconcileOptions()
	opts.Now, opts.NoConfigHash = now, f.viewOnly
	pre := reconcile.MakePlan(cfg, sess.engine.State, opts)
	if planMadeHook != nil {
		planMadeHook()
	}
	counts := pre.Counts()
	posts, needsEdit := counts.Post > 0, counts.Update > 0
	// Pending and NeedsRefresh walk the whole state: asked only where
	// the answer can change what follows (posting connects anyway).
	pending := !posts && (f.refresh || needsEdit) && len(sess.engine.Pending()) > 0
	unfinished := !posts && f.refresh && !pending && len(sess.engine.NeedsRefresh()) > 0
	if len(cfg.Provider.Deferred) > 0 {
		// Offline, without credentials: the service's options are checked
		// by apply, which must be given them.
		fmt.Fprintf(g.stderr, "Note: the provider's %s has no value: planned without the platform (the services' options are checked by apply).\n", cfg.Provider.DeferredNames())
	} else if posts || (f.refresh && (pending || unfinished)) || needsEdit {
		if err := sess.connect(ctx, posts || pending); err != nil {
			sess.close()
			return nil, nil, err
		}
	}
	if f.refresh && sess.client != nil {
		// On stderr: stdout may be the plan as JSON.
		beat := startHeartbeat(g.stderr, fmt.Sprintf("Refreshing %d unfinished letter(s) before planning", len(sess.engine.NeedsRefresh())+len(sess.engine.Pending())))
		res := sess.engine.Refresh(g.interrupt)
		beat.stop()
		for _, addr := range sortedKeys(res.Errors) {
			fmt.Fprintf(g.stderr, "Warning: refreshing %s: %s\n", termtext.Escape(addr), termtext.Escape(res.Errors[addr].Error()))
		}
		if err := sess.persist(); err != nil {
			sess.close()
			return nil, nil, err
		}
		if g.interrupt.Err() != nil {
			sess.close()
			return nil, nil, silent(ExitInterrupted)
		}
	}
	if sess.client == nil {
		// Nothing was refreshed and no profile is known: the plan made
		// above is the plan, and at 100,000 letters making it twice cost a
		// second.
		return sess, pre, nil
	}
	opts.Profile = sess.client.Profile()
	// A refresh changes the state, not the configuration: its hash is
	// pre's, not made a second time (the longer half of a plan at 100,000).
	opts.NoConfigHash = true
	plan := reconcile.MakePlan(cfg, sess.engine.State, opts)
	plan.ConfigHash = pre.ConfigHash
	if plan.Counts().Post > 0 {
		plan.CheckOptions(ctx, sess.client.ResolveOptions)
	}
	return sess, plan, nil
}
