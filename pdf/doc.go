// Package pdf is postform's one PDF reader: it reads a letter's recipient from
// the envelope's address window, counts pages, and renders a page for review.
// (WriteObjects, which lays out the small hand-made PDFs of the sandbox and
// the tests, is its only writer.)
//
// The engine is PDFium compiled to WebAssembly (github.com/klippa-app/go-pdfium,
// webassembly mode) running on wazero: pure Go, no cgo. PDFium does the hard
// parts real producers need: subset TrueType/CID fonts and their ToUnicode
// maps, compressed streams, TJ arrays with kerning, form XObjects, /Rotate.
//
// Use:
//
//	e := pdf.Open(pdf.Options{CacheDir: ".postform/cache/pdfium"})
//	defer e.Close()
//	r, err := e.Recipient(pdfBytes, pdf.DefaultWindow)
//	// err: not a PDF PDFium can open (say so, naming the file).
//	// r.Lines: ["Société Générale", "Service Contentieux", "29 boulevard Haussmann", "75009 PARIS"]
//	// r.Postcode, r.City, r.Country: where recognised; r.Pages: page count.
//	// r.Problems: preflight findings, each with a stable Kind
//	// (EmptyWindow, NoLocality, CrossingEdge, Unreadable) and a Message.
//
// One Engine per process: it starts PDFium on first use (or Start), lazily and
// once; it is safe for concurrent use, running up to Options.Workers PDFium
// instances at once; the owner closes it. Starting compiles the 5 MB module:
// 3.5 to 7 s on a 2-core machine (more under load), 0.1 to 0.15 s when
// Options.CacheDir keeps wazero's compilation from an earlier run (about 21 MB
// on disk). Reading one letter's recipient then costs about 3 ms of CPU, so
// 1,000 letters take about 1.5 s on two cores, start from a warm cache included
// (go test -bench . ./pdf/).
//
// Reading the window: Page gives every run of text of a page with its ink box
// in millimetres from the top-left corner of the page as displayed (after
// /Rotate, using PDFium's own page-to-device mapping). Characters come in
// PDFium's content order and are cut into runs where PDFium breaks the line,
// where the baseline changes, and at a horizontal gap wider than about 1.5
// character heights, so a sender typed on the same lines as the recipient,
// separated by tabs, stays out of the address. RecipientOf keeps the runs that
// overlap the window's frame; a run overlapping it but reaching more than
// ToleranceMM past it is kept and reported as crossing the edge.
//
// Limits, stated plainly: text drawn as an image or as outlines is no text
// (EmptyWindow); a font without a usable ToUnicode map may read as garbage
// that no check catches (PDFium reports only the characters it cannot map at
// all: Unreadable); the locality check knows French postcodes and country
// names written in capitals, and nothing about foreign postcode formats; a
// lone capitalised city such as "PARIS" under a street line is taken for a
// country when the address has three lines or more.
package pdf
