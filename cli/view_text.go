package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/postform/postform/internal/termtext"
)

// writeMessage prints an error or warning for a person: prefix ("Error: ",
// "Warning: refreshing x: ") then msg, every line escaped, the lines after
// the first indented. Messages join several errors with newlines, and
// embed what the platform said: indenting means no platform text can start
// a line of its own that reads like postform's ("Error: …").
func writeMessage(w io.Writer, prefix, msg string) {
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	for i, l := range lines {
		lines[i] = termtext.Escape(l)
	}
	fmt.Fprintf(w, "%s%s\n", prefix, strings.Join(lines, "\n  "))
}
