package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/termtext"
)

func newShowCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var asJSON, asMarkdown bool
	var preview string
	var rf recipientsFlag
	cmd := &cobra.Command{
		Use:   "show [PLANFILE]",
		Short: "Render a saved plan, or without one, the state's letters",
		Example: `  postform show
  postform show review.plan
  postform show review.plan --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asMarkdown {
				return errors.New("choose one of --json and --markdown")
			}
			if err := rf.check(); err != nil {
				return err
			}
			if len(args) == 0 && preview != "" {
				return errors.New("--preview shows a saved plan: postform show PLANFILE --preview=DIR")
			}
			if len(args) == 0 {
				sess, err := g.readOnlySession(cmd.Context(), lf)
				if err != nil {
					return err
				}
				defer sess.close()
				mode := rf.forView(sess.cfg.Review.Recipients, asJSON)
				if asJSON {
					return writeStatusJSON(g, sess.engine.State, mode)
				}
				for _, a := range sess.engine.State.Addresses() {
					writeMailing(g, sess.engine, sess.engine.State.Mailings[a], mode)
					fmt.Fprintln(g.stdout)
				}
				return nil
			}
			saved, err := readPlanFile(args[0])
			if err != nil {
				return err
			}
			doc := saved.Document()
			// The saved plan keeps the configuration's default for showing it.
			mode := rf.forView(doc.ReviewRecipients, asJSON)
			if preview != "" {
				if err := g.preview(preview, doc, nil, rf.forView(doc.ReviewRecipients, false), asJSON || asMarkdown); err != nil {
					return err
				}
			}
			doc = doc.View(mode)
			if done, err := g.writeMachinePlan(doc, asJSON, asMarkdown); done {
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
		},
	}
	lf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as one JSON document")
	cmd.Flags().BoolVar(&asMarkdown, "markdown", false, "print a saved plan as a pull-request comment")
	rf.register(cmd)
	cmd.Flags().StringVar(&preview, "preview", "", "write a static HTML page showing each letter of the saved plan into the folder `DIR`")
	return cmd
}
