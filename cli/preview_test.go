package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/pdf"
	"github.com/postform/postform/reconcile"
)

// previewLetters are the letters of the preview tests, by for_each key:
// accents, markup in the address and in the key, a two-line address.
var previewLetters = map[string][]string{
	"acme":       {"Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"},
	"dupont":     {"<b>Dupont</b> & Fils", "1 rue de la Paix", "75002 PARIS"},
	"<i>globex":  {"Globex Corporation", "1 avenue Foch", "75016 PARIS"},
	"initech":    {"Initech", "Bât. C, 4 quai des Célestins", "69002 LYON"},
	"hooli-très": {"Hooli", "2 place Bellecour", "69002 LYON"},
}

// previewWorkdir writes the letters and a configuration posting each of
// them, and returns the folder.
func previewWorkdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var entries []string
	i := 0
	for key, lines := range previewLetters {
		i++
		file := fmt.Sprintf("letters/l%d.pdf", i)
		b, err := pdf.MakeLetter(lines, "Madame, Monsieur,", "Veuillez trouver ci-joint notre facture.")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "letters"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, fmt.Sprintf("    %q = { file = %q, job = \"letter-%d\" }", key, file, i))
	}
	hcl := `
provider "nirva" {
  endpoint = "sandbox"
  login    = "demo@example.com"
  password = "demo"
}
mailing "letter" {
  for_each = {
` + strings.Join(entries, "\n") + `
  }
  service  = "Lettre simple"
  job_name = each.value.job
  document {
    file = each.value.file
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium finds the browser, or skips the test saying why; with
// POSTFORM_REQUIRE_CHROMIUM=1 (CI) a missing browser fails it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (apt-get install chromium): the preview is not checked in a browser"
	if os.Getenv("POSTFORM_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(msg + ", and POSTFORM_REQUIRE_CHROMIUM=1 requires it")
	}
	t.Skip(msg)
	return ""
}

// browserLetter is what the page shows of one letter, read from the DOM.
type browserLetter struct {
	Address     string `json:"address"`
	Action      string `json:"action"`
	Recipient   string `json:"recipient"`
	Service     string `json:"service"`
	JobName     string `json:"jobName"`
	Pages       string `json:"pages"`
	HasImage    bool   `json:"hasImage"`
	Complete    bool   `json:"complete"`
	Width       int    `json:"width"`
	Placeholder string `json:"placeholder"`
	Injected    int    `json:"injected"`
}

const readLettersJS = `Array.from(document.querySelectorAll('article.letter')).map(a => {
  const img = a.querySelector('img');
  const text = sel => { const e = a.querySelector(sel); return e ? e.innerText.trim() : ''; };
  return {
    address: text('.address'), action: a.dataset.action, recipient: text('.recipient'),
    service: text('.service'), jobName: text('.job-name'), pages: text('.pages'),
    hasImage: !!img, complete: !!img && img.complete, width: img ? img.naturalWidth : 0,
    placeholder: text('.placeholder'),
    injected: a.querySelectorAll('b, i, script').length,
  };
})`

// startBrowser starts headless Chromium at path and returns its context and
// the function that stops it. The preview's and the report's tests share it.
func startBrowser(t *testing.T, path string) (context.Context, func()) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// A closed network refuses the connections Chromium makes on its
		// own; without these it stalls on them.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	return bctx, func() { bcancel(); acancel(); cancel() }
}

// openInBrowser loads index.html from disk in headless Chromium and returns
// what the page shows of every letter. With POSTFORM_PREVIEW_SCREENSHOT set,
// it also saves a screenshot there (to look at while changing the page).
func openInBrowser(t *testing.T, browser, index string) []browserLetter {
	t.Helper()
	bctx, stop := startBrowser(t, browser)
	defer stop()
	// Navigate returns after the load event: every image has loaded or failed.
	url := "file://" + index
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s in %s: %v", url, browser, err)
	}
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	letters, err := chromedp.Run(bctx, chromedp.Evaluate[[]browserLetter](readLettersJS))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	if shotPath := os.Getenv("POSTFORM_PREVIEW_SCREENSHOT"); shotPath != "" {
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(title, "postform plan") {
		t.Fatalf("page title %q: not the preview", title)
	}
	return letters
}

func letterByKey(t *testing.T, letters []browserLetter, key string) browserLetter {
	t.Helper()
	addr := fmt.Sprintf("mailing.letter[%q]", key)
	for _, l := range letters {
		if l.Address == addr {
			return l
		}
	}
	t.Fatalf("the page shows no letter %s; it shows %+v", addr, letters)
	return browserLetter{}
}

// plan --preview and show PLANFILE --preview write a page that a real
// browser shows from disk: every letter with its address, recipient, job
// name, service and a loaded page image; markup in outside text stays text;
// a document changed since the saved plan shows why it has no image.
func TestPreviewInChromium(t *testing.T) {
	browser := chromium(t)
	keepCwd(t)
	t.Setenv("POSTFORM_SANDBOX_TIME_SCALE", "100")
	dir := previewWorkdir(t)
	out := postform(t, dir, "plan", "--out=review.plan", "--preview=review")
	if !strings.Contains(out, "Wrote the preview of 5 letters") {
		t.Fatalf("plan does not say where the preview is:\n%s", out)
	}
	letters := openInBrowser(t, browser, filepath.Join(dir, "review", "index.html"))
	if len(letters) != len(previewLetters) {
		t.Fatalf("the page shows %d letters, want %d: %+v", len(letters), len(previewLetters), letters)
	}
	for key, lines := range previewLetters {
		l := letterByKey(t, letters, key)
		if want := strings.Join(lines, "\n"); l.Recipient != want {
			t.Errorf("%s: recipient shown %q, want %q", key, l.Recipient, want)
		}
		if !l.HasImage || !l.Complete || l.Width == 0 {
			t.Errorf("%s: page 1 not shown (image %v, complete %v, naturalWidth %d; placeholder %q)", key, l.HasImage, l.Complete, l.Width, l.Placeholder)
		}
		if l.Action != "create" || l.Service != "Lettre simple" || !strings.HasPrefix(l.JobName, "letter-") || l.Pages != "1" {
			t.Errorf("%s: shows action %q, service %q, job %q, pages %q", key, l.Action, l.Service, l.JobName, l.Pages)
		}
		if l.Injected != 0 {
			t.Errorf("%s: outside text became %d elements", key, l.Injected)
		}
	}

	// The reviewed plan, one of whose files changed since.
	b, err := pdf.MakePDF("Someone Else", "3 rue Neuve", "13001 MARSEILLE")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := readPlanFile(filepath.Join(dir, "review.plan"))
	if err != nil {
		t.Fatal(err)
	}
	changed := ""
	for _, ch := range doc.Changes {
		if ch.Address == `mailing.letter["acme"]` {
			changed = ch.Files[0].File
		}
	}
	if err := os.WriteFile(filepath.Join(dir, changed), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out = postform(t, dir, "show", "review.plan", "--preview=shown")
	if !strings.Contains(out, "1 could not be rendered") {
		t.Fatalf("show does not count the letter it could not render:\n%s", out)
	}
	letters = openInBrowser(t, browser, filepath.Join(dir, "shown", "index.html"))
	if len(letters) != len(previewLetters) {
		t.Fatalf("the page shows %d letters, want %d", len(letters), len(previewLetters))
	}
	acme := letterByKey(t, letters, "acme")
	if acme.HasImage || !strings.Contains(acme.Placeholder, "changed since the plan was made") {
		t.Errorf("a changed file: image %v, placeholder %q", acme.HasImage, acme.Placeholder)
	}
	if !strings.Contains(acme.Recipient, "Société Générale") {
		t.Errorf("the saved plan's recipient is not shown: %q", acme.Recipient)
	}
	if l := letterByKey(t, letters, "initech"); !l.Complete || l.Width == 0 {
		t.Errorf("the unchanged letters lost their page: %+v", l)
	}

	// Masked, as a pull-request artifact would be: no name anywhere on the
	// page, the pictures still shown (their window painted over).
	postform(t, dir, "plan", "--recipients=masked", "--preview=masked")
	letters = openInBrowser(t, browser, filepath.Join(dir, "masked", "index.html"))
	dupont := letterByKey(t, letters, "dupont")
	// Initials of words, markup included: "<b>Dupont</b> & Fils".
	if dupont.Recipient != "b… F…\n75002 PARIS" {
		t.Errorf("masked recipient shown as %q", dupont.Recipient)
	}
	for _, l := range letters {
		if strings.Contains(l.Recipient, "Dupont") || strings.Contains(l.Recipient, "rue") || !l.Complete || l.Width == 0 {
			t.Errorf("masked preview: %+v", l)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "masked", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lines := range previewLetters {
		if strings.Contains(string(page), lines[0]) || strings.Contains(string(page), lines[1]) {
			t.Errorf("the masked page holds %q", lines[:2])
		}
	}
}

// A preview written again into the same folder keeps no page of a letter
// that left the plan, and leaves the user's own files alone.
func TestPreviewRemovesStalePages(t *testing.T) {
	work := t.TempDir()
	var changes []reconcile.PlanChange
	for _, key := range []string{"a", "b"} {
		b, err := pdf.MakePDF("Letter "+key, "1 rue de la Paix", "75002 PARIS")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, key+".pdf"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, reconcile.PlanChange{Address: "mailing." + key, Action: reconcile.ActionCreate,
			Files: []reconcile.PlanFile{{File: key + ".pdf", SHA256: sha256Hex(b), Pages: 1}}})
	}
	out := t.TempDir()
	eng := processPDF()
	if _, err := writePreview(out, work, eng, previewSource{doc: &reconcile.PlanDocument{Changes: changes}}); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(out, previewPages, "notes.png")
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := writePreview(out, work, eng, previewSource{doc: &reconcile.PlanDocument{Changes: changes[1:]}}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(out, previewPages))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || !strings.Contains(strings.Join(names, " "), "notes.png") {
		t.Errorf("pages after the second preview: %v, want b's page and notes.png", names)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	for _, n := range names {
		if n != "notes.png" && !strings.Contains(string(page), n) {
			t.Errorf("%s is not the page of the letter left", n)
		}
	}
}

// A preview folder where a checkout planted a link at index.html or
// pages/ is refused, and the link's target is untouched.
func TestPreviewRefusesPlantedLinks(t *testing.T) {
	keepCwd(t)
	dir := previewWorkdir(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The folder itself, as a checkout would commit it for --preview=preview.
	t.Run("folder", func(t *testing.T) {
		if err := os.Symlink(filepath.Dir(victim), filepath.Join(dir, "preview")); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runCLI(t, "--chdir", dir, "plan", "--preview=preview")
		if code == 0 || !strings.Contains(stderr, "symbolic link") {
			t.Fatalf("plan --preview wrote through a planted folder link (exit %d): %s", code, stderr)
		}
		if entries, _ := os.ReadDir(filepath.Dir(victim)); len(entries) != 1 {
			t.Errorf("files were written through the link: %v", entries)
		}
	})
	for _, planted := range []string{"index.html", "pages"} {
		t.Run(planted, func(t *testing.T) {
			prev := filepath.Join(dir, "prev-"+strings.ReplaceAll(planted, ".", "-"))
			if err := os.MkdirAll(prev, 0o755); err != nil {
				t.Fatal(err)
			}
			target := victim
			if planted == "pages" {
				target = filepath.Dir(victim)
			}
			if err := os.Symlink(target, filepath.Join(prev, planted)); err != nil {
				t.Fatal(err)
			}
			_, stderr, code := runCLI(t, "--chdir", dir, "plan", "--preview="+prev)
			if code == 0 {
				t.Fatalf("plan --preview wrote through a planted link at %s", planted)
			}
			if !strings.Contains(stderr, "preview") {
				t.Errorf("the error does not name the preview: %s", stderr)
			}
			if b, _ := os.ReadFile(victim); string(b) != "keep me" {
				t.Errorf("the link's target was written: %q", b)
			}
			if entries, _ := os.ReadDir(filepath.Dir(victim)); len(entries) != 1 {
				t.Errorf("files were written through the link: %v", entries)
			}
		})
	}
}

// Masked and hidden recipients are masked in the page and painted over in
// the picture; a full one is shown, the window outlined in red.
func TestPreviewMasksRecipients(t *testing.T) {
	letter, err := pdf.MakePDF("Société Générale", "29 boulevard Haussmann", "75009 PARIS")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "a.pdf"), letter, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256Hex(letter)
	doc := &reconcile.PlanDocument{PostformVersion: "test", Changes: []reconcile.PlanChange{{
		Address: "mailing.a", Action: reconcile.ActionCreate, Reason: "new letter", JobName: "a", Service: "Lettre simple",
		Files: []reconcile.PlanFile{{File: "a.pdf", SHA256: sum, Pages: 1,
			Recipient: &reconcile.PlanRecipient{Lines: []string{"Société Générale", "29 boulevard Haussmann", "75009 PARIS"}, Postcode: "75009", City: "PARIS"}}},
	}}}
	eng := processPDF()
	for _, tc := range []struct {
		mode       string
		show, hide []string
	}{
		{config.RecipientsFull, []string{"Société Générale", "29 boulevard Haussmann", "75009 PARIS"}, nil},
		{config.RecipientsMasked, []string{"S… G…", "75009 PARIS"}, []string{"Société", "Générale", "Haussmann"}},
		{config.RecipientsHidden, []string{"hidden"}, []string{"Société", "Générale", "Haussmann", "75009"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			out := t.TempDir()
			st, err := writePreview(out, work, eng, previewSource{doc: doc, recipients: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			if st.Rendered != 1 || st.Failed != 0 {
				t.Fatalf("rendered %d, failed %d", st.Rendered, st.Failed)
			}
			page, err := os.ReadFile(filepath.Join(out, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.show {
				if !strings.Contains(string(page), s) {
					t.Errorf("the page does not show %q", s)
				}
			}
			for _, s := range tc.hide {
				if strings.Contains(string(page), s) {
					t.Errorf("the page shows %q", s)
				}
			}
			img := previewImage(t, out)
			// Inside the window, where the address's first line is.
			inside := img.At(mmPx(pdf.DefaultWindow.LeftMM+10), mmPx(pdf.DefaultWindow.TopMM+6))
			// The frame's top-left corner.
			edge := img.At(mmPx(pdf.DefaultWindow.LeftMM)+1, mmPx(pdf.DefaultWindow.TopMM)+1)
			if r, g, b, _ := edge.RGBA(); r>>8 != 0xd0 || g>>8 != 0x10 || b>>8 != 0x10 {
				t.Errorf("the window is not outlined in red: %v", edge)
			}
			grey := func(c any) bool {
				r, g, b, _ := c.(interface{ RGBA() (r, g, b, a uint32) }).RGBA()
				return r>>8 == 0xc8 && g>>8 == 0xc8 && b>>8 == 0xc8
			}
			if tc.mode == config.RecipientsFull {
				if grey(inside) || !inkIn(img, pdf.DefaultWindow) {
					t.Errorf("the address is not visible on the page")
				}
			} else if !grey(inside) || inkIn(img, pdf.DefaultWindow) {
				t.Errorf("the address is readable on the page of a %s recipient", tc.mode)
			}
		})
	}
}

// A letter PDFium cannot open is shown with the reason instead of a page.
func TestPreviewPlaceholderForUnrenderable(t *testing.T) {
	work := t.TempDir()
	junk := []byte("%PDF-1.4\nthis is not a PDF at all\n")
	if err := os.WriteFile(filepath.Join(work, "junk.pdf"), junk, 0o644); err != nil {
		t.Fatal(err)
	}
	doc := &reconcile.PlanDocument{Changes: []reconcile.PlanChange{
		{Address: "mailing.junk", Action: reconcile.ActionCreate, Files: []reconcile.PlanFile{{File: "junk.pdf", SHA256: sha256Hex(junk), Pages: 1}}},
		{Address: "mailing.gone", Action: reconcile.ActionForget, Reason: "no longer in the configuration"},
	}}
	eng := processPDF()
	out := t.TempDir()
	st, err := writePreview(out, work, eng, previewSource{doc: doc, recipients: config.RecipientsFull})
	if err != nil {
		t.Fatal(err)
	}
	if st.Letters != 2 || st.Failed != 1 || st.Rendered != 0 {
		t.Fatalf("stats %+v", st)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	for _, want := range []string{"PDFium cannot render page 1 of junk.pdf", "No document to show: the letter is no longer in the configuration"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page does not say %q", want)
		}
	}
}

func previewImage(t *testing.T, out string) image.Image {
	t.Helper()
	d, err := safefs.Open(filepath.Join(out, previewPages))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	entries, err := os.ReadDir(d.Path())
	if err != nil || len(entries) != 1 {
		t.Fatalf("pages: %v %v", entries, err)
	}
	b, err := d.ReadFile(entries[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func mmPx(mm float64) int { return int(math.Round(mm / 25.4 * previewDPI)) }

// inkIn reports whether the window, inside its outline, holds dark pixels.
func inkIn(img image.Image, w pdf.Window) bool {
	for y := mmPx(w.TopMM) + 4; y < mmPx(w.TopMM+w.HeightMM)-4; y++ {
		for x := mmPx(w.LeftMM) + 4; x < mmPx(w.LeftMM+w.WidthMM)-4; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r>>8 < 0x80 && g>>8 < 0x80 && b>>8 < 0x80 {
				return true
			}
		}
	}
	return false
}

// BenchmarkPreview100 writes the preview of 100 distinct one-page letters
// (render, PNG encoding and fsynced writes), the PDF engine already started.
func BenchmarkPreview100(b *testing.B) {
	work := b.TempDir()
	doc := &reconcile.PlanDocument{}
	for i := range 100 {
		key := fmt.Sprintf("r%03d", i)
		lines := []string{"Recipient " + key, "1 rue de la Paix", "75002 PARIS"}
		pdfb, err := pdf.MakeLetter(lines, "Madame, Monsieur,")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, key+".pdf"), pdfb, 0o644); err != nil {
			b.Fatal(err)
		}
		doc.Changes = append(doc.Changes, reconcile.PlanChange{Address: "mailing.m[" + key + "]", Action: reconcile.ActionCreate,
			Service: "Lettre simple", JobName: key, Files: []reconcile.PlanFile{{File: key + ".pdf", SHA256: sha256Hex(pdfb), Pages: 1,
				Recipient: &reconcile.PlanRecipient{Lines: lines}}}})
	}
	eng := processPDF()
	if err := eng.Start(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		st, err := writePreview(b.TempDir(), work, eng, previewSource{doc: doc, recipients: config.RecipientsFull})
		if err != nil || st.Rendered != 100 {
			b.Fatalf("%+v %v", st, err)
		}
	}
}
