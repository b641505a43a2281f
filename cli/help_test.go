package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpTellsTheTruth walks every command: each has an example, and
// every flag's value name is one word (pflag takes a usage's backquoted
// words as the value's name, so `postform apply FILE` in a usage once
// showed as --out postform apply FILE).
func TestHelpTellsTheTruth(t *testing.T) {
	g := &globals{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	root := newRootCommand(g)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example == "" {
			t.Errorf("%q has no Example in its help", c.CommandPath())
		}
		for _, line := range strings.Split(strings.TrimSpace(c.Example), "\n") {
			if c.Example == "" {
				break
			}
			if !strings.HasPrefix(strings.TrimSpace(line), "postform ") {
				t.Errorf("%q: example line %q is not a postform command line", c.CommandPath(), line)
			}
		}
		check := func(f *pflag.Flag) {
			name, usage := pflag.UnquoteUsage(f)
			if strings.ContainsAny(name, " \t") {
				t.Errorf("%s --%s: the value shows as %q in the help (usage %q)", c.CommandPath(), f.Name, name, usage)
			}
		}
		c.LocalFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
