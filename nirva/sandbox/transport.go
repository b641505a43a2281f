package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
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

// streamWriter hands a response to the client as the handler writes it,
// through a pipe, as a socket would: a body that stalls or never ends
// reaches the client's bounds instead of filling memory first.
type streamWriter struct {
	header  http.Header
	sent    http.Header // the header as it was when the answer started
	code    int
	pw      *io.PipeWriter
	started chan struct{}
	once    sync.Once
}

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) start() {
	w.once.Do(func() {
		w.sent = w.header.Clone()
		close(w.started)
	})
}

func (w *streamWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.start()
}

func (w *streamWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.pw.Write(b)
}

// Flush is a no-op: every write already goes straight to the reader.
func (w *streamWriter) Flush() {}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The handler's request ends when the client's does or when the client
	// closes the body early, as a server's does when the socket hangs up:
	// a handler that only waits (a stalled proof) must not outlive its reader.
	hctx, hangUp := context.WithCancelCause(ctx)
	r := req.Clone(hctx)
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:1"
	r.Host = req.URL.Host
	pr, pw := io.Pipe()
	w := &streamWriter{header: http.Header{}, pw: pw, started: make(chan struct{})}
	handlerErr := make(chan error, 1)
	go func() {
		var err error
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					err = errDropped
				} else {
					err = fmt.Errorf("sandbox: handler panic: %v", p)
				}
			}
			if req.Body != nil {
				req.Body.Close()
			}
			handlerErr <- err
			switch cause := context.Cause(ctx); {
			case err != nil:
				pw.CloseWithError(&net.OpError{Op: "read", Net: "tcp", Err: err})
			case cause != nil:
				// The client gave up: its read fails as on a socket, never
				// with a clean end of a truncated body.
				pw.CloseWithError(cause)
			default:
				pw.Close()
			}
			w.start()
		}()
		t.h.ServeHTTP(w, r)
	}()
	select {
	case <-w.started:
	case <-ctx.Done():
		pr.Close()
		hangUp(nil)
		return nil, ctx.Err()
	}
	// A handler that ended before answering dropped the connection or saw
	// the request end.
	if w.code == 0 {
		defer hangUp(nil)
		if err := <-handlerErr; err != nil {
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: err}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w.code = http.StatusOK
	}
	length := int64(-1)
	if v := w.sent.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			length = n
		}
	}
	return &http.Response{
		Status:        strconv.Itoa(w.code) + " " + http.StatusText(w.code),
		StatusCode:    w.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          hangUpBody{pr, hangUp},
		ContentLength: length,
		Request:       req,
	}, nil
}

// hangUpBody is a response body whose Close also ends the handler's request.
type hangUpBody struct {
	*io.PipeReader
	hangUp context.CancelCauseFunc
}

var errHungUp = errors.New("sandbox: client closed the response body")

func (b hangUpBody) Close() error {
	b.hangUp(errHungUp)
	return b.PipeReader.Close()
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
