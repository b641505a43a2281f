package pdf

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"

	"github.com/klippa-app/go-pdfium/requests"
)

// MaxDPI bounds RenderPNG: an A4 page at 300 dpi is already 2480×3508 pixels.
const MaxDPI = 300

// WindowColor is the colour of the outline RenderPNG draws.
var WindowColor = color.RGBA{R: 0xd0, G: 0x10, B: 0x10, A: 0xff}

// RenderPNG renders page index (0-based) of file at dpi as a PNG, in the
// page's displayed orientation, on white. When outline is not nil, the window
// is drawn on it as a 2-pixel rectangle.
func (e *Engine) RenderPNG(file []byte, index, dpi int, outline *Window) ([]byte, error) {
	if dpi <= 0 || dpi > MaxDPI {
		return nil, fmt.Errorf("pdf: render at %d dpi: choose between 1 and %d", dpi, MaxDPI)
	}
	var out []byte
	err := e.withDoc(file, func(d *doc) error {
		n, err := d.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: d.ref})
		if err != nil {
			return err
		}
		if index < 0 || index >= n.PageCount {
			return fmt.Errorf("page %d does not exist: the document has %d", index+1, n.PageCount)
		}
		r, err := d.inst.RenderPageInDPI(&requests.RenderPageInDPI{Page: d.page(index), DPI: dpi})
		if err != nil {
			return err
		}
		// The rendered pixels live in PDFium's memory until Cleanup: copy them
		// onto white first (a page with transparency comes back transparent).
		src := r.Result.RenderedImage
		img := image.NewRGBA(src.Bounds())
		draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Over)
		r.Cleanup()
		if outline != nil {
			OutlineWindow(img, *outline, float64(dpi))
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return err
		}
		out = buf.Bytes()
		return nil
	})
	return out, err
}

// OutlineWindow draws w on img, a page rendered at dpi, as a 2-pixel
// WindowColor rectangle drawn inside the window's edge.
func OutlineWindow(img draw.Image, w Window, dpi float64) {
	px := func(mm float64) int { return int(math.Round(mm / 25.4 * dpi)) }
	r := image.Rect(px(w.LeftMM), px(w.TopMM), px(w.LeftMM+w.WidthMM), px(w.TopMM+w.HeightMM)).Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	const t = 2
	c := image.NewUniform(WindowColor)
	for _, s := range []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+t)},
		{image.Pt(r.Min.X, r.Max.Y-t), r.Max},
		{r.Min, image.Pt(r.Min.X+t, r.Max.Y)},
		{image.Pt(r.Max.X-t, r.Min.Y), r.Max},
	} {
		draw.Draw(img, s.Intersect(r), c, image.Point{}, draw.Src)
	}
}
