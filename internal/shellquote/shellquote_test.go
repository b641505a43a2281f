package shellquote

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mailing.notice", "mailing.notice"},
		{`mailing.notice["alpha"]`, `'mailing.notice["alpha"]'`},
		{`mailing.x["o'brien"]`, `'mailing.x["o'\''brien"]'`},
		{"", "''"},
		{"a b", "'a b'"},
		{"$HOME", "'$HOME'"},
		{"review.plan", "review.plan"},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestQuoteRoundTrip hands each quoted word to a real shell and checks it
// reads back the original.
func TestQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, s := range []string{`mailing.notice["alpha"]`, `mailing.x["o'brien"]`, "a b\tc", "$(echo no)", "`no`", "*", "~x", "!x", `back\slash`, "", "é"} {
		out, err := exec.Command(sh, "-c", "printf %s "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("sh on %s: %v", Quote(s), err)
		}
		if string(out) != s {
			t.Errorf("sh read %s as %q, want %q", Quote(s), out, s)
		}
	}
	if got := Flag("replace", `mailing.notice["alpha"]`); got != `--replace='mailing.notice["alpha"]'` {
		t.Errorf("Flag = %s", got)
	}
}
