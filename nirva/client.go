// Package nirva is the client of the Nirva hybrid-mail REST API: it posts
// letters (jobs) and reads back their pack groups, deliveries, shipments and
// proofs. All wire names live in wire.go; retries and re-authentication live
// in one place, (*Client).do.
package nirva

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Client.
type Config struct {
	Endpoint             string // base URL, e.g. http://127.0.0.1:8080
	Login, Password      string
	HTTPClient           *http.Client // nil = a default with sane timeouts
	MaxRequestsPerSecond float64      // 0 = unlimited; run-wide, every attempt counts
	MaxRetries           int          // default 5, for GET, edit, authenticate and logout
	// Capped exponential backoff with jitter; defaults 200ms and 10s.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// Debug, when non-nil, receives one line per request: method, path and
	// query, status, duration. Headers and bodies are not logged; the token
	// and password are replaced by REDACTED wherever they would appear.
	Debug io.Writer
}

// Client talks to one Nirva endpoint with one session token. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	hc      *http.Client
	limiter *rate.Limiter

	mu          sync.Mutex // guards the session fields below
	token       string
	gen         uint64 // bumped on every successful authentication
	withProfile bool
	profile     *Profile

	authMu sync.Mutex // serialises (re-)authentication

	optMu       sync.Mutex
	optLoaded   bool
	optionTypes []OptionType
	options     []Option

	debugMu  sync.Mutex
	requests atomic.Int64
}

// New checks cfg and returns a client; it does not contact the platform.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("nirva: endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	u.User = nil
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryBaseDelay <= 0 {
		cfg.RetryBaseDelay = 200 * time.Millisecond
	}
	if cfg.RetryMaxDelay <= 0 {
		cfg.RetryMaxDelay = 10 * time.Second
	}
	if cfg.RetryMaxDelay < cfg.RetryBaseDelay {
		cfg.RetryMaxDelay = cfg.RetryBaseDelay
	}
	c := &Client{cfg: cfg, base: u, hc: cfg.HTTPClient}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if cfg.MaxRequestsPerSecond > 0 {
		// No burst: requests are spaced evenly, so no one-second window
		// ever sees more than the limit (a bucket of N tokens refilled at
		// N/s would let 2N through across a window's edge).
		c.limiter = rate.NewLimiter(rate.Limit(cfg.MaxRequestsPerSecond), 1)
	}
	return c, nil
}

// defaultHTTPClient bounds connecting and waiting for answers; the whole
// exchange is bounded by the caller's context (uploads can be large).
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   32,
		},
		// Never follow a redirect silently: a re-sent POST could post twice.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// RequestCount is the number of HTTP requests sent so far.
func (c *Client) RequestCount() int64 { return c.requests.Load() }

// Profile is the last profile obtained with detail (services), or nil.
func (c *Client) Profile() *Profile {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.profile
}

func (c *Client) session() (token string, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, c.gen
}

// Authenticate opens a session. withProfile asks for the services, needed
// to create jobs.
func (c *Client) Authenticate(ctx context.Context, withProfile bool) (*Profile, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.authenticateLocked(ctx, withProfile)
}

func (c *Client) authenticateLocked(ctx context.Context, withProfile bool) (*Profile, error) {
	body, err := json.Marshal(wireAuthRequest{Login: c.cfg.Login, Password: c.cfg.Password, WithProfileDetail: withProfile})
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{
		method: http.MethodPost, path: pathAuthenticate, retry: true, noAuth: true,
		body: jsonBody(body),
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	token, p, err := decodeProfile(resp.Body)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("nirva: authenticate: the answer carries no token")
	}
	c.mu.Lock()
	c.token = token
	c.gen++
	c.withProfile = withProfile
	if withProfile {
		c.profile = p
	}
	c.mu.Unlock()
	return p, nil
}

// reauthenticate is called after a 401 seen with the session of generation
// gen. Concurrent callers cause a single authentication: whoever comes
// second finds a newer generation and reuses it.
func (c *Client) reauthenticate(ctx context.Context, gen uint64) error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	c.mu.Lock()
	current, withProfile := c.gen, c.withProfile
	c.mu.Unlock()
	if current != gen {
		return nil
	}
	_, err := c.authenticateLocked(ctx, withProfile)
	return err
}

// Logout ends the session; a no-op when there is none.
func (c *Client) Logout(ctx context.Context) error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if tok, _ := c.session(); tok == "" {
		return nil
	}
	resp, err := c.do(ctx, call{method: http.MethodPost, path: pathLogout, retry: true, noReauth: true, okStatus: []int{http.StatusUnauthorized}})
	c.mu.Lock()
	c.token = ""
	c.gen++
	c.mu.Unlock()
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Job reads one job's status.
func (c *Client) Job(ctx context.Context, jobID string) (*Job, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathJob(jobID), retry: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeJob(resp.Body)
}

