package nirva

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff returns the wait before retry number attempt (0-based): capped
// exponential growth with jitter in [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.RetryBaseDelay
	for i := 0; i < attempt && d < c.cfg.RetryMaxDelay; i++ {
		d *= 2
	}
	if d > c.cfg.RetryMaxDelay {
		d = c.cfg.RetryMaxDelay
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); ok is
// false when absent or unreadable.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			n = 0
		}
		if n > 3600 {
			n = 3600
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		if d > time.Hour {
			d = time.Hour
		}
		return d, true
	}
	return 0, false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// notSent reports a transport error that certainly happened before any byte
// of the request reached the server (the connection could not be made).
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
