package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/termtext"
)

// variablePrompt asks on the terminal for a required variable that has no
// value, as Terraform does: its name and description, then "Enter a
// value:", never echoing a sensitive one. It is nil when standard input is
// not a terminal: a CI run gets PF010, never a prompt that waits forever.
func (g *globals) variablePrompt() func(v *config.Variable) (string, bool) {
	in, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil
	}
	reader := bufio.NewReader(in)
	return func(v *config.Variable) (string, bool) {
		fmt.Fprintf(g.stderr, "var.%s\n", v.Name)
		if v.Description != "" {
			// The checkout's text: escaped, so it cannot fake the prompt.
			fmt.Fprintf(g.stderr, "  %s\n", termtext.Escape(v.Description))
		}
		fmt.Fprint(g.stderr, "\n  Enter a value: ")
		var line string
		if v.Sensitive {
			b, err := term.ReadPassword(int(in.Fd()))
			fmt.Fprintln(g.stderr)
			if err != nil {
				return "", false
			}
			line = string(b)
		} else {
			s, err := reader.ReadString('\n')
			if err != nil && s == "" {
				return "", false
			}
			line = strings.TrimRight(s, "\r\n")
		}
		fmt.Fprintln(g.stderr)
		// An empty answer is no answer: the variable stays missing (PF010).
		return line, line != ""
	}
}
