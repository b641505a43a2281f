package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// HTTPClient returns a client whose transport calls Handler directly, with
// no socket; use it with Endpoint.
func (s *Sandbox) HTTPClient() *http.Client {
	return &http.Client{
		Transport:     inProcess{h: s.handler},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type inProcess struct{ h http.Handler }

// memWriter buffers one response.
type memWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *memWriter) Header() http.Header { return w.header }
func (w *memWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *memWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}

func (t inProcess) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := req.Clone(ctx)
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:1"
	r.Host = req.URL.Host
	w := &memWriter{header: http.Header{}}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					err = errDropped
				} else {
					err = fmt.Errorf("sandbox: handler panic: %v", p)
				}
			}
		}()
		t.h.ServeHTTP(w, r)
	}()
	if req.Body != nil {
		req.Body.Close()
	}
	if err != nil {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: err}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(w.code) + " " + http.StatusText(w.code),
		StatusCode:    w.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// Serve opens a sandbox with opts and serves it on addr until ctx ends,
// then shuts down gracefully and persists the world. ready, when non-nil,
// receives the address actually listened on (useful with port 0).
func Serve(ctx context.Context, addr string, opts Options, ready func(addr string)) error {
	s, err := Open(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("sandbox: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	var serveErr error
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		cancel()
		<-errc
	case serveErr = <-errc:
		if errors.Is(serveErr, http.ErrServerClosed) {
			serveErr = nil
		}
	}
	if err := s.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}
