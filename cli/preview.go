package cli

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/pdf"
	"github.com/postform/postform/reconcile"
)

// previewDPI renders page 1 large enough to read an address (a 661×935
// pixel A4 page, about 20 kB of PNG) and small enough that a preview of 500
// letters stays a few megabytes and a few seconds.
const previewDPI = 80

// previewPages is the folder beside index.html holding the rendered pages.
const previewPages = "pages"

//go:embed preview.html.tmpl
var previewHTML string

var previewTemplate = template.Must(template.New("preview").Parse(previewHTML))

// previewSource is what a preview shows: a plan document, the address window
// of each letter where the configuration is known, and how recipients are
// shown.
type previewSource struct {
	doc *reconcile.PlanDocument
	// windows are the letters' address windows by address; a letter not in
	// it is outlined with pdf.DefaultWindow and windowNote says why.
	windows    map[string]pdf.Window
	windowNote string
	// recipients is full, masked or hidden (config.Recipients*): masked and
	// hidden also cover the window on the rendered page.
	recipients string
}

// preview writes the preview of doc into dir and says where, on stderr
// when stdout carries a machine-readable plan. cfg gives each letter's
// address window; without it (show PLANFILE) the default window is drawn.
func (g *globals) preview(dir string, doc *reconcile.PlanDocument, cfg *config.Config, recipients string, machine bool) error {
	workDir, err := os.Getwd()
	if err != nil {
		return err
	}
	src := previewSource{doc: doc, recipients: recipients, windows: map[string]pdf.Window{}}
	if cfg != nil {
		for _, m := range cfg.Mailings {
			src.windows[m.Address] = m.Window
		}
	} else {
		src.windowNote = "The frame drawn is the default window (" + pdf.DefaultWindow.String() + "): a saved plan does not record a mailing's address_window."
	}
	st, err := writePreview(dir, workDir, processPDF(), src)
	if err != nil {
		return err
	}
	w := g.stdout
	if machine {
		w = g.stderr
	}
	failed := ""
	if st.Failed > 0 {
		failed = fmt.Sprintf(", %d could not be rendered (the page says why)", st.Failed)
	}
	fmt.Fprintf(w, "\nWrote the preview of %d letters to %s (%d pages rendered%s).\n", st.Letters, termtext.Escape(st.Index), st.Rendered, failed)
	return nil
}

// previewLetter is one letter of the page, as the template shows it.
type previewLetter struct {
	Anchor    string
	Address   string
	Action    string
	Reason    string
	JobName   string
	Service   string
	Owner     string
	Options   []string
	Pages     int
	Files     []string
	Recipient []string
	// RecipientNote says why Recipient is empty or altered.
	RecipientNote string
	// PriorRecipient is whom the letter already posted went to.
	PriorRecipient []string
	Window         string
	// Image is the rendered page's name inside the preview folder, or ""
	// with Placeholder saying why there is none.
	Image       string
	Placeholder string
	ContentHash string
	PriorJobID  string
}

// previewPage is the template's data.
type previewPage struct {
	Summary     reconcile.PlanSummary
	Letters     []*previewLetter
	Diagnostics []reconcile.PlanDiagnostic
	WindowNote  string
	Recipients  string
	Covered     bool
	DPI         int
	Version     string
}

// previewStats says what writePreview did, for the message after it.
type previewStats struct {
	Letters, Rendered, Failed int
	Index                     string
}

