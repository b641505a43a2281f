package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/pdf"
)

// engine is shared by every test of the package: one PDFium per process, as
// in postform, compiled once into the cache the pdf tests also use.
var engine = pdf.Open(pdf.Options{CacheDir: filepath.Join(os.TempDir(), "postform-test-cache", "pdfium")})

func TestMain(m *testing.M) {
	code := m.Run()
	if err := engine.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing the PDF engine:", err)
		code = 1
	}
	os.Exit(code)
}

// letterDir writes the fixture letters of pdf/testdata and a configuration
// with one mailing per letter (name = file without .pdf), plus extra.
func letterDir(t *testing.T, extraMailing string, letters ...string) string {
	t.Helper()
	dir := t.TempDir()
	var hcl strings.Builder
	hcl.WriteString(sandboxProvider)
	for _, l := range letters {
		b, err := os.ReadFile(filepath.Join("..", "pdf", "testdata", l+".pdf"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, l+".pdf"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&hcl, "mailing %q {\n  service = \"Lettre simple\"\n  %s\n  document {\n    file = %q\n  }\n}\n", l, extraMailing, l+".pdf")
	}
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(hcl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mailing(t *testing.T, cfg *Config, name string) *Mailing {
	t.Helper()
	for _, m := range cfg.Mailings {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no mailing %s", name)
	return nil
}

// TestRecipientPreflight: each fixture letter (real LibreOffice exports)
// gives its recipient, or the one preflight error of its kind, at the
// document block, naming the file and the page; none is a load error.
func TestRecipientPreflight(t *testing.T) {
	dir := letterDir(t, "", "letter", "topleft", "crossing", "nolocality")
	cfg := mustLoad(t, dir, LoadOptions{PDF: engine})

	good := mailing(t, cfg, "letter")
	if good.AddressCheck != AddressRead || len(good.AddressProblems) != 0 {
		t.Fatalf("letter: check %q, problems %v", good.AddressCheck, good.AddressProblems)
	}
	r := good.Documents[0].Recipient
	want := []string{"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"}
	if r == nil || !slices.Equal(r.Lines, want) || r.Postcode != "75009" || r.City != "PARIS" || good.Documents[0].RecipientPage != 1 {
		t.Fatalf("letter: recipient %+v", r)
	}
	if good.Window != pdf.DefaultWindow {
		t.Errorf("window %v, want the default", good.Window)
	}

	for name, code := range map[string]string{"topleft": diag.CodeEmptyWindow, "crossing": diag.CodeCrossingWindow, "nolocality": diag.CodeNoLocality} {
		m := mailing(t, cfg, name)
		if got := codes(m.AddressProblems); !slices.Equal(got, []string{code}) {
			t.Errorf("%s: codes %v, want [%s]", name, got, code)
			continue
		}
		d := m.AddressProblems[0]
		if d.Severity != hcl.DiagError || d.Subject == nil || *d.Subject != m.Documents[0].DeclRange {
			t.Errorf("%s: %+v: want an error at the document block", name, d)
		}
		for _, s := range []string{name + ".pdf", "page 1", "address_window", "preflight = { address = false }"} {
			if !strings.Contains(d.Detail, s) {
				t.Errorf("%s: detail %q lacks %q", name, d.Detail, s)
			}
		}
	}
}

// TestRecipientWindowAndOptOut: a mailing's address_window wins over the
// provider's; preflight = { address = false } reads nothing.
func TestRecipientWindowAndOptOut(t *testing.T) {
	dir := letterDir(t, "", "topleft")
	// The recipient of topleft.pdf stands at the top left (18 mm, 14 mm).
	src, _ := os.ReadFile(filepath.Join(dir, "main.mail.hcl"))
	topLeft := "address_window = { left_mm = 18, top_mm = 14, width_mm = 80, height_mm = 20 }"
	cases := []struct {
		name, provider, mailing string
		check                   string
		problems                int
	}{
		{"default window", "", "", AddressRead, 1},
		{"provider window", topLeft, "", AddressRead, 0},
		{"mailing wins", "address_window = { left_mm = 110, top_mm = 55, width_mm = 85, height_mm = 33 }", topLeft, AddressRead, 0},
		{"opt out", "", "preflight = { address = false }", AddressSkipped, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := strings.Replace(string(src), `endpoint = "sandbox"`, "endpoint = \"sandbox\"\n  "+c.provider, 1)
			s = strings.Replace(s, `service = "Lettre simple"`, "service = \"Lettre simple\"\n  "+c.mailing, 1)
			if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			m := mustLoad(t, dir, LoadOptions{PDF: engine}).Mailings[0]
			if m.AddressCheck != c.check || len(m.AddressProblems) != c.problems {
				t.Fatalf("check %q, problems %v", m.AddressCheck, m.AddressProblems)
			}
			if c.check == AddressSkipped && m.Documents[0].Recipient != nil {
				t.Fatalf("opted out, yet read %+v", m.Documents[0].Recipient)
			}
			if c.problems == 0 && c.check == AddressRead && m.Documents[0].Recipient.Lines[0] != "Société Générale" {
				t.Fatalf("recipient %+v", m.Documents[0].Recipient)
			}
		})
	}
}

// TestRecipientConfigErrors: a bad window, preflight or review value is a
// PF006 at the attribute.
func TestRecipientConfigErrors(t *testing.T) {
	for name, c := range map[string]struct{ provider, mailing, postform, want string }{
		"zero width":      {mailing: "address_window = { left_mm = 110, top_mm = 55, width_mm = 0, height_mm = 33 }", want: "{ left_mm"},
		"missing key":     {provider: "address_window = { left_mm = 110, top_mm = 55, width_mm = 85 }", want: "{ left_mm"},
		"unknown key":     {mailing: "address_window = { left_mm = 110, top_mm = 55, width_mm = 85, height_mm = 33, depth_mm = 1 }", want: "{ left_mm"},
		"negative":        {mailing: "address_window = { left_mm = -1, top_mm = 55, width_mm = 85, height_mm = 33 }", want: "{ left_mm"},
		"not an object":   {mailing: `address_window = "default"`, want: `"default"`},
		"preflight key":   {mailing: "preflight = { addresses = false }", want: "{ addresses"},
		"preflight value": {mailing: `preflight = { address = "no" }`, want: "{ address"},
		"review":          {postform: `review { recipients = "secret" }`, want: `"secret"`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := letterDir(t, c.mailing, "letter")
			src, _ := os.ReadFile(filepath.Join(dir, "main.mail.hcl"))
			s := strings.Replace(string(src), `endpoint = "sandbox"`, "endpoint = \"sandbox\"\n  "+c.provider, 1)
			if c.postform != "" {
				s = "postform {\n  " + c.postform + "\n}\n" + s
			}
			os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(s), 0o644)
			cfg, diags := Load(dir, LoadOptions{})
			d := hasCode(diags, diag.CodeInvalidValue)
			if d == nil || d.Subject == nil {
				t.Fatalf("want a PF006 with a subject, got %v", diags)
			}
			lines := strings.Split(string(cfg.Files["main.mail.hcl"].Bytes), "\n")
			if got := lines[d.Subject.Start.Line-1][d.Subject.Start.Column-1:]; !strings.HasPrefix(got, c.want) {
				t.Fatalf("points at %q, want %q (%s)", got, c.want, d.Detail)
			}
		})
	}
	dir := letterDir(t, "", "letter")
	src, _ := os.ReadFile(filepath.Join(dir, "main.mail.hcl"))
	os.WriteFile(filepath.Join(dir, "main.mail.hcl"), append([]byte("postform {\n  review {\n    recipients = \"masked\"\n  }\n  backend \"local\" {}\n}\n"), src...), 0o644)
	if cfg := mustLoad(t, dir, LoadOptions{}); cfg.Review.Recipients != RecipientsMasked || cfg.Backend.Type != "local" {
		t.Fatalf("review %+v, backend %+v", cfg.Review, cfg.Backend)
	}
	if cfg := mustLoad(t, letterDir(t, "", "letter"), LoadOptions{}); cfg.Review.Recipients != RecipientsFull {
		t.Fatalf("default review %+v", cfg.Review)
	}
}

// recipientCache is a RecipientCache in memory that counts its calls.
type recipientCache struct {
	mu      sync.Mutex
	entries map[string]*pdf.Recipient
	hits    int
	stores  int
}

func (c *recipientCache) key(sha string, w pdf.Window) string { return sha + w.String() }

func (c *recipientCache) LookupRecipient(sha string, w pdf.Window) (*pdf.Recipient, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.entries[c.key(sha, w)]
	if ok {
		c.hits++
	}
	return r, ok
}

func (c *recipientCache) StoreRecipient(sha string, w pdf.Window, r *pdf.Recipient) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*pdf.Recipient{}
	}
	c.stores++
	c.entries[c.key(sha, w)] = r
}

