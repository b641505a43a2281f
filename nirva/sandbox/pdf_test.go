package sandbox

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func relaxed() *model.Configuration {
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	return conf
}

// TestMakePDFValidatesWithPdfcpu: what MakePDF writes is a valid one-page
// PDF by pdfcpu's own validator (strict mode too), and its text reads back.
func TestMakePDFValidatesWithPdfcpu(t *testing.T) {
	lines := []string{"ACME SAS", "12 rue de la Paix (2e)", `back\slash`, "75002 PARIS", "Ça coûte 5 €"}
	for _, lines := range [][]string{nil, lines} {
		b := pdf(t, lines...)
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
		info, err := inspectPDF(b)
		if err != nil {
			t.Fatal(err)
		}
		if info.Pages != 1 || !info.TextKnown {
			t.Fatalf("info %+v", info)
		}
		if got := info.HasText(); got != (len(lines) > 0) {
			t.Fatalf("HasText = %v for %q (text %q)", got, lines, info.FirstPageText)
		}
		want := ""
		for _, l := range lines {
			want += strings.ReplaceAll(l, "€", "?") + "\n"
		}
		if info.FirstPageText != want {
			t.Fatalf("text %q, want %q", info.FirstPageText, want)
		}
	}
}

// TestMakePDFIsStable: the same lines give the same bytes (proof files are
// hashed into state; a proof downloaded twice must not look changed).
func TestMakePDFIsStable(t *testing.T) {
	a, b := pdf(t, "A", "B"), pdf(t, "A", "B")
	if !bytes.Equal(a, b) {
		t.Fatal("MakePDF is not deterministic")
	}
	if len(a) > 1024 {
		t.Fatalf("MakePDF wrote %d bytes; it should stay tiny", len(a))
	}
	if sha256.Sum256(a) == sha256.Sum256(pdf(t, "A", "C")) {
		t.Fatal("different lines, same bytes")
	}
}

func TestInspectRejects(t *testing.T) {
	good := pdf(t, "A")
	cases := map[string][]byte{
		"empty":          nil,
		"text":           []byte("hello"),
		"magic only":     []byte("%PDF-1.4\ngarbage"),
		"no catalog":     []byte("%PDF-1.4\n1 0 obj << >> endobj\nstartxref\n0\n%%EOF"),
		"truncated":      good[:len(good)/2],
		"magic too late": append([]byte("junk\n"), good...),
		"no pages": WritePDF([]string{
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [] /Count 0 >>",
		}),
	}
	for name, b := range cases {
		if info, err := inspectPDF(b); err == nil {
			t.Errorf("%s: accepted (%+v)", name, info)
		}
	}
}

func TestInspectEncrypted(t *testing.T) {
	for _, userPW := range []string{"", "open-sesame"} {
		var out bytes.Buffer
		conf := model.NewAESConfiguration(userPW, "owner-pw", 256)
		if err := api.Encrypt(bytes.NewReader(pdf(t, "ACME")), &out, conf); err != nil {
			t.Fatal(err)
		}
		if _, err := inspectPDF(out.Bytes()); !errors.Is(err, errEncrypted) {
			t.Errorf("user password %q: err %v, want errEncrypted", userPW, err)
		}
	}
}

// TestInspectPdfcpuRewrite: the same letter written again by pdfcpu (its
// own writer, object layout and stream filters) reads the same.
func TestInspectPdfcpuRewrite(t *testing.T) {
	var out bytes.Buffer
	if err := api.Optimize(bytes.NewReader(pdf(t, "ACME SAS", "UNDELIVERABLE")), &out, relaxed()); err != nil {
		t.Fatal(err)
	}
	info, err := inspectPDF(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if info.Pages != 1 || info.FirstPageText != "ACME SAS\nUNDELIVERABLE\n" {
		t.Fatalf("%+v", info)
	}
}

// TestInspectFormXObjectAndPages: text drawn through a form XObject counts;
// only the first page is read.
func TestInspectFormXObjectAndPages(t *testing.T) {
	stream := func(dict, content string) string {
		return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(content)+1, content)
	}
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	b := WritePDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 /Resources << /Font << /F1 8 0 R >> /XObject << /X1 5 0 R >> >> >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
		stream("", "q 1 0 0 1 0 0 cm /X1 Do Q"),
		stream("/Type /XObject /Subtype /Form /BBox [0 0 595 842]", "BT /F1 12 Tf 72 770 Td [(AC) -20 (ME)] TJ <4f4b> Tj ET"),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 7 0 R >>",
		stream("", "BT /F1 12 Tf 72 770 Td (PAGE TWO) Tj ET"),
		font,
	})
	info, err := inspectPDF(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.Pages != 2 || info.FirstPageText != "ACME\nOK\n" {
		t.Fatalf("%+v", info)
	}
}

// TestContentText covers the operators and the garbage a content stream
// may hold.
func TestContentText(t *testing.T) {
	content := `% a comment (not text) Tj
/Span << /MCID 0 >> BDC BT /F1 12 Tf
(one \(1\)) Tj
[(t) 120 (w) -50 <6f>] TJ
1 0 0 1 72 700 Tm (three) '
2 0 (four) "
BI /W 2 /H 1 /BPC 8 /CS /G ID ) Tj (x) Tj
EI
) garbage ( unbalanced
ET EMC`
	var b strings.Builder
	if known := contentText(nil, []byte(content), nil, 0, &b); !known {
		t.Fatal("unknown")
	}
	if got := b.String(); got != "one (1)\ntwo\nthree\nfour\n" {
		t.Fatalf("%q", got)
	}
}

func FuzzInspectPDF(f *testing.F) {
	good, _ := MakePDF("ACME", "1 rue X")
	f.Add(good)
	f.Add([]byte("%PDF-1.4\n"))
	f.Add(good[:len(good)-40])
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := inspectPDF(b)
		if err == nil && info.Pages < 1 {
			t.Fatalf("accepted without pages: %+v", info)
		}
	})
}
