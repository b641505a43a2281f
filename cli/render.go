package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/state"
)

// renderOptions are the arguments of postform render.
type renderOptions struct {
	g       *globals
	load    loadFlags
	run     runFlags
	address string
	out     string
	prune   bool
}

func newRenderCommand(g *globals) *cobra.Command {
	o := &renderOptions{g: g}
	cmd := &cobra.Command{
		Use:   "render ADDRESS --out FILE.pdf | render --prune",
		Short: "Write the PDF postform renders from a mailing's letter block, to look at it; or remove renderings no letter needs",
		Long: "render writes the PDF of one letter written in the configuration (a mailing's letter block) as it would be posted, " +
			"byte for byte: the same file, and the same sha256, that plan shows and apply uploads. Nothing is posted and the state is not read.\n\n" +
			"render --prune removes from .postform/rendered every rendering that no letter of the configuration is rendered to, " +
			"and that no letter of the state still to post (an unresolved or refused attempt) names. It takes the state lock, so it " +
			"never runs beside an apply. A letter of the configuration whose rendering is gone is rendered again, byte for byte, by the next command.",
		Example: "  postform render 'mailing.reminder[\"acme\"]' --out acme.pdf\n  postform render --prune",
		Args:    cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.address = args[0]
			}
			return runRender(cmd.Context(), o)
		},
	}
	o.load.register(cmd)
	// render makes no API call: of the run flags only the lock's wait.
	cmd.Flags().DurationVar(&o.run.lockTimeout, "lock-timeout", 0, "with --prune, wait this long for the state lock (0: fail at once when it is held)")
	cmd.Flags().StringVar(&o.out, "out", "", "the PDF file to write (replaced if it exists)")
	cmd.Flags().BoolVar(&o.prune, "prune", false, "remove the renderings in .postform/rendered that no letter needs")
	return cmd
}

// runRender writes one letter's rendering to --out, or prunes renderings.
func runRender(ctx context.Context, o *renderOptions) error {
	if o.prune {
		if o.address != "" || o.out != "" {
			return errors.New("render --prune takes no ADDRESS and no --out: it removes renderings, it writes none")
		}
		return o.g.pruneRendered(ctx, o.load, o.run)
	}
	if o.address == "" {
		return errors.New("render needs the ADDRESS of a mailing with a letter block (see postform plan), or --prune")
	}
	if o.out == "" {
		return errors.New("render needs --out FILE.pdf: the file to write the letter to")
	}
	return o.g.render(o.load, o)
}

// pruneRendered is render --prune: under the state lock, the renderings
// neither the configuration nor a letter of the state still to post names
// are removed (config.PruneRendered says why that is safe).
func (g *globals) pruneRendered(ctx context.Context, lf loadFlags, rf runFlags) error {
	lf.offline = true
	return g.withLockedSession(ctx, lf, rf, "render --prune", func(sess *session) error {
		var keep []string
		for _, m := range sess.engine.State.Mailings {
			if m.Phase == state.PhasePosted {
				continue
			}
			for _, d := range m.Documents {
				keep = append(keep, d.SHA256)
			}
		}
		res, err := config.PruneRendered(sess.cfg, keep)
		for _, f := range res.Removed {
			fmt.Fprintf(g.stdout, "Removed %s\n", f)
		}
		if err != nil {
			return fmt.Errorf("removing renderings from %s: %w", filepath.Join(sess.cfg.Dir, layout.Rendered), err)
		}
		fmt.Fprintf(g.stdout, "Pruned %d rendering(s) no letter needs (%d bytes); kept %d.\n", len(res.Removed), res.Bytes, res.Kept)
		return nil
	})
}

func (g *globals) render(lf loadFlags, o *renderOptions) error {
	// The preflight reads PDFs postform did not make; rendering needs none.
	cfg, err := g.loadConfig(lf, true)
	if err != nil {
		return err
	}
	m := configMailing(cfg, o.address)
	if m == nil {
		return fmt.Errorf("%s is not a mailing of this configuration (addresses look like mailing.notice or mailing.notice[\"key\"]: see postform plan)", o.address)
	}
	var d *config.Document
	for _, x := range m.Documents {
		if x.Letter != nil {
			d = x
		}
	}
	if d == nil {
		return fmt.Errorf("%s has no letter block: its documents are PDFs already (%s)", m.Address, m.Documents[0].File)
	}
	b, err := safefs.ReadFileAt(d.Path)
	if err != nil {
		return fmt.Errorf("reading the rendered letter: %w", err)
	}
	if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != d.SHA256 {
		return fmt.Errorf("the rendered letter %s changed while postform read it: run render again", d.File)
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return fmt.Errorf("the rendered letter %s is not a PDF: remove it and run render again", d.File)
	}
	if err := safefs.WriteFileAt(out, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.out, err)
	}
	fmt.Fprintf(g.stdout, "Wrote %s: the letter of %s, %d page(s), sha256 %s.\n", o.out, m.Address, d.Pages, d.SHA256)
	return nil
}
