package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// recipientsFlag is --recipients=full|masked|hidden: how a view shows the
// recipients' addresses, which are personal data.
type recipientsFlag struct{ mode string }

func (r *recipientsFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.mode, "recipients", "", "show recipients' addresses as `MODE`: full, masked (initials and the locality line) or hidden (default: postform { review { recipients } }, else full; JSON is full unless this flag is given)")
}

// check refuses a value that is not a mode, before anything is done.
func (r *recipientsFlag) check() error {
	switch r.mode {
	case "", config.RecipientsFull, config.RecipientsMasked, config.RecipientsHidden:
		return nil
	}
	return fmt.Errorf("--recipients=%s: choose full, masked (initials and the locality line) or hidden", r.mode)
}

// viewFormat is the view out chooses, once r is known to name a mode: the
// flags a view command checks before anything is done.
func viewFormat(out formatFlags, r *recipientsFlag) (outputFormat, error) {
	format, err := out.format()
	if err != nil {
		return format, err
	}
	return format, r.check()
}

// forView is the mode of a view: the flag when given, else, for the
// human and markdown views, the configuration's default (review), else
// full. JSON is machine output: full unless the flag asks otherwise.
func (r *recipientsFlag) forView(review string, asJSON bool) string {
	switch {
	case r.mode != "":
		return r.mode
	case asJSON || review == "":
		return config.RecipientsFull
	}
	return review
}

// reviewDefault is what a saved plan records of the configuration's
// default, for show FILE: nothing when it is full.
func reviewDefault(cfg *config.Config) string {
	if cfg == nil || cfg.Review.Recipients == config.RecipientsFull {
		return ""
	}
	return cfg.Review.Recipients
}

// stateRecipient is a state record's recipient as the plan types it, so
// that every view masks through reconcile.PlanRecipient.Shown.
func stateRecipient(r *state.Recipient) *reconcile.PlanRecipient {
	if r == nil {
		return nil
	}
	return &reconcile.PlanRecipient{Lines: r.Lines, Postcode: r.Postcode, City: r.City, Country: r.Country}
}

// recipientLine is a recipient on one line, for a view under mode: its
// lines joined by " · ", "(hidden)", or "" when unknown.
func recipientLine(r *reconcile.PlanRecipient, mode string) string {
	switch {
	case r == nil:
		return ""
	case mode == config.RecipientsHidden:
		return "(hidden)"
	}
	return r.Shown(mode).String()
}

// readsRecipients reports whether a saved plan read some letter's
// recipient: apply must then read them again to check them.
func readsRecipients(doc *reconcile.SavedPlan) bool {
	for _, ch := range doc.Changes {
		if ch.AddressCheck == config.AddressRead {
			return true
		}
	}
	return false
}
