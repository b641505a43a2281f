package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// longFlags rewrites Terraform's single-dash long flags (-auto-approve,
// -var 'a=b', -target=…, -out=…) as the double-dash ones pflag reads: a
// Terraform user types them by habit, and pflag would take -auto-approve
// for the shorthands a, u, t… No postform flag has a one-letter shorthand
// but -h and -v, so any other single-dash word is a long flag. The value
// of a flag that takes one, and everything after "--", is left alone.
func longFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	lookup := func(name string) *pflag.Flag {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f
		}
		return cmd.InheritedFlags().Lookup(name)
	}
	out := make([]string, 0, len(args))
	takesValue := false // the previous word was a flag waiting for its value
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if takesValue {
			out = append(out, a)
			takesValue = false
			continue
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			a = "-" + a
		}
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") {
			if f := lookup(a[2:]); f != nil && f.NoOptDefVal == "" {
				takesValue = true
			}
		}
		out = append(out, a)
	}
	return out
}

// flagError turns pflag's errors into messages that say what to type: the
// closest flag for a typo, and what a flag's value should look like.
func flagError(cmd *cobra.Command, err error) error {
	var notExist *pflag.NotExistError
	var invalid *pflag.InvalidValueError
	var needs *pflag.ValueRequiredError
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		msg := fmt.Sprintf("unknown flag --%s for %q", name, cmd.CommandPath())
		if s := closestFlag(cmd, name); s != "" {
			msg += fmt.Sprintf("\nDid you mean --%s?", s)
		}
		return fmt.Errorf("%s\nRun '%s --help' for its flags", msg, cmd.CommandPath())
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		return fmt.Errorf("--%s=%q: %s", f.Name, invalid.GetValue(), valueHint(f))
	case errors.As(err, &needs):
		f := needs.GetFlag()
		return fmt.Errorf("--%s needs a value: %s", f.Name, valueHint(f))
	}
	return fmt.Errorf("%w\nRun '%s --help' for its flags", err, cmd.CommandPath())
}

// valueHint says what a flag's value looks like, by its type.
func valueHint(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool":
		return fmt.Sprintf("it is a switch: write --%s alone to turn it on (or --%s=false)", f.Name, f.Name)
	case "duration":
		return "want a duration such as 30s, 10m or 1h30m"
	case "int", "int64":
		return "want a whole number"
	case "float64":
		return "want a number such as 1 or 0.5"
	}
	name, _ := pflag.UnquoteUsage(f)
	return fmt.Sprintf("write --%s=%s", f.Name, name)
}

// closestFlag is the flag of cmd nearest to a mistyped name, or "" when
// none is close enough to be what was meant.
func closestFlag(cmd *cobra.Command, name string) string {
	best, bestDist := "", 3 // as cobra suggests subcommands: at most 2 edits
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := levenshtein.Distance(name, f.Name, nil)
		if d < bestDist || (d == bestDist && f.Name < best) {
			best, bestDist = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" && len(name) >= 3 {
		// A prefix of one flag only: --auto for --auto-approve.
		var prefixed []string
		visit := func(f *pflag.Flag) {
			if strings.HasPrefix(f.Name, name) {
				prefixed = append(prefixed, f.Name)
			}
		}
		cmd.Flags().VisitAll(visit)
		cmd.InheritedFlags().VisitAll(visit)
		sort.Strings(prefixed)
		if len(prefixed) == 1 {
			best = prefixed[0]
		}
	}
	return best
}

// rejectUnknownSubcommands makes every command that only groups others
// (the root, state, workspace, sandbox) fail on a word that is none of them, with
// the closest ones: cobra would print the help and exit 0, and a CI job
// running `postform state lst` would carry on as if it had worked.
func rejectUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		rejectUnknownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.SuggestionsMinimumDistance = 2
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return unknownCommand(cmd, args[0])
	}
}

func unknownCommand(cmd *cobra.Command, word string) error {
	msg := fmt.Sprintf("unknown command %q for %q", word, cmd.CommandPath())
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		msg += "\nDid you mean " + strings.Join(quoteEach(cmd.CommandPath(), s), " or ") + "?"
	}
	return fmt.Errorf("%s\nRun '%s --help' for its commands", msg, cmd.CommandPath())
}

func quoteEach(prefix string, words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "'" + prefix + " " + w + "'"
	}
	return out
}
