package nirva

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/postform/postform/internal/termtext"
)

// The one request loop: every call goes through do (rate limit, one
// re-authentication on 401, retries with backoff for what may be retried)
// and send (one attempt, its deadlines and its debug line).

// call describes one API call.
type call struct {
	method, path string
	query        url.Values
	// body builds a fresh request body for each attempt (nil = none).
	body func() (io.ReadCloser, string, error)
	// retry: safe to repeat on network errors, 429 and 5xx.
	retry bool
	// noAuth: send no token (authenticate). noReauth: no re-authentication
	// on 401 (logout).
	noAuth, noReauth bool
	// okStatus lists non-2xx statuses to hand back as success.
	okStatus []int
	// once: not idempotent (POST /jobs). Never sent again once it may have
	// reached the platform: no resend after a 401 or a 429 either.
	once bool
	// limit bounds the answer's body; 0 means MaxJSONBody.
	limit int64
}

// callJSON runs cl and decodes its answer, a W, with conv: the one place an
// answer's JSON is read.
func callJSON[W, T any](ctx context.Context, c *Client, cl call, conv func(W) (T, error)) (T, error) {
	resp, err := c.do(ctx, cl)
	if err != nil {
		var zero T
		return zero, err
	}
	defer resp.Body.Close()
	return decodeAs(resp.Body, conv)
}

// getJSON is callJSON for a GET, retried like every GET.
func getJSON[W, T any](ctx context.Context, c *Client, path string, query url.Values, conv func(W) (T, error)) (T, error) {
	return callJSON(ctx, c, call{method: http.MethodGet, path: path, query: query, retry: true}, conv)
}

func jsonBody(b []byte) func() (io.ReadCloser, string, error) {
	return func() (io.ReadCloser, string, error) {
		return io.NopCloser(bytes.NewReader(b)), "application/json", nil
	}
}

// sendError is a transport failure of one attempt.
type sendError struct {
	err     error
	notSent bool // certainly nothing reached the server
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// do runs a call with rate limiting, re-authentication once on 401 and,
// for retryable calls, retries. It returns a 2xx response (or one listed in
// okStatus) whose body the caller closes, or an error: *APIError for a
// platform answer, otherwise a transport error (a *sendError inside).
func (c *Client) do(ctx context.Context, cl call) (*http.Response, error) {
	reauthed := false
	for attempt := 0; ; attempt++ {
		resp, gen, err := c.send(ctx, cl)
		var wait time.Duration // before the next attempt, when this one may be retried
		switch {
		case err != nil:
			var se *sendError
			if !errors.As(err, &se) || ctx.Err() != nil {
				return nil, err
			}
			if errors.Is(err, ErrStalled) && !se.notSent {
				// A stalled platform is not retried: the run ends with
				// a clear error rather than waiting out every retry.
				return nil, err
			}
			if !cl.retry && !se.notSent {
				return nil, err
			}
			wait = c.backoff(attempt)
		case resp.StatusCode >= 200 && resp.StatusCode < 300 || slices.Contains(cl.okStatus, resp.StatusCode):
			if !cl.noAuth && resp.StatusCode < 300 {
				c.mu.Lock()
				if c.gen == gen {
					c.used = time.Now()
				}
				c.mu.Unlock()
			}
			return resp, nil
		default:
			code := resp.StatusCode
			err = c.apiError(cl, resp)
			switch {
			case cl.once:
				// A 401 or 429 may come after the platform created the
				// job: the caller decides (CreateJob: uncertain).
				return nil, err
			case code == http.StatusUnauthorized && !cl.noAuth && !cl.noReauth && !reauthed:
				reauthed = true
				if err := c.reauthenticate(ctx, gen); err != nil {
					return nil, fmt.Errorf("nirva: re-authenticating after %s %s answered 401: %w", cl.method, cl.path, err)
				}
				attempt-- // a fresh session's attempt, not a retry
				continue
			case code == http.StatusTooManyRequests:
				d, ok := retryAfter(resp.Header, time.Now())
				if !ok {
					d = c.backoff(attempt)
				}
				wait = d
			case cl.retry && code >= 500:
				wait = c.backoff(attempt)
			default:
				return nil, err
			}
		}
		// The one retry: this attempt failed in a way worth trying again.
		if attempt >= c.cfg.MaxRetries {
			return nil, err
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// apiError reads and closes a non-2xx response.
func (c *Client) apiError(cl call, resp *http.Response) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	code, msg := decodeError(resp.StatusCode, body)
	return &APIError{StatusCode: resp.StatusCode, Code: c.scrub(code), Message: c.scrub(msg), Method: cl.method, Path: cl.path}
}

// send makes one HTTP attempt.
func (c *Client) send(ctx context.Context, cl call) (*http.Response, uint64, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	u, err := url.Parse(c.base.String() + cl.path)
	if err != nil {
		return nil, 0, fmt.Errorf("nirva: building %s %s: %w", cl.method, cl.path, err)
	}
	if len(cl.query) > 0 {
		u.RawQuery = cl.query.Encode()
	}
	var body io.ReadCloser
	contentType := ""
	if cl.body != nil {
		b, ct, err := cl.body()
		if err != nil {
			return nil, 0, err
		}
		body, contentType = b, ct
	}
	deadline := c.cfg.RequestTimeout
	if cl.once {
		deadline = c.cfg.UploadTimeout
	}
	g := newGuard(ctx, c.cfg.IdleTimeout, deadline)
	var reqBody io.Reader
	if body != nil {
		reqBody = progressReader{body, g}
	}
	req, err := http.NewRequestWithContext(g.ctx, cl.method, u.String(), reqBody)
	if err != nil {
		g.done()
		if body != nil {
			body.Close()
		}
		return nil, 0, fmt.Errorf("nirva: building %s %s: %w", cl.method, cl.path, err)
	}
	if sb, ok := body.(*sizedBody); ok {
		req.ContentLength = sb.n
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "postform")
	token, gen := c.session()
	if !cl.noAuth && token != "" {
		req.Header.Set(headerToken, token)
	}
	c.requests.Add(1)
	start := time.Now()
	resp, err := c.hc.Do(req)
	target := cl.path
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	target = c.scrub(target)
	if err != nil {
		if cause := g.stalled(); cause != nil {
			err = cause
		}
		g.done()
		c.debugf("%s %s -> error after %s: %s", cl.method, target, time.Since(start).Round(time.Millisecond), c.scrub(err.Error()))
		return nil, gen, &sendError{err: fmt.Errorf("nirva: %s %s: %w", cl.method, cl.path, unwrapURLError(err)), notSent: notSent(err)}
	}
	c.debugf("%s %s -> %d in %s", cl.method, target, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	g.waiting.Store(false) // until the caller reads the body
	limit := cl.limit
	if limit == 0 {
		limit = MaxJSONBody
	}
	resp.Body = &guardedBody{rc: resp.Body, g: g, what: cl.method + " " + target, limit: limit}
	return resp, gen, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) debugf(format string, args ...any) {
	if c.cfg.Debug == nil {
		return
	}
	// The line goes to a terminal: what it quotes (an error's text) may
	// come from the platform or the network.
	line := termtext.Escape(fmt.Sprintf(format, args...))
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	fmt.Fprintf(c.cfg.Debug, "nirva: %s\n", line)
}
