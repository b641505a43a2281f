package pdf

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// TestMakePDFValidatesWithPdfcpu: what MakePDF writes is a valid one-page
// PDF by pdfcpu's own validator (strict mode too), and its text reads back
// from the address window.
func TestMakePDFValidatesWithPdfcpu(t *testing.T) {
	lines := []string{"ACME SAS", "12 rue de la Paix (2e)", `back\slash`, "75002 PARIS", "Ça coûte 5 €"}
	for _, lines := range [][]string{nil, lines} {
		b, err := MakePDF(lines...)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []int{model.ValidationStrict, model.ValidationRelaxed} {
			conf := model.NewDefaultConfiguration()
			conf.ValidationMode = mode
			ctx, err := api.ReadContext(bytes.NewReader(b), conf)
			if err != nil {
				t.Fatal(err)
			}
			if err := api.ValidateContext(ctx); err != nil {
				t.Fatalf("pdfcpu validation (mode %d): %v", mode, err)
			}
			if err := ctx.EnsurePageCount(); err != nil || ctx.PageCount != 1 {
				t.Fatalf("page count %d, %v", ctx.PageCount, err)
			}
		}
		r, err := engine.Recipient(b, DefaultWindow)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, l := range lines {
			want = append(want, strings.ReplaceAll(l, "€", "?"))
		}
		if !slices.Equal(r.Lines, want) {
			t.Fatalf("address %q, want %q", r.Lines, want)
		}
		// No text: an empty window; the letter's last line is no locality.
		wantKind := map[bool]ProblemKind{true: EmptyWindow, false: NoLocality}[lines == nil]
		if len(r.Problems) != 1 || r.Problems[0].Kind != wantKind {
			t.Fatalf("problems %+v, want one %s", r.Problems, wantKind)
		}
	}
}

// TestMakeLetterBodyIsBelowTheWindow: the body is on the page, outside the
// address window, so a letter reads as its address alone.
func TestMakeLetterBodyIsBelowTheWindow(t *testing.T) {
	b, err := MakeLetter([]string{"ACME SAS", "75002 PARIS"}, "Madame, Monsieur,")
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.Recipient(b, DefaultWindow)
	if err != nil || !slices.Equal(r.Lines, []string{"ACME SAS", "75002 PARIS"}) {
		t.Fatalf("recipient %+v, %v", r, err)
	}
	p, err := engine.Page(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, l := range p.Lines {
		text = append(text, l.Text)
	}
	if !slices.Contains(text, "Madame, Monsieur,") {
		t.Fatalf("page text %q has no body", text)
	}
}

// TestMakePDFIsStable: the same lines give the same bytes (proof files are
// hashed into state; a proof downloaded twice must not look changed).
func TestMakePDFIsStable(t *testing.T) {
	mk := func(lines ...string) []byte {
		b, err := MakePDF(lines...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := mk("A", "B"), mk("A", "B")
	if !bytes.Equal(a, b) {
		t.Fatal("MakePDF is not deterministic")
	}
	if len(a) > 1024 {
		t.Fatalf("MakePDF wrote %d bytes; it should stay tiny", len(a))
	}
	if sha256.Sum256(a) == sha256.Sum256(mk("A", "C")) {
		t.Fatal("different lines, same bytes")
	}
}
