package termtext

import (
	"strings"
	"testing"
	"unicode"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"DELIVERED", "DELIVERED"},
		{"Distribué « à temps » 12 €", "Distribué « à temps » 12 €"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"\x1b[2J", `\x1b[2J`},
		{"ok\nError: forged", `ok\nError: forged`},
		{"a\r\tb\x00\x7f", `a\r\tb\x00\x7f`},
		{"\u009b2J", `\u009b2J`},
		{"abc\u202edcba", `abc\u202edcba`},
		{"bad \xff byte", `bad \xff byte`},
		{"replacement \ufffd kept", "replacement \ufffd kept"},
		{"", ""},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzEscape: whatever goes in, nothing a terminal acts on comes out, and
// text without such characters comes out unchanged.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"\x1b]0;pwned\x07", "é€\n", "\xc2\x9b", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		for _, r := range out {
			if unicode.IsControl(r) || dangerous(r) {
				t.Fatalf("Escape(%q) = %q holds %U", s, out, r)
			}
		}
		if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || dangerous(r) || r == '\ufffd' }) && out != s {
			t.Fatalf("Escape(%q) = %q changed harmless text", s, out)
		}
	})
}
