package nirva

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CreateJob posts a job (POST /jobs, multipart). It is never sent twice
// once it may have reached the platform (docs/nirva-api.md, "Which answers
// to POST /jobs prove nothing was created"):
//   - a 4xx answer other than 401, 408, 409 and 429 is a definite refusal:
//     *APIError, nothing was created;
//   - a 401, 408, 409 or 429, a 5xx, a redirect, a transport failure after
//     the request started, a stall or timeout, or an unreadable success
//     answer returns an error wrapping ErrUncertain (and the cause): the job
//     may exist and must be resolved by name, not re-posted.
//
// Because a 401 cannot be answered by re-authenticating and resending, the
// session is made sure of first: no token, or one unused for
// SessionCheckAfter, is checked (and renewed) by a cheap GET beforehand.
func (c *Client) CreateJob(ctx context.Context, req JobRequest) (*Job, error) {
	if err := checkJobRequest(req); err != nil {
		return nil, err
	}
	params := wireJobParameters{
		JobName:                   req.JobName,
		ServiceID:                 req.ServiceID,
		AutocreateDeliveryCommand: true,
		TargetOwnerID:             req.TargetOwnerID,
	}
	for _, o := range req.Options {
		params.Options = append(params.Options, wireOptionRef{OptionTypeID: o.OptionTypeID, OptionID: o.OptionID})
	}
	paramsJSON, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("nirva: encoding job parameters: %w", err)
	}
	fields := make([]string, len(req.Files))
	perBox := map[string]int{}
	for i, f := range req.Files {
		fields[i] = fileFieldName(f.BoxID, perBox[f.BoxID])
		perBox[f.BoxID]++
	}
	body := func() (io.ReadCloser, string, error) {
		return multipartBody(paramsJSON, fields, req.Files)
	}
	if err := c.ensureSession(ctx); err != nil {
		return nil, fmt.Errorf("nirva: job %q was not posted: %w", req.JobName, err)
	}
	resp, err := c.do(ctx, call{method: http.MethodPost, path: pathJobs, body: body, once: true})
	if err != nil {
		var ae *APIError
		var se *sendError
		switch {
		case errors.As(err, &ae) && (ae.StatusCode >= 500 || ae.StatusCode < 400):
			// A 5xx, or a redirect (never followed), may come after the
			// job was created.
			return nil, uncertain(req.JobName, err)
		case errors.As(err, &ae) && !provesNotCreated(ae.StatusCode):
			return nil, fmt.Errorf("nirva: posting job %q: %w: %w (a %d answer to POST /jobs does not prove that the job was not created, so it is not sent again; the job is looked up by name instead)",
				req.JobName, ErrUncertain, err, ae.StatusCode)
		case errors.As(err, &ae):
			return nil, err
		case errors.As(err, &se) && !se.notSent:
			return nil, uncertain(req.JobName, err)
		}
		return nil, fmt.Errorf("nirva: job %q was not posted: %w", req.JobName, err)
	}
	defer resp.Body.Close()
	job, err := decodeAs(resp.Body, wireJob.one)
	if err != nil {
		return nil, uncertain(req.JobName, err)
	}
	c.scrubJob(job, req.JobName)
	return job, nil
}

// provesNotCreated reports a 4xx answer to POST /jobs that refuses the
// request itself, before any job exists. 401 and 429 may be answered after
// the job was created (by a gateway in front of a platform that already
// processed the form, or by a platform that counts and checks after
// creating); 408 may follow a partly read form; 409 may mean "that job
// exists". The contract documents none of them as coming first.
func provesNotCreated(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status < 500
}