// TestRecipientCache: a second load takes every reading from the cache, by
// sha256 and window, and never starts an engine; another window is read.
func TestRecipientCache(t *testing.T) {
	dir := letterDir(t, "", "letter", "topleft")
	c := &recipientCache{}
	mustLoad(t, dir, LoadOptions{PDF: engine, Recipients: c})
	if c.stores != 2 || c.hits != 0 {
		t.Fatalf("first load: %d stores, %d hits", c.stores, c.hits)
	}
	cold := pdf.Open(pdf.Options{}) // would take seconds to start: it must not
	defer cold.Close()
	cfg := mustLoad(t, dir, LoadOptions{PDF: cold, Recipients: c})
	if c.stores != 2 || c.hits != 2 {
		t.Fatalf("second load: %d stores, %d hits", c.stores, c.hits)
	}
	if m := mailing(t, cfg, "topleft"); !slices.Equal(codes(m.AddressProblems), []string{diag.CodeEmptyWindow}) {
		t.Fatalf("cached problems lost: %v", m.AddressProblems)
	}
	if r := mailing(t, cfg, "letter").Documents[0].Recipient; r == nil || r.City != "PARIS" {
		t.Fatalf("cached recipient lost: %+v", r)
	}
	if err := cold.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed engine fails every reading: proof that none is attempted.
	dir2 := letterDir(t, "address_window = { left_mm = 18, top_mm = 14, width_mm = 80, height_mm = 20 }", "topleft")
	cfg = mustLoad(t, dir2, LoadOptions{PDF: cold, Recipients: c})
	if got := codes(cfg.Mailings[0].AddressProblems); !slices.Equal(got, []string{diag.CodeUnreadableAddress}) {
		t.Fatalf("a window not in the cache must be read: %v", got)
	}
}

