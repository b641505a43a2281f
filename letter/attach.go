package letter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func init() {
	// pdfcpu would otherwise create a configuration folder in the user's
	// home on first use (config/pdf.go does the same).
	model.ConfigPath = "disable"
}

// attachmentChecks remembers each attachment's reading by sha256: a mail
// merge appends one PDF to thousands of letters.
var attachmentChecks sync.Map // sha256 → attachmentInfo

type attachmentInfo struct {
	pages int
	err   error
}

// attachmentPages is b's page count, or why b cannot be appended; k is
// b's sha256.
func attachmentPages(b []byte, k string) (int, error) {
	if v, ok := attachmentChecks.Load(k); ok {
		i := v.(attachmentInfo)
		return i.pages, i.err
	}
	n, err := readAttachment(b)
	attachmentChecks.Store(k, attachmentInfo{n, err})
	return n, err
}

func readAttachment(b []byte) (pages int, err error) {
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return 0, errors.New("is not a PDF (it does not start with %PDF-)")
	}
	defer func() {
		if r := recover(); r != nil {
			pages, err = 0, fmt.Errorf("cannot be read as a PDF: %v", r)
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err := api.ReadContext(bytes.NewReader(b), conf)
	if err != nil {
		if strings.Contains(err.Error(), "password") {
			return 0, errors.New("is an encrypted PDF")
		}
		return 0, fmt.Errorf("cannot be read as a PDF: %v", err)
	}
	if ctx.Encrypt != nil {
		return 0, errors.New("is an encrypted PDF")
	}
	if err := ctx.EnsurePageCount(); err != nil || ctx.PageCount < 1 {
		return 0, errors.New("is a PDF without pages")
	}
	return ctx.PageCount, nil
}

// appendAttachments merges the letter's own pages and the attachments with
// pdfcpu, then removes what pdfcpu takes from the clock.
func appendAttachments(letterPDF []byte, attachments [][]byte) ([]byte, error) {
	rs := []io.ReadSeeker{bytes.NewReader(letterPDF)}
	for _, a := range attachments {
		rs = append(rs, bytes.NewReader(a))
	}
	conf := model.NewDefaultConfiguration()
	// Plain objects and a plain xref table, so the dates and the file
	// identifier below are in the clear and can be fixed in place.
	conf.WriteObjectStream = false
	conf.WriteXRefStream = false
	var out bytes.Buffer
	if err := api.MergeRaw(rs, &out, false, conf); err != nil {
		return nil, fmt.Errorf("appending the attachments: %w", err)
	}
	ctx, err := api.ReadContext(bytes.NewReader(out.Bytes()), conf)
	if err != nil {
		return nil, fmt.Errorf("appending the attachments: reading pdfcpu's output: %w", err)
	}
	if err := renumber(ctx); err != nil {
		return nil, fmt.Errorf("appending the attachments: %w", err)
	}
	out.Reset()
	if err := api.WriteContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("appending the attachments: %w", err)
	}
	b, err := canonicalOrder(out.Bytes(), nil)
	if err != nil {
		return nil, fmt.Errorf("appending the attachments: pdfcpu's output: %w", err)
	}
	return fixClock(b), nil
}

var (
	dateEntry = regexp.MustCompile(`/(CreationDate|ModDate)\s*\(D:[^)]*\)`)
	idEntry   = regexp.MustCompile(`/ID\s*\[\s*<([0-9A-Fa-f]*)>\s*<([0-9A-Fa-f]*)>\s*\]`)
)

// fixedDate is the creation and modification date of every rendered letter:
// a date from the clock would change the bytes on every run.
const fixedDate = "D:20000101000000Z"

// fixClock replaces, in place and at the same length (the xref offsets stay
// true), the dates pdfcpu writes from the clock and its time-based file
// identifier: the dates by fixedDate, padded with spaces outside the
// string, the identifier by a hash of the file with those already fixed.
func fixClock(b []byte) []byte {
	b = dateEntry.ReplaceAllFunc(b, func(m []byte) []byte {
		name := m[1:bytes.IndexAny(m, " (\t\r\n")]
		repl := fmt.Sprintf("/%s (%s)", name, fixedDate)
		if len(repl) > len(m) {
			return m // cannot happen with pdfcpu's dates; leave it be
		}
		return append([]byte(repl), bytes.Repeat([]byte(" "), len(m)-len(repl))...)
	})
	loc := idEntry.FindAllSubmatchIndex(b, -1)
	if len(loc) == 0 {
		return b
	}
	for _, l := range loc {
		for g := 1; g <= 2; g++ {
			for i := l[2*g]; i < l[2*g+1]; i++ {
				b[i] = '0'
			}
		}
	}
	s := sha256.Sum256(b)
	id := hex.EncodeToString(s[:])
	for _, l := range loc {
		for g := 1; g <= 2; g++ {
			n := l[2*g+1] - l[2*g]
			copy(b[l[2*g]:l[2*g+1]], strings.Repeat(id, n/len(id)+1)[:n])
		}
	}
	return b
}