// ensureSession authenticates when there is no token, and checks a token
// unused for SessionCheckAfter with GET /options/type, which re-authenticates
// on a 401 like any GET. A token that expired since then can still earn the
// POST a 401: that answer is uncertain, never resent.
func (c *Client) ensureSession(ctx context.Context) error {
	c.mu.Lock()
	token, gen, used, withProfile := c.token, c.gen, c.used, c.withProfile
	c.mu.Unlock()
	if token == "" {
		if gen == 0 {
			withProfile = true // never authenticated: a job needs the services
		}
		c.authMu.Lock()
		defer c.authMu.Unlock()
		if tok, _ := c.session(); tok != "" {
			return nil // another caller got there first
		}
		_, err := c.authenticateLocked(ctx, withProfile)
		return err
	}
	if time.Since(used) < c.cfg.SessionCheckAfter {
		return nil
	}
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathOptionTypes, retry: true})
	if err != nil {
		return fmt.Errorf("checking the session before posting: %w", err)
	}
	resp.Body.Close()
	return nil
}

func uncertain(jobName string, cause error) error {
	return fmt.Errorf("nirva: posting job %q: %w: %w", jobName, ErrUncertain, cause)
}

func checkJobRequest(req JobRequest) error {
	var problems []string
	if strings.TrimSpace(req.JobName) == "" {
		problems = append(problems, "no job name")
	}
	if strings.TrimSpace(req.ServiceID) == "" {
		problems = append(problems, "no service id")
	}
	if len(req.Files) == 0 {
		problems = append(problems, "no file")
	}
	for i, f := range req.Files {
		if f.BoxID == "" {
			problems = append(problems, fmt.Sprintf("file %d has no box id", i))
		}
		if f.Open == nil {
			problems = append(problems, fmt.Sprintf("file %d has no content", i))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("nirva: invalid job request: %s", strings.Join(problems, "; "))
	}
	return nil
}

// maxBufferedForm is the largest form sent whole, with a Content-Length:
// typical letters are a few hundred kilobytes, and one write beats a
// chunked stream. Larger forms are streamed.
const maxBufferedForm = 8 << 20

// The form of each letter is built in a buffer reused from one letter to
// the next (a streamed one is copied through a reused buffer): a form
// buffer grown from nothing per letter was most of the bytes an apply of
// 100,000 letters allocated (issue 18).
var (
	formBuffers sync.Pool // *bytes.Buffer
	copyBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}
)

// maxPooledForm is the largest form buffer kept for the next letter, so that
// one large letter does not pin megabytes for the rest of the run.
const maxPooledForm = 1 << 20

// copyPart copies r into w. A form built in memory (a *bytes.Buffer)
// reads r itself, and io.CopyBuffer would never have used a buffer there;
// a streamed form is copied through a pooled one, r and w hidden behind
// plain interfaces so that an *os.File's WriteTo does not take a fresh
// 32 KiB buffer of its own.
func copyPart(w io.Writer, r io.Reader) error {
	if rf, ok := w.(io.ReaderFrom); ok {
		_, err := rf.ReadFrom(r)
		return err
	}
	buf := copyBuffers.Get().(*[32 << 10]byte)
	defer copyBuffers.Put(buf)
	_, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, buf[:])
	return err
}

// sizedBody is a request body whose length is known. Its buffer goes back
// to formBuffers when the transport closes it; the transport may close a
// body from another goroutine while a read is under way, so both hold mu,
// and a read after Close fails rather than read a buffer lent again.
type sizedBody struct {
	mu  sync.Mutex
	buf *bytes.Buffer // nil once closed
	r   *bytes.Reader
	n   int64
}

func newSizedBody(buf *bytes.Buffer) *sizedBody {
	return &sizedBody{buf: buf, r: bytes.NewReader(buf.Bytes()), n: int64(buf.Len())}
}

func (b *sizedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return 0, errBodyClosed
	}
	return b.r.Read(p)
}

func (b *sizedBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf != nil {
		releaseForm(b.buf)
		b.buf, b.r = nil, nil
	}
	return nil
}

var errBodyClosed = errors.New("nirva: request body read after it was closed")

func releaseForm(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledForm {
		buf.Reset()
		formBuffers.Put(buf)
	}
}