// writePreview writes dir/index.html and dir/pages/*.png for src: one
// section per letter with page 1 of its recipient's document rendered by
// eng, the address window outlined. The documents are read from workDir and
// must still have the sha256 the plan recorded. dir is the user's choice;
// every name inside it is written through safefs, never through a link.
func writePreview(dir, workDir string, eng *pdf.Engine, src previewSource) (previewStats, error) {
	var st previewStats
	out, err := safefs.OpenCreateAt(dir)
	if err != nil {
		return st, fmt.Errorf("writing the preview: %w (choose another --preview folder)", err)
	}
	defer out.Close()
	pages, err := out.Sub(previewPages)
	if err != nil {
		return st, fmt.Errorf("writing the preview: %w", err)
	}
	defer pages.Close()
	work, err := os.OpenRoot(workDir)
	if err != nil {
		return st, fmt.Errorf("writing the preview: %w", err)
	}
	defer work.Close()

	covered := src.recipients == config.RecipientsMasked || src.recipients == config.RecipientsHidden
	page := previewPage{Summary: src.doc.Summary, Diagnostics: src.doc.Diagnostics, WindowNote: src.windowNote,
		Recipients: src.recipients, Covered: covered, DPI: previewDPI, Version: src.doc.PostformVersion}

	// One render per distinct document and window: a mail merge that reused
	// a file shows the same page, rendered once.
	jobs := map[string]*previewJob{}
	var order []*previewJob
	for i, ch := range src.doc.Changes {
		l := &previewLetter{Anchor: fmt.Sprintf("letter-%d", i+1), Address: ch.Address, Action: string(ch.Action),
			Reason: ch.Reason, JobName: ch.JobName, Service: ch.Service, Owner: ch.Owner,
			ContentHash: ch.ContentHash, PriorJobID: ch.PriorJobID}
		for _, k := range sortedKeys(ch.Options) {
			l.Options = append(l.Options, k+" = "+ch.Options[k])
		}
		for _, f := range ch.Files {
			l.Pages += f.Pages
			box := f.Box
			if box == "" {
				box = "MAIN"
			}
			l.Files = append(l.Files, fmt.Sprintf("%s (%s, %d p., sha256 %s)", f.File, box, f.Pages, shortSHA(f.SHA256)))
		}
		if ch.PriorRecipient != nil && src.recipients != config.RecipientsHidden {
			l.PriorRecipient = ch.PriorRecipient.Shown(src.recipients).Lines
		}
		page.Letters = append(page.Letters, l)
		f := previewFile(ch.Files)
		if f == nil {
			l.Placeholder = "No document to show: " + noDocumentReason(ch)
			l.RecipientNote = "no document in the configuration"
			continue
		}
		l.Recipient, l.RecipientNote = previewRecipient(f.Recipient, src.recipients)
		w, ok := src.windows[ch.Address]
		if !ok {
			w = pdf.DefaultWindow
		}
		l.Window = w.String()
		key := f.SHA256 + " " + w.String()
		j := jobs[key]
		if j == nil {
			sum := sha256.Sum256([]byte(key))
			j = &previewJob{file: f.File, sha: f.SHA256, w: w, name: "page1-" + shortSHA(f.SHA256) + "-" + hex.EncodeToString(sum[:4]) + ".png"}
			jobs[key] = j
			order = append(order, j)
		}
		j.letters = append(j.letters, l)
	}
	st.Letters = len(page.Letters)

	// Rendering is the slow part: as many at once as the engine runs
	// PDFium instances. Each result lands only in its own job's letters.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	var writeErr error
	for _, j := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			b, problem := renderPreviewPage(eng, work, j.file, j.sha, j.w, covered)
			if problem == "" {
				if err := pages.WriteFile(j.name, b, 0o644); err != nil {
					mu.Lock()
					writeErr = err
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			defer mu.Unlock()
			j.written = problem == ""
			for _, l := range j.letters {
				if problem == "" {
					l.Image = previewPages + "/" + j.name
					st.Rendered++
				} else {
					l.Placeholder = problem
					st.Failed++
				}
			}
		}()
	}
	wg.Wait()
	if writeErr != nil {
		return st, fmt.Errorf("writing the preview: %w", writeErr)
	}
	if err := removeStalePages(pages, order); err != nil {
		return st, fmt.Errorf("writing the preview: %w", err)
	}
	var buf bytes.Buffer
	if err := previewTemplate.Execute(&buf, page); err != nil {
		return st, fmt.Errorf("writing the preview: %w", err)
	}
	if err := out.WriteFile("index.html", buf.Bytes(), 0o644); err != nil {
		return st, fmt.Errorf("writing the preview: %w", err)
	}
	st.Index = out.Join("index.html")
	return st, nil
}

// previewJob is one page to render, shown by one or more letters.
type previewJob struct {
	file, sha string
	w         pdf.Window
	name      string // inside the pages folder
	letters   []*previewLetter
	written   bool
}

