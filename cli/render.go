package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/safefs"
)

// renderOptions are the arguments of postform render.
type renderOptions struct {
	address string
	out     string
}

func newRenderCommand(g *globals) *cobra.Command {
	var lf loadFlags
	var o renderOptions
	cmd := &cobra.Command{
		Use:   "render ADDRESS --out FILE.pdf",
		Short: "Write the PDF postform renders from a mailing's letter block, to look at it",
		Long: "render writes the PDF of one letter written in the configuration (a mailing's letter block) as it would be posted, " +
			"byte for byte: the same file, and the same sha256, that plan shows and apply uploads. Nothing is posted and the state is not read.",
		Example: `  postform render 'mailing.reminder["acme"]' --out acme.pdf`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.address = args[0]
			if o.out == "" {
				return errors.New("render needs --out FILE.pdf: the file to write the letter to")
			}
			return g.render(lf, o)
		},
	}
	lf.register(cmd)
	cmd.Flags().StringVar(&o.out, "out", "", "the PDF file to write (replaced if it exists)")
	return cmd
}

func (g *globals) render(lf loadFlags, o renderOptions) error {
	// The preflight reads PDFs postform did not make; rendering needs none.
	cfg, err := g.loadConfig(lf, true)
	if err != nil {
		return err
	}
	var m *config.Mailing
	for _, x := range cfg.Mailings {
		if x.Address == o.address {
			m = x
		}
	}
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
