package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	postpdf "github.com/postform/postform/pdf"
)

func init() {
	// pdfcpu would otherwise create a configuration directory in the
	// user's home on first use; its built-in defaults are what we want.
	api.DisableConfigDir()
}

// errEncrypted: the platform cannot extract content from an encrypted PDF.
var errEncrypted = errors.New("the PDF is encrypted")

// pdfInfo is what the sandbox reads from an uploaded PDF.
type pdfInfo struct {
	Pages int
}

// inspectPDF parses and validates a PDF with pdfcpu (relaxed mode, as a
// production platform would be lenient with common defects), refuses
// encrypted files and files without pages. The address is read apart, by
// readAddress.
func inspectPDF(data []byte) (info pdfInfo, err error) {
	defer func() {
		// pdfcpu recovers its own failures, but a malformed upload must
		// never take the sandbox down.
		if r := recover(); r != nil {
			info, err = pdfInfo{}, fmt.Errorf("malformed PDF: pdfcpu failed: %v", r)
		}
	}()
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return pdfInfo{}, errors.New("not a PDF (bad magic)")
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := api.ReadContext(bytes.NewReader(data), conf)
	if err != nil {
		if errors.Is(err, pdfcpu.ErrWrongPassword) || strings.Contains(err.Error(), "password") {
			return pdfInfo{}, errEncrypted
		}
		return pdfInfo{}, fmt.Errorf("malformed PDF: %v", err)
	}
	if ctx.Encrypt != nil || ctx.E != nil {
		return pdfInfo{}, errEncrypted
	}
	if err := api.ValidateContext(ctx); err != nil {
		return pdfInfo{}, fmt.Errorf("malformed PDF: %v", err)
	}
	if err := ctx.EnsurePageCount(); err != nil {
		return pdfInfo{}, fmt.Errorf("malformed PDF: page tree: %v", err)
	}
	if ctx.PageCount < 1 {
		return pdfInfo{}, errors.New("malformed PDF: no page")
	}
	return pdfInfo{Pages: ctx.PageCount}, nil
}

// readAddress reads the recipient from page 1's address window with the
// same engine and rules as postform's plan (pdf.DefaultWindow: the
// platform's own envelope), so that a letter plan would block is refused
// here too. reasons is empty when the address is usable.
func readAddress(e *postpdf.Engine, data []byte) (lines, reasons []string, err error) {
	r, err := e.Recipient(data, postpdf.DefaultWindow)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range r.Problems {
		reasons = append(reasons, fmt.Sprintf("%s: %s", p.Kind, p.Message))
	}
	return r.Lines, reasons, nil
}
