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
	"net/textproto"
	"strings"
)

// CreateJob posts a job (POST /jobs, multipart). It is never retried
// blindly:
//   - a 4xx answer is a definite refusal: *APIError, nothing was created;
//   - 401 re-authenticates once and resends, 429 waits Retry-After and
//     resends (the platform refused before processing);
//   - a transport failure after the request started, a timeout, a 5xx or an
//     unreadable success answer returns an error wrapping ErrUncertain (and
//     the cause): the job may exist and must be resolved, not re-posted.
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
	resp, err := c.do(ctx, call{method: http.MethodPost, path: pathJobs, body: body})
	if err != nil {
		var ae *APIError
		var se *sendError
		switch {
		case errors.As(err, &ae) && (ae.StatusCode >= 500 || ae.StatusCode < 400):
			// Only a 4xx is a refusal. A 5xx, or a redirect (never
			// followed), may come after the job was created.
			return nil, uncertain(req.JobName, err)
		case errors.As(err, &ae):
			return nil, err
		case errors.As(err, &se) && !se.notSent:
			return nil, uncertain(req.JobName, err)
		}
		return nil, fmt.Errorf("nirva: job %q was not posted: %w", req.JobName, err)
	}
	defer resp.Body.Close()
	job, err := decodeJob(resp.Body)
	if err != nil {
		return nil, uncertain(req.JobName, err)
	}
	return job, nil
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

// sizedBody is a request body whose length is known.
type sizedBody struct {
	*bytes.Reader
}

func (sizedBody) Close() error { return nil }

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
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := writeForm(mw, params, fields, files, readers); err != nil {
		return nil, "", err
	}
	if buf.Len() <= maxBufferedForm {
		return sizedBody{bytes.NewReader(buf.Bytes())}, mw.FormDataContentType(), nil
	}
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
		err := writeForm(mw, params, fields, files, readers)
		for _, r := range readers {
			r.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType(), nil
}

func writeForm(mw *multipart.Writer, params []byte, fields []string, files []FilePart, readers []io.ReadCloser) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, partParameters))
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(params); err != nil {
		return err
	}
	for i, f := range files {
		name := f.FileName
		if name == "" {
			name = fields[i] + ".pdf"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, fields[i], quoteSafe(name)))
		h.Set("Content-Type", "application/pdf")
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, readers[i]); err != nil {
			return err
		}
	}
	return mw.Close()
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
