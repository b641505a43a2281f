package config

import (
	"strings"
	"testing"

	"golang.org/x/text/cases"
)

// foldJobName's ASCII shortcut must fold as the Caser does: every ASCII
// byte alone, and names mixing them.
func TestFoldJobNameMatchesCaser(t *testing.T) {
	caser := func(n string) string { return cases.Fold().String(strings.TrimSpace(n)) }
	var all strings.Builder
	for c := 0; c < 0x80; c++ {
		n := "x" + string(rune(c)) + "Y"
		if got, want := foldJobName(n), caser(n); got != want {
			t.Errorf("byte %#x: %q, the Caser gives %q", c, got, want)
		}
		all.WriteByte(byte(c))
	}
	for _, n := range []string{all.String(), " Job-1 ", "JOB_Ä", "Straße", "ǅemal", "K", "\u212a", "ΣΑΣ", "job\u00a0"} {
		if got, want := foldJobName(n), caser(n); got != want {
			t.Errorf("%q: %q, the Caser gives %q", n, got, want)
		}
	}
}

func FuzzFoldJobName(f *testing.F) {
	f.Add("Bench-C000001")
	f.Add(" job 1\t")
	f.Add("Straße")
	f.Fuzz(func(t *testing.T, n string) {
		if got, want := foldJobName(n), cases.Fold().String(strings.TrimSpace(n)); got != want {
			t.Fatalf("%q: %q, the Caser gives %q", n, got, want)
		}
	})
}
