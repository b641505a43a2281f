package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func init() {
	// Keep pdfcpu from creating a configuration directory in the user's
	// home on first use; its built-in defaults are what we want.
	model.ConfigPath = "disable"
}

// Preflight failures returned by PDFInfo; anything else it returns means the
// file could not be parsed.
var (
	ErrNotPDF    = errors.New("not a PDF file (it does not start with %PDF-)")
	ErrEncrypted = errors.New("the PDF is encrypted")
	ErrNoPages   = errors.New("the PDF has no pages")
)

// pdfMagic starts every PDF file.
var pdfMagic = []byte("%PDF-")

// A4 in PostScript points, and how far a page may be off and still count.
const (
	a4Width     = 595.0
	a4Height    = 842.0
	a4Tolerance = 2.0
)

// PDFInfo preflights one PDF with pdfcpu: it must start with %PDF-, parse,
// not be encrypted and have at least one page. It returns the page count and
// a warning for each page that is not portrait A4. Errors wrap ErrNotPDF,
// ErrEncrypted or ErrNoPages, or describe why the file does not parse.
func PDFInfo(path string) (pages int, warnings []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	head := make([]byte, len(pdfMagic))
	if n, _ := io.ReadFull(f, head); n < len(pdfMagic) || !bytes.Equal(head, pdfMagic) {
		return 0, nil, ErrNotPDF
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, nil, err
	}
	return pdfInfo(f)
}

func pdfInfo(rs io.ReadSeeker) (pages int, warnings []string, err error) {
	defer func() {
		// pdfcpu recovers its own failures, but a malformed file must never
		// take postform down with it.
		if r := recover(); r != nil {
			pages, warnings, err = 0, nil, fmt.Errorf("pdfcpu failed on this file: %v", r)
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := api.ReadContext(rs, conf)
	if err != nil {
		if errors.Is(err, pdfcpu.ErrWrongPassword) || strings.Contains(err.Error(), "password") {
			return 0, nil, ErrEncrypted
		}
		return 0, nil, fmt.Errorf("cannot parse the PDF: %w", err)
	}
	if ctx.Encrypt != nil || ctx.E != nil {
		return 0, nil, ErrEncrypted
	}
	if err := ctx.EnsurePageCount(); err != nil {
		return 0, nil, fmt.Errorf("cannot read the page tree: %w", err)
	}
	if ctx.PageCount < 1 {
		return 0, nil, ErrNoPages
	}
	dims, err := ctx.PageDims()
	if err != nil {
		return 0, nil, fmt.Errorf("cannot read the page sizes: %w", err)
	}
	if len(dims) < 1 {
		return 0, nil, ErrNoPages
	}
	for i, d := range dims {
		if math.Abs(d.Width-a4Width) > a4Tolerance || math.Abs(d.Height-a4Height) > a4Tolerance {
			warnings = append(warnings, fmt.Sprintf("page %d is %.0f x %.0f pt (%.0f x %.0f mm), not A4 portrait (595 x 842 pt)",
				i+1, d.Width, d.Height, d.Width*25.4/72, d.Height*25.4/72))
		}
	}
	return len(dims), warnings, nil
}

// hashFile streams path through sha256. head receives the file's first
// bytes (n of them), so callers can check a magic number without a second
// read.
func hashFile(path string, head []byte) (sum string, n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	if len(head) > 0 {
		n, err = io.ReadFull(f, head)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return "", n, err
		}
		h.Write(head[:n])
	}
	if _, err := io.Copy(h, f); err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// readHead reads the first len(head) bytes of path into head.
func readHead(path string, head []byte) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, head)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}
