package sandbox

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Injected faults: latency, 429 bursts, 503s, dropped connections (Faults).

// withFaults records each request and injects the configured faults.
func (s *Sandbox) withFaults(api *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := api.Handler(r)
		if pattern == "" || pattern == "/" {
			pattern = r.Method + " (unknown)"
		}
		rec := &RequestRecord{
			Time: s.now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Route: pattern, HasToken: r.Header.Get("X-Auth-Token") != "",
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if !rec.recorded {
				rec.Status = sw.status
				s.record(rec)
			}
		}()
		r = r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))

		s.faultMu.Lock()
		f := s.faults
		s.reqCount++
		if f.Burst429Every > 0 && s.reqCount%int64(f.Burst429Every) == 0 && s.burstLeft == 0 {
			s.burstLeft = f.Burst429Len
		}
		throttle := false
		if s.burstLeft > 0 {
			s.burstLeft--
			throttle = true
		}
		fail := !throttle && f.FailRate > 0 && s.rng.Float64() < f.FailRate
		s.faultMu.Unlock()

		if f.Latency > 0 {
			// The latency is the least time an answer takes from the
			// request's arrival, the sandbox's own work included: that
			// work (reading an upload, the log's fsync) runs while the
			// answer is held back, as a platform's runs inside its
			// response time. Added after it, the sandbox's cost was
			// counted as postform's by every benchmark (issue 18).
			t := time.NewTimer(f.Latency)
			defer t.Stop()
			lw := &latencyWriter{ResponseWriter: w, ready: t.C, done: r.Context().Done()}
			sw.ResponseWriter = lw
			defer lw.wait() // an answer of no bytes waits too
		}
		if throttle {
			ra := f.RetryAfter
			if ra == 0 {
				ra = 1
			}
			if ra < 0 {
				ra = 0
			}
			sw.Header().Set("Retry-After", strconv.Itoa(ra))
			writeError(sw, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "rate limit exceeded, retry later")
			return
		}
		if fail {
			writeError(sw, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "transient fault (sandbox)")
			return
		}
		api.ServeHTTP(sw, r)
	})
}

// latencyWriter holds an answer back until ready fires (or the client
// has gone): the first byte or header written waits for it.
type latencyWriter struct {
	http.ResponseWriter
	ready  <-chan time.Time
	done   <-chan struct{}
	waited bool
}

func (w *latencyWriter) wait() {
	if !w.waited {
		w.waited = true
		select {
		case <-w.ready:
		case <-w.done:
		}
	}
}

func (w *latencyWriter) WriteHeader(code int) {
	w.wait()
	w.ResponseWriter.WriteHeader(code)
}

func (w *latencyWriter) Write(b []byte) (int, error) {
	w.wait()
	return w.ResponseWriter.Write(b)
}

// Hijack lets dropConnection close the connection; a drop answers
// nothing, so it does not wait.
func (w *latencyWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, http.ErrNotSupported
}

// errDropped is what the in-process transport reports for a dropped
// connection.
var errDropped = errors.New("sandbox: connection closed by the server without a response")

// dropConnection closes the connection without answering: hijack and close
// on a real server, an aborted handler otherwise.
func dropConnection(w http.ResponseWriter) {
	if sw, ok := w.(*statusWriter); ok {
		w = sw.ResponseWriter
	}
	if lw, ok := w.(*latencyWriter); ok {
		lw.waited = true // a drop answers nothing: it does not wait
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
