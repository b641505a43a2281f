package cli

import (
	"fmt"
	"math"
	"testing"

	"github.com/postform/postform/pdf"
)

// recipientKey writes the key as fmt's "%s %g,%g,%g,%g" did, so that a
// cache keeps its meaning, on windows of every kind of number.
func TestRecipientKeyIsTheFormattedOne(t *testing.T) {
	for _, w := range []pdf.Window{pdf.DefaultWindow, {}, {LeftMM: 110, TopMM: 55, WidthMM: 85, HeightMM: 33},
		{LeftMM: 0.1, TopMM: 1e21, WidthMM: 1e-7, HeightMM: 123456789.125}, {LeftMM: -0.0, TopMM: -3.5, WidthMM: math.Inf(1), HeightMM: math.NaN()},
		{LeftMM: 1.0 / 3, TopMM: math.MaxFloat64, WidthMM: math.SmallestNonzeroFloat64, HeightMM: math.Inf(-1)}} {
		sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		if got, want := recipientKey(sha, w), fmt.Sprintf("%s %g,%g,%g,%g", sha, w.LeftMM, w.TopMM, w.WidthMM, w.HeightMM); got != want {
			t.Errorf("recipientKey %q, fmt gives %q", got, want)
		}
	}
}

// A recipient stored is found again under the same sha256 and window only.
func TestRecipientCacheLookup(t *testing.T) {
	c := &recipientCache{}
	r := &pdf.Recipient{Lines: []string{"ACME SAS", "75002 PARIS"}}
	c.StoreRecipient("abc", pdf.DefaultWindow, r)
	if got, ok := c.LookupRecipient("abc", pdf.DefaultWindow); !ok || got != r {
		t.Fatalf("the stored recipient is not found: %v %v", got, ok)
	}
	other := pdf.DefaultWindow
	other.TopMM++
	if _, ok := c.LookupRecipient("abc", other); ok {
		t.Fatal("found under another window")
	}
	if _, ok := c.LookupRecipient("abd", pdf.DefaultWindow); ok {
		t.Fatal("found under another sha256")
	}
	c.StoreRecipient("abc", other, &pdf.Recipient{Lines: []string{"elsewhere"}})
	for range 2 {
		if got, ok := c.LookupRecipient("abc", pdf.DefaultWindow); !ok || got != r {
			t.Fatalf("the recipient stored first is not found again: %v %v", got, ok)
		}
		if got, ok := c.LookupRecipient("abc", other); !ok || got.Lines[0] != "elsewhere" {
			t.Fatalf("the recipient of the other window is not found: %v %v", got, ok)
		}
	}
}

func BenchmarkLookupRecipient(b *testing.B) {
	c := &recipientCache{}
	shas := make([]string, 1000)
	for i := range shas {
		shas[i] = fmt.Sprintf("%064x", i)
		c.StoreRecipient(shas[i], pdf.DefaultWindow, &pdf.Recipient{Lines: []string{"x"}})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.LookupRecipient(shas[i%len(shas)], pdf.DefaultWindow); !ok {
			b.Fatal("not found")
		}
		i++
	}
}
