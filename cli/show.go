package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
)

// showOptions are the arguments of postform show.
type showOptions struct {
	g          *globals
	load       loadFlags
	out        formatFlags
	recipients recipientsFlag
	preview    string
	// planFile is the saved plan to show ("": the state's letters).
	planFile string
}

func newShowCommand(g *globals) *cobra.Command {
	opts := &showOptions{g: g}
	cmd := &cobra.Command{
		Use:   "show [PLANFILE]",
		Short: "Render a saved plan, or without one, the state's letters",
		Example: `  postform show
  postform show review.plan
  postform show review.plan --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.planFile = args[0]
			}
			return runShow(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print as one JSON document")
	cmd.Flags().BoolVar(&opts.out.markdown, "markdown", false, "print a saved plan as a pull-request comment")
	opts.recipients.register(cmd)
	cmd.Flags().StringVar(&opts.preview, "preview", "", "write a static HTML page showing each letter of the saved plan into the folder `DIR`")
	return cmd
}

// runShow renders a saved plan, or without one the state's letters, in the
// view opts.out chooses.
func runShow(ctx context.Context, opts *showOptions) error {
	g := opts.g
	format, err := viewFormat(opts.out, &opts.recipients)
	if err != nil {
		return err
	}
	if opts.planFile == "" && opts.preview != "" {
		return errors.New("--preview shows a saved plan: postform show PLANFILE --preview=DIR")
	}
	if opts.planFile == "" {
		sess, err := g.readOnlySession(ctx, opts.load)
		if err != nil {
			return err
		}
		defer sess.close()
		mode := opts.recipients.forView(sess.cfg.Review.Recipients, format == formatJSON)
		if format == formatJSON {
			return writeStatusJSON(g, sess.engine.State, mode)
		}
		for _, a := range sess.engine.State.Addresses() {
			writeMailing(g, sess.engine, sess.engine.State.Mailings[a], mode)
			fmt.Fprintln(g.stdout)
		}
		return nil
	}
	saved, err := readPlanFile(opts.planFile)
	if err != nil {
		return err
	}
	doc := saved.Document()
	// The saved plan keeps the configuration's default for showing it.
	mode := opts.recipients.forView(doc.ReviewRecipients, format == formatJSON)
	if opts.preview != "" {
		if err := g.preview(opts.preview, doc, nil, opts.recipients.forView(doc.ReviewRecipients, false), format != formatHuman); err != nil {
			return err
		}
	}
	doc = doc.View(mode)
	if done, err := g.writeMachinePlan(doc, format == formatJSON, format == formatMarkdown); done {
		return err
	}
	g.writePlan(g.stdout, doc)
	// A saved plan is a file from the checkout: its text is escaped.
	for _, d := range doc.Diagnostics {
		where := ""
		if d.Range != nil {
			where = fmt.Sprintf(" (%s:%d:%d)", d.Range.Filename, d.Range.Line, d.Range.Column)
		}
		fmt.Fprintf(g.stdout, "\n%s\n  %s\n", termtext.Escape(d.Severity+codeSuffix(d.Code)+": "+d.Summary+where), termtext.Escape(d.Detail))
	}
	return nil
}
