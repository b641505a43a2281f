package config

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// mergeWarningsReference is MergeWarnings as it was written first, a slice
// per key and normalRecipient for every letter: the faster one must say
// exactly what it says.
func mergeWarningsReference(posting []*Mailing) hcl.Diagnostics {
	type letter = mergeLetter
	bySHA := map[string][]letter{}
	byRecipient := map[string][]letter{}
	var shas, recipients []string
	for _, m := range posting {
		d := recipientDoc(m)
		if d == nil || d.SHA256 == "" {
			continue
		}
		if _, ok := bySHA[d.SHA256]; !ok {
			shas = append(shas, d.SHA256)
		}
		bySHA[d.SHA256] = append(bySHA[d.SHA256], letter{m, d})
		if d.Recipient == nil || len(d.Recipient.Lines) == 0 {
			continue
		}
		k := normalRecipient(d.Recipient.Lines)
		if _, ok := byRecipient[k]; !ok {
			recipients = append(recipients, k)
		}
		byRecipient[k] = append(byRecipient[k], letter{m, d})
	}
	// The wording is shared (sharedPDFWarning, sameRecipientWarning):
	// what is compared is the grouping.
	var diags hcl.Diagnostics
	for _, sha := range shas {
		if ls := bySHA[sha]; len(ls) >= 2 {
			diags = append(diags, sharedPDFWarning(ls))
		}
	}
	for _, k := range recipients {
		if ls := byRecipient[k]; len(ls) >= 2 {
			if d := sameRecipientWarning(ls); d != nil {
				diags = append(diags, d)
			}
		}
	}
	return diags
}

// recipientLines are address lines that normalise alike or nearly:
// case, runs of spaces, tabs, empty lines, non-ASCII letters and spaces.
var recipientLines = [][]string{
	{"ACME SAS", "12 rue de la Paix", "75002 PARIS"},
	{"acme  sas", "12 RUE de la paix", "", "75002\tParis"},
	{" Acme SAS ", "12 rue de la Paix", "75002 PARIS", "   "},
	{"ACME SAS", "12 rue de la Paix", "75002 PARIS", "FRANCE"},
	{"Société Générale", "1 place de l'Étoile", "75008 PARIS"},
	{"SOCIÉTÉ GÉNÉRALE", "1 PLACE DE L'ÉTOILE", "75008\u00a0PARIS"},
	{"société générale", "1 place de l'étoile", "75008 paris"},
	{"12 AVENUE ZOLA", "QUARTIER @XYZ[`]", "13001 MARSEILLE"},
	{"12 avenue zola", "quartier @xyz[`]", "13001 marseille"},
	{"Straße 5", "10115 BERLIN"},
	{"STRASSE 5", "10115 berlin"},
	{"\v\f\r\n"},
	{"K", "\u212a"},
	{},
	nil,
}

// mergeLetters makes n letters whose PDFs and recipients repeat at random.
func mergeLetters(r *rand.Rand, n int) []*Mailing {
	var out []*Mailing
	for i := range n {
		m := &Mailing{Address: fmt.Sprintf("mailing.m[%q]", fmt.Sprintf("k%04d", r.IntN(10*n)))}
		sha := fmt.Sprintf("%064x", r.IntN(n))
		if r.IntN(8) == 0 {
			sha = ""
		}
		d := &Document{SHA256: sha, File: fmt.Sprintf("l%d.pdf", i), DeclRange: hcl.Range{Filename: "main.mail.hcl", Start: hcl.Pos{Line: i + 1}}}
		switch r.IntN(6) {
		case 0:
			d.Box = "ANNEX"
		case 1:
		default:
			d.Recipient = &Recipient{Lines: recipientLines[r.IntN(len(recipientLines))]}
		}
		m.Documents = []*Document{d}
		out = append(out, m)
	}
	return out
}

func TestMergeWarningsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	warned := 0
	for _, n := range []int{0, 1, 2, 3, 5, 10, 30, 100, 300} {
		for range 20 {
			letters := mergeLetters(r, n)
			got, want := MergeWarnings(letters), mergeWarningsReference(letters)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d letters:\n  got:  %v\n  want: %v", n, got, want)
			}
			warned += len(got)
		}
	}
	if warned < 50 {
		t.Fatalf("only %d warnings: the comparison shows little", warned)
	}
}

func TestNormalRecipientFast(t *testing.T) {
	for _, a := range recipientLines {
		for _, b := range recipientLines {
			lines := append(append([]string(nil), a...), b...)
			if got, want := string(appendNormalRecipient([]byte("x"), lines)), "x"+normalRecipient(lines); got != want {
				t.Errorf("%q: %q, normalRecipient gives %q", lines, got, want)
			}
		}
	}
}

// FuzzNormalRecipient compares the ASCII path of appendNormalRecipient
// with normalRecipient on any lines (split at "|").
func FuzzNormalRecipient(f *testing.F) {
	for _, ls := range recipientLines {
		f.Add(strings.Join(ls, "|"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "|")
		if got, want := string(appendNormalRecipient(nil, lines)), normalRecipient(lines); got != want {
			t.Fatalf("%q: %q, normalRecipient gives %q", lines, got, want)
		}
	})
}

// BenchmarkMergeWarnings10000 is a merge of 10,000 new letters, every PDF
// and recipient its own: what planning them costs in MergeWarnings.
func BenchmarkMergeWarnings10000(b *testing.B) {
	letters := make([]*Mailing, 10000)
	for i := range letters {
		letters[i] = &Mailing{Address: fmt.Sprintf("mailing.letter[\"c%06d\"]", i), Documents: []*Document{{
			SHA256: fmt.Sprintf("%064x", i), File: fmt.Sprintf("letters/c%06d.pdf", i),
			Recipient: &Recipient{Lines: []string{fmt.Sprintf("Customer %06d", i), "1 rue de la Paix", "75002 PARIS"}, Postcode: "75002", City: "PARIS"},
		}}}
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := MergeWarnings(letters); len(d) != 0 {
			b.Fatal(d)
		}
	}
}