// TestMergeWarnings: one PDF under two addresses, and one recipient in two
// PDFs, are warned about once each.
func TestMergeWarnings(t *testing.T) {
	dir := letterDir(t, "", "letter", "cid")
	src, _ := os.ReadFile(filepath.Join(dir, "main.mail.hcl"))
	src = append(src, "mailing \"again\" {\n  service = \"Lettre simple\"\n  document {\n    file = \"letter.pdf\"\n  }\n}\n"...)
	os.WriteFile(filepath.Join(dir, "main.mail.hcl"), src, 0o644)
	cfg := mustLoad(t, dir, LoadOptions{PDF: engine})
	diags := MergeWarnings(cfg.Mailings)
	if got := codes(diags); !slices.Equal(got, []string{diag.CodeSharedPDF, diag.CodeSameRecipient}) {
		t.Fatalf("codes %v: %v", got, diags)
	}
	if !strings.Contains(diags[0].Detail, "mailing.again, mailing.letter") || !strings.Contains(diags[1].Detail, "3 letters") ||
		diags[0].Severity != hcl.DiagWarning {
		t.Fatalf("%s\n%s", diags[0].Detail, diags[1].Detail)
	}
	if d := MergeWarnings(cfg.Mailings[:2]); len(d) != 1 || diag.Code(d[0]) != diag.CodeSameRecipient || !strings.Contains(d[0].Detail, "2 letters") {
		t.Fatalf("two PDFs, one recipient: %v", d)
	}
}

// TestRecipientsSharedAndCached: letters that share PDFs get the same
// recipients and findings without a cache, with a cold one, a warm one and
// one that knows some of the PDFs only; each PDF is read once.
func TestRecipientsSharedAndCached(t *testing.T) {
	dir := letterDir(t, "", "letter", "topleft", "cid")
	src, _ := os.ReadFile(filepath.Join(dir, "main.mail.hcl"))
	src = append(src, `
mailing "again" {
  for_each = toset(["a", "b", "c"])
  service  = "Lettre simple"
  document {
    file = each.key == "b" ? "topleft.pdf" : "letter.pdf"
  }
}
`...)
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	ref := mustLoad(t, dir, LoadOptions{PDF: engine})
	c := &recipientCache{}
	loads := map[string]*Config{"cold": mustLoad(t, dir, LoadOptions{PDF: engine, Recipients: c})}
	if c.stores != 3 {
		t.Fatalf("cold cache: %d stores, want one per PDF", c.stores)
	}
	loads["warm"] = mustLoad(t, dir, LoadOptions{PDF: engine, Recipients: c})
	for k := range c.entries {
		if strings.HasPrefix(k, ref.Mailings[0].Documents[0].SHA256) { // again["a"]: letter.pdf
			delete(c.entries, k)
		}
	}
	loads["partial"] = mustLoad(t, dir, LoadOptions{PDF: engine, Recipients: c})
	if c.stores != 4 {
		t.Fatalf("after the partial load: %d stores, want 4", c.stores)
	}
	for name, cfg := range loads {
		if !reflect.DeepEqual(cfg.Mailings, ref.Mailings) {
			t.Errorf("%s: letters differ from the load without a cache", name)
		}
	}
	if r := ref.Mailings[0].Documents[0].Recipient; r == nil || r.City != "PARIS" || ref.Mailings[0].Address != `mailing.again["a"]` {
		t.Fatalf("first letter %+v", ref.Mailings[0])
	}
}