// JobsByName lists the jobs named exactly name, newest first. A platform
// without the lookup (404/405 on the endpoint) gives ErrLookupUnavailable.
func (c *Client) JobsByName(ctx context.Context, name string) ([]Job, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathJobs, query: url.Values{queryJobName: {name}}, retry: true})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusMethodNotAllowed) {
			return nil, fmt.Errorf("%w: %w", ErrLookupUnavailable, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	jobs, err := decodeJobs(resp.Body)
	if err != nil {
		return nil, err
	}
	// A platform that ignored the filter answers with other jobs (maybe one
	// page of them): an empty match would then not mean "no such job", and
	// concluding "not posted" from it could post a letter twice.
	for _, j := range jobs {
		if j.Name != name {
			return nil, fmt.Errorf("%w: asked for jobs named %q, the platform answered with job %s named %q (the filter is not supported)", ErrLookupUnavailable, name, j.ID, j.Name)
		}
	}
	sortNewestFirst(jobs)
	return jobs, nil
}

func sortNewestFirst(jobs []Job) {
	// Insertion sort, stable: the platform's order breaks ties.
	for i := 1; i < len(jobs); i++ {
		for k := i; k > 0 && jobs[k].Created.After(jobs[k-1].Created); k-- {
			jobs[k], jobs[k-1] = jobs[k-1], jobs[k]
		}
	}
}

// PackGroups lists a job's pack groups.
func (c *Client) PackGroups(ctx context.Context, jobID string) ([]PackGroup, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathPackGroups(jobID), retry: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodePackGroups(resp.Body)
}

// EditPackGroup replaces a pack group's raw value. Writing the same raw
// twice is harmless, so it is retried like a GET.
func (c *Client) EditPackGroup(ctx context.Context, packGroupID string, raw map[string]any) (*PackGroup, error) {
	body, err := json.Marshal(wireEditPackGroup{Raw: raw})
	if err != nil {
		return nil, fmt.Errorf("nirva: encoding pack group raw value: %w", err)
	}
	resp, err := c.do(ctx, call{method: http.MethodPost, path: pathEditPackGroup(packGroupID), retry: true, body: jsonBody(body)})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodePackGroup(resp.Body)
}

// Deliveries lists a job's deliveries with their shipments.
func (c *Client) Deliveries(ctx context.Context, jobID string) ([]Delivery, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathDeliveries, query: url.Values{queryJobID: {jobID}}, retry: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeDeliveries(resp.Body)
}

// DownloadTrackingFile copies a shipment's tracking file (ACKN, CERTIF,
// TRACKING_DETAIL) into w. A 404 (not yet available) is an *APIError that
// IsNotFound recognises. Failures before the first byte are retried; a
// failure while copying returns an error and w may hold a partial file.
func (c *Client) DownloadTrackingFile(ctx context.Context, shipmentID, name string, w io.Writer) (int64, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathTrackingFile(shipmentID, name), retry: true})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("nirva: downloading %s of shipment %s: %w", name, shipmentID, err)
	}
	return n, nil
}

// OptionTypes lists the platform's option types (printMode, …).
func (c *Client) OptionTypes(ctx context.Context) ([]OptionType, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathOptionTypes, retry: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeOptionTypes(resp.Body)
}

// Options lists the platform's option values.
func (c *Client) Options(ctx context.Context) ([]Option, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathOptions, retry: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeOptions(resp.Body)
}

// --- the one request loop ----------------------------------------------------

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
	for attempt := 0; ; {
		resp, gen, err := c.send(ctx, cl)
		if err != nil {
			var se *sendError
			if !errors.As(err, &se) || ctx.Err() != nil {
				return nil, err
			}
			if (cl.retry || se.notSent) && attempt < c.cfg.MaxRetries {
				if err := sleep(ctx, c.backoff(attempt)); err != nil {
					return nil, err
				}
				attempt++
				continue
			}
			return nil, err
		}
		code := resp.StatusCode
		if (code >= 200 && code < 300) || contains(cl.okStatus, code) {
			return resp, nil
		}
		apiErr := c.apiError(cl, resp)
		switch {
		case code == http.StatusUnauthorized && !cl.noAuth && !cl.noReauth && !reauthed:
			reauthed = true
			if err := c.reauthenticate(ctx, gen); err != nil {
				return nil, fmt.Errorf("nirva: re-authenticating after %s %s answered 401: %w", cl.method, cl.path, err)
			}
			continue
		case code == http.StatusTooManyRequests && attempt < c.cfg.MaxRetries:
			// Refused before processing: safe to resend, even a POST /jobs.
			d, ok := retryAfter(resp.Header, time.Now())
			if !ok {
				d = c.backoff(attempt)
			}
			if err := sleep(ctx, d); err != nil {
				return nil, err
			}
			attempt++
			continue
		case cl.retry && code >= 500 && attempt < c.cfg.MaxRetries:
			if err := sleep(ctx, c.backoff(attempt)); err != nil {
				return nil, err
			}
			attempt++
			continue
		}
		return nil, apiErr
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// apiError reads and closes a non-2xx response.
func (c *Client) apiError(cl call, resp *http.Response) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	code, msg := decodeError(resp.StatusCode, body)
	return &APIError{StatusCode: resp.StatusCode, Code: c.scrub(code), Message: c.scrub(msg), Method: cl.method, Path: cl.path}
}

// scrub removes the token and password from text that came from outside.
func (c *Client) scrub(s string) string {
	tok, _ := c.session()
	for _, secret := range []string{tok, c.cfg.Password} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
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
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, 0, fmt.Errorf("nirva: building %s %s: %w", cl.method, cl.path, err)
	}
	if sb, ok := body.(sizedBody); ok {
		req.ContentLength = int64(sb.Len())
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
		c.debugf("%s %s -> error after %s: %s", cl.method, target, time.Since(start).Round(time.Millisecond), c.scrub(err.Error()))
		return nil, gen, &sendError{err: fmt.Errorf("nirva: %s %s: %w", cl.method, cl.path, unwrapURLError(err)), notSent: notSent(err)}
	}
	c.debugf("%s %s -> %d in %s", cl.method, target, resp.StatusCode, time.Since(start).Round(time.Millisecond))
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
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	fmt.Fprintf(c.cfg.Debug, "nirva: "+format+"\n", args...)
}
