package sandbox

import (
	"context"
	"errors"
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
			t := time.NewTimer(f.Latency)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
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

// errDropped is what the in-process transport reports for a dropped
// connection.
var errDropped = errors.New("sandbox: connection closed by the server without a response")

// dropConnection closes the connection without answering: hijack and close
// on a real server, an aborted handler otherwise.
func dropConnection(w http.ResponseWriter) {
	if sw, ok := w.(*statusWriter); ok {
		w = sw.ResponseWriter
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