// removeStalePages removes the pages an earlier preview in the same folder
// wrote and this one did not: a letter no longer in the plan must not
// linger in what a reviewer is sent. Only names of postform's own pattern
// are touched.
func removeStalePages(pages *safefs.Dir, kept []*previewJob) error {
	keep := map[string]bool{}
	for _, j := range kept {
		if !j.written {
			continue
		}
		keep[j.name] = true
	}
	d, err := pages.Open(".")
	if err != nil {
		return err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "page1-") && strings.HasSuffix(n, ".png") && !keep[n] {
			if err := pages.Remove(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// previewFile is the document whose page 1 a letter shows: the one its
// recipient was read from, else the first in the MAIN box, else the first.
func previewFile(files []reconcile.PlanFile) *reconcile.PlanFile {
	for i := range files {
		if files[i].Recipient != nil {
			return &files[i]
		}
	}
	for i := range files {
		if files[i].Box == "" {
			return &files[i]
		}
	}
	if len(files) > 0 {
		return &files[0]
	}
	return nil
}

func noDocumentReason(ch reconcile.PlanChange) string {
	if ch.Action == reconcile.ActionForget {
		return "the letter is no longer in the configuration; the plan only stops tracking it."
	}
	return "the plan lists no file for this letter."
}

// previewRecipient is what the page says of a recipient, under mode.
func previewRecipient(r *reconcile.PlanRecipient, mode string) ([]string, string) {
	switch {
	case r == nil:
		return nil, "not read (no MAIN-box document, or preflight = { address = false })"
	case mode == config.RecipientsHidden:
		return nil, "hidden (--recipients=hidden)"
	case len(r.Lines) == 0:
		return nil, "the address window holds no text"
	case mode == config.RecipientsMasked:
		return r.Shown(mode).Lines, "masked (--recipients=masked)"
	}
	return r.Lines, ""
}

// renderPreviewPage renders page 1 of file, which must still have the
// plan's sha256, with w outlined, and when cover is set, painted over. A
// problem is returned as the placeholder text the page shows instead.
func renderPreviewPage(eng *pdf.Engine, work *os.Root, file, sha string, w pdf.Window, cover bool) ([]byte, string) {
	b, err := work.ReadFile(file)
	if err != nil {
		return nil, fmt.Sprintf("Cannot read %s: %v.", file, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sha {
		return nil, fmt.Sprintf("%s changed since the plan was made (sha256 %s in the plan, %s now): this is not the page the plan posts.", file, shortSHA(sha), shortSHA(hex.EncodeToString(sum[:])))
	}
	if eng == nil {
		return nil, "No PDF engine in this run."
	}
	if !cover {
		png, err := eng.RenderPNG(b, 0, previewDPI, &w)
		if err != nil {
			return nil, fmt.Sprintf("PDFium cannot render page 1 of %s: %v.", file, err)
		}
		return png, ""
	}
	raw, err := eng.RenderPNG(b, 0, previewDPI, nil)
	if err != nil {
		return nil, fmt.Sprintf("PDFium cannot render page 1 of %s: %v.", file, err)
	}
	covered, err := coverWindow(raw, w)
	if err != nil {
		return nil, fmt.Sprintf("Cannot cover the address window of %s: %v.", file, err)
	}
	return covered, ""
}

// coverWindow paints the window grey on a rendered page and outlines it:
// a masked or hidden recipient must not be readable from the picture.
func coverWindow(b []byte, w pdf.Window) ([]byte, error) {
	src, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(src.Bounds())
	draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Src)
	px := func(mm float64) int { return int(math.Round(mm / 25.4 * previewDPI)) }
	// The tolerance too: a line reaching past the frame still counts.
	t := pdf.ToleranceMM
	r := image.Rect(px(w.LeftMM-t), px(w.TopMM-t), px(w.LeftMM+w.WidthMM+t), px(w.TopMM+w.HeightMM+t)).Intersect(img.Bounds())
	draw.Draw(img, r, image.NewUniform(color.Gray{Y: 0xc8}), image.Point{}, draw.Src)
	pdf.OutlineWindow(img, w, previewDPI)
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