// multipartBody opens every file first (a failure there means nothing is
// sent). A small form is built in memory and sent with its length; a large
// one is streamed through a pipe so big PDFs are never held in memory.
func multipartBody(params []byte, fields []string, files []FilePart) (io.ReadCloser, string, error) {
	opened, err := openAll(files)
	if err != nil {
		return nil, "", err
	}
	readers := make([]io.ReadCloser, len(opened))
	for i, rc := range opened {
		defer rc.Close()
		readers[i] = io.NopCloser(io.LimitReader(rc, maxBufferedForm+1))
	}
	buf, _ := formBuffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	mw := multipart.NewWriter(buf) // for its random boundary
	if err := writeForm(buf, mw.Boundary(), params, fields, files, readers); err != nil {
		releaseForm(buf)
		return nil, "", err
	}
	if buf.Len() <= maxBufferedForm {
		return newSizedBody(buf), mw.FormDataContentType(), nil
	}
	releaseForm(buf)
	return streamedBody(params, fields, files)
}

// openAll opens every file, or none: on a failure the ones opened are
// closed again.
func openAll(files []FilePart) ([]io.ReadCloser, error) {
	readers := make([]io.ReadCloser, 0, len(files))
	for _, f := range files {
		rc, err := f.Open()
		if err != nil {
			for _, r := range readers {
				r.Close()
			}
			return nil, fmt.Errorf("nirva: opening %s: %w", f.FileName, err)
		}
		readers = append(readers, rc)
	}
	return readers, nil
}

// streamedBody writes the form through a pipe as the request reads it.
func streamedBody(params []byte, fields []string, files []FilePart) (io.ReadCloser, string, error) {
	readers, err := openAll(files)
	if err != nil {
		return nil, "", err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := writeForm(pw, mw.Boundary(), params, fields, files, readers)
		for _, r := range readers {
			r.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType(), nil
}

// writeForm writes the form's bytes as mime/multipart's Writer writes them
// (TestFormIsMultipartWritersBytes compares), without its per-part header
// map, Sprintf and buffer: those were a sixth of what posting a letter
// allocated (issue 18).
func writeForm(w io.Writer, boundary string, params []byte, fields []string, files []FilePart, readers []io.ReadCloser) error {
	var head [256]byte
	h := appendPartHeader(head[:0], boundary, true, partParameters, false, "", "application/json")
	if _, err := w.Write(h); err != nil {
		return err
	}
	if _, err := w.Write(params); err != nil {
		return err
	}
	for i, f := range files {
		name := f.FileName
		if name == "" {
			name = fields[i] + ".pdf"
		}
		h = appendPartHeader(head[:0], boundary, false, fields[i], true, quoteSafe(name), "application/pdf")
		if _, err := w.Write(h); err != nil {
			return err
		}
		if err := copyPart(w, readers[i]); err != nil {
			return err
		}
	}
	h = append(append(append(head[:0], "\r\n--"...), boundary...), "--\r\n"...)
	_, err := w.Write(h)
	return err
}

// appendPartHeader appends the boundary and header of a part, as
// multipart.Writer.CreatePart writes a Content-Disposition (the name and
// file name quoted by %q) and a Content-Type, in that (sorted) order.
func appendPartHeader(b []byte, boundary string, first bool, name string, file bool, fileName, contentType string) []byte {
	if !first {
		b = append(b, "\r\n"...)
	}
	b = append(append(append(b, "--"...), boundary...), "\r\nContent-Disposition: form-data; name="...)
	b = strconv.AppendQuote(b, name)
	if file {
		b = append(b, "; filename="...)
		b = strconv.AppendQuote(b, fileName)
	}
	b = append(append(append(b, "\r\nContent-Type: "...), contentType...), "\r\n\r\n"...)
	return b
}

// quoteSafe keeps a file name from breaking the Content-Disposition header.
func quoteSafe(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
}
