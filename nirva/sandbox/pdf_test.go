package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	postpdf "github.com/postform/postform/pdf"
)

func relaxed() *model.Configuration {
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	return conf
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
		"no pages": postpdf.WriteObjects([]string{
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
	lines, _, err := readAddress(testPDF, out.Bytes())
	if info.Pages != 1 || err != nil || !slices.Equal(lines, []string{"ACME SAS", "UNDELIVERABLE"}) {
		t.Fatalf("%+v %q %v", info, lines, err)
	}
}

// TestInspectFormXObjectAndPages: text drawn through a form XObject counts;
// only the first page is read for the address.
func TestInspectFormXObjectAndPages(t *testing.T) {
	stream := func(dict, content string) string {
		return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(content)+1, content)
	}
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	b := postpdf.WriteObjects([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 /Resources << /Font << /F1 8 0 R >> /XObject << /X1 5 0 R >> >> >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
		stream("", "q 1 0 0 1 0 0 cm /X1 Do Q"),
		stream("/Type /XObject /Subtype /Form /BBox [0 0 595 842]", "BT /F1 12 Tf 14 TL 320 660 Td [(AC) -20 (ME)] TJ T* (75002 PARIS) Tj ET"),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 7 0 R >>",
		stream("", "BT /F1 12 Tf 14 TL 320 660 Td (PAGE TWO) Tj ET"),
		font,
	})
	info, err := inspectPDF(b)
	if err != nil {
		t.Fatal(err)
	}
	lines, reasons, err := readAddress(testPDF, b)
	if info.Pages != 2 || err != nil || !slices.Equal(lines, []string{"ACME", "75002 PARIS"}) || len(reasons) != 0 {
		t.Fatalf("%+v %q %q %v", info, lines, reasons, err)
	}
}

func FuzzInspectPDF(f *testing.F) {
	good, _ := postpdf.MakePDF("ACME", "1 rue X")
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

// TestNotEligibleLikePlan: the real letters of pdf/testdata are refused
// exactly when postform's plan blocks them (same engine, same window): the
// recipient at the top left (empty window) and the line crossing the edge
// are NOT_ELIGIBLE with the reading's reason; the good letter is eligible
// and its pack group's address is the window's lines.
func TestNotEligibleLikePlan(t *testing.T) {
	h := newHarness(t, Options{})
	for file, want := range map[string]string{"letter.pdf": "", "topleft.pdf": "empty-window", "crossing.pdf": "crossing-edge", "nolocality.pdf": "no-locality"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "pdf", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		_, job := h.post(`{"jobName":"`+file+`","serviceId":"311"}`, map[string][]byte{"file__file_2201_0": b})
		id := job["jobId"].(string)
		h.clk.Advance(5 * time.Second)
		var pgs []struct {
			Status      string
			Raw         map[string]any
			Eligibility struct{ Reasons []string }
		}
		h.get("/jobs/"+id+"/packGroups", &pgs)
		if len(pgs) != 1 {
			t.Fatalf("%s: pack groups %+v", file, pgs)
		}
		pg := pgs[0]
		if want == "" {
			if pg.Status == "NOT_ELIGIBLE" || fmt.Sprint(pg.Raw["address"]) != "[Société Générale Service Contentieux 29 boulevard Haussmann 75009 PARIS]" {
				t.Fatalf("%s: %+v", file, pg)
			}
			continue
		}
		if pg.Status != "NOT_ELIGIBLE" || len(pg.Eligibility.Reasons) != 1 || !strings.HasPrefix(pg.Eligibility.Reasons[0], "ADDRESS_UNREADABLE: "+want+": page 1: ") {
			t.Fatalf("%s: %+v", file, pg)
		}
	}
}
