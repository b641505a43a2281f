package pdf

import "fmt"

// Window is the part of page 1 that an envelope's window shows, in
// millimetres from the top-left corner of the page as displayed.
type Window struct {
	LeftMM, TopMM, WidthMM, HeightMM float64
}

// DefaultWindow is the address frame of an A4 letter folded in three (letter
// fold, about 99 mm panels) in a French DL window envelope: 85 mm wide, 33 mm
// high, its top-left corner 110 mm from the left edge and 55 mm from the top.
//
// Where the numbers come from, all "about": a DL envelope (ISO 269) is
// 110×220 mm, and the window of the usual French DL window envelope, as La
// Poste describes it, is 45×100 mm, 20 mm from the envelope's right edge and
// 15 mm from its bottom: it spans 100–200 mm across and 50–95 mm down the
// envelope. The folded sheet (210×99 mm) has about 10 mm of play across and
// 11 mm down. With the sheet e mm from the envelope's left edge and d mm from
// its top, the window shows the sheet from 100−e to 200−e mm across and from
// 50−d to 95−d mm down. The frame (110–195 mm across, 55–88 mm down) is
// wholly visible while e ≤ 5 (a centred sheet) and d ≤ 7; a sheet pushed to
// the far right or the bottom hides up to 5 mm of its right edge or 4 mm of
// its bottom. Around the frame the window itself has room (for a centred sheet
// resting at the top: 15 mm to the left, 5 mm above, 7 mm below, none to the
// right), so text spilling ToleranceMM past the frame is usually still seen.
// These are sums on the dimensions above, not figures quoted from a standard.
var DefaultWindow = Window{LeftMM: 110, TopMM: 55, WidthMM: 85, HeightMM: 33}

// ToleranceMM is how far beyond a Window's frame an address line may reach and
// still count as inside (printing, folding and the sheet's play in the envelope
// move the text by a few millimetres). A line that overlaps the frame and
// reaches further than this crosses the window's edge.
const ToleranceMM = 3.0

// Rect is the window's frame as a Rect.
func (w Window) Rect() Rect {
	return Rect{Left: w.LeftMM, Top: w.TopMM, Right: w.LeftMM + w.WidthMM, Bottom: w.TopMM + w.HeightMM}
}

// Valid reports what is wrong with w, if anything: for a configuration error.
func (w Window) Valid() error {
	switch {
	case w.WidthMM <= 0 || w.HeightMM <= 0:
		return fmt.Errorf("the address window must have a positive width and height (got %g×%g mm)", w.WidthMM, w.HeightMM)
	case w.LeftMM < 0 || w.TopMM < 0:
		return fmt.Errorf("the address window must start on the page (got left %g mm, top %g mm)", w.LeftMM, w.TopMM)
	}
	return nil
}

func (w Window) String() string {
	return fmt.Sprintf("%g×%g mm at %g mm from the left, %g mm from the top", w.WidthMM, w.HeightMM, w.LeftMM, w.TopMM)
}

func (w Window) grown(d float64) Rect {
	r := w.Rect()
	return Rect{r.Left - d, r.Top - d, r.Right + d, r.Bottom + d}
}
