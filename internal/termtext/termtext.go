// Package termtext makes text from outside postform (the platform's
// answers, the state, a checkout's file names) safe to show on a terminal.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character a terminal would act on written
// visibly instead, Go-style: C0 controls (ESC, BEL, newline, tab…), DEL, C1
// controls (U+0080–U+009F, which some terminals read as CSI/OSC) and the
// bidirectional overrides that reorder what a reader sees (U+202A–U+202E,
// U+2066–U+2069) become \x1b, \n, \u009b, \u202e…; bytes that are not UTF-8
// become \xNN. Everything else, é « » € included, is kept as it is. The
// result is one line.
func Escape(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// safe is the fast path: most text has nothing to escape.
func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			return !strings.ContainsFunc(s, func(r rune) bool {
				return r < 0x20 || r == 0x7f || r == utf8.RuneError || dangerous(r)
			})
		}
	}
	return true
}

// dangerous reports the non-ASCII runes Escape rewrites.
func dangerous(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
