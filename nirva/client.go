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
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Client.
type Config struct {
	Endpoint        string // base URL, e.g. http://127.0.0.1:8080 (see CheckEndpoint)
	Login, Password string
	// Insecure allows plain http to a host that is not loopback.
	Insecure             bool
	HTTPClient           *http.Client // nil = a default with sane timeouts
	MaxRequestsPerSecond float64      // 0 = unlimited; run-wide, every attempt counts
	MaxRetries           int          // default 5, for GET, edit, authenticate and logout
	// Capped exponential backoff with jitter; defaults 200ms and 10s.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// MaxProofSize bounds one downloaded tracking file; default
	// DefaultMaxProofSize (50 MiB).
	MaxProofSize int64
	// IdleTimeout ends an attempt during which no byte was sent or
	// received (default 30s); RequestTimeout bounds each attempt of every
	// call but POST /jobs (default 2m), UploadTimeout each POST /jobs
	// (default 10m). The caller's context bounds the whole call as well.
	IdleTimeout, RequestTimeout, UploadTimeout time.Duration
	// SessionCheckAfter: before a POST /jobs on a session unused for this
	// long (default 5m), a cheap GET checks the token and re-authenticates
	// on 401, because a 401 to the POST itself cannot be resent safely.
	SessionCheckAfter time.Duration
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
	gen         uint64    // bumped on every successful authentication
	used        time.Time // last 2xx answer to a call carrying the token
	withProfile bool
	profile     *Profile

	authMu sync.Mutex // serialises (re-)authentication

	optMu       sync.Mutex
	optLoaded   bool
	optionTypes []OptionType
	options     []Option

	debugMu  sync.Mutex
	requests atomic.Int64 // HTTP requests sent, for the tests (export_test.go)
}

// New checks cfg and returns a client; it does not contact the platform.
func New(cfg Config) (*Client, error) {
	u, _, err := CheckEndpoint(cfg.Endpoint, cfg.Insecure)
	if err != nil {
		return nil, fmt.Errorf("nirva: %w", err)
	}
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
	defaultDuration(&cfg.IdleTimeout, DefaultIdleTimeout)
	defaultDuration(&cfg.RequestTimeout, DefaultRequestTimeout)
	defaultDuration(&cfg.UploadTimeout, DefaultUploadTimeout)
	defaultDuration(&cfg.SessionCheckAfter, 5*time.Minute)
	if cfg.MaxProofSize <= 0 {
		cfg.MaxProofSize = DefaultMaxProofSize
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

func defaultDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
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
	c.used = time.Now()
	c.withProfile = withProfile
	c.mu.Unlock()
	c.scrubProfile(p) // with the new token known
	if withProfile {
		c.mu.Lock()
		c.profile = p
		c.mu.Unlock()
	}
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
	j, err := decodeJob(resp.Body)
	if err != nil {
		return nil, err
	}
	c.scrubJob(j, "")
	return j, nil
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
	for i := range jobs {
		j := &jobs[i]
		if j.Name != name {
			c.scrubJob(j, "")
			return nil, fmt.Errorf("%w: asked for jobs named %q, the platform answered with job %s named %q (the filter is not supported)", ErrLookupUnavailable, name, j.ID, j.Name)
		}
		c.scrubJob(j, name)
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
	pgs, err := decodePackGroups(resp.Body)
	for i := range pgs {
		c.scrubPackGroup(&pgs[i])
	}
	return pgs, err
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
	pg, err := decodePackGroup(resp.Body)
	if err != nil {
		return nil, err
	}
	c.scrubPackGroup(pg)
	return pg, nil
}

// Deliveries lists a job's deliveries with their shipments.
func (c *Client) Deliveries(ctx context.Context, jobID string) ([]Delivery, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathDeliveries, query: url.Values{queryJobID: {jobID}}, retry: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ds, err := decodeDeliveries(resp.Body)
	for i := range ds {
		c.scrubDelivery(&ds[i])
	}
	return ds, err
}

// DownloadTrackingFile copies a shipment's tracking file (ACKN, CERTIF,
// TRACKING_DETAIL) into w. A 404 (not yet available) is an *APIError with
// StatusCode 404. Failures before the first byte are retried; a
// failure while copying (a stall, a file over MaxProofSize) returns an
// error and w may hold a partial file, which the caller must discard.
func (c *Client) DownloadTrackingFile(ctx context.Context, shipmentID, name string, w io.Writer) (int64, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathTrackingFile(shipmentID, name), retry: true, limit: c.cfg.MaxProofSize})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	tooLarge := func() error {
		return fmt.Errorf("nirva: %w: proof %s of shipment %s is larger than the %s limit; the download was abandoned (raise max_proof_size_mb in the provider block if the platform's proofs are really this large)",
			ErrTooLarge, c.scrub(name), c.scrub(shipmentID), sizeText(c.cfg.MaxProofSize))
	}
	if resp.ContentLength > c.cfg.MaxProofSize {
		return 0, tooLarge()
	}
	n, err := io.Copy(w, resp.Body)
	if errors.Is(err, ErrTooLarge) {
		return n, tooLarge()
	}
	if err != nil {
		return n, fmt.Errorf("nirva: downloading %s of shipment %s: %w", c.scrub(name), c.scrub(shipmentID), err)
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
	types, err := decodeOptionTypes(resp.Body)
	c.scrubOptions(types, nil)
	return types, err
}

// Options lists the platform's option values.
func (c *Client) Options(ctx context.Context) ([]Option, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: pathOptions, retry: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	opts, err := decodeOptions(resp.Body)
	c.scrubOptions(nil, opts)
	return opts, err
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
	// once: not idempotent (POST /jobs). Never sent again once it may have
	// reached the platform: no resend after a 401 or a 429 either.
	once bool
	// limit bounds the answer's body; 0 means MaxJSONBody.
	limit int64
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
			if errors.Is(err, ErrStalled) && !se.notSent {
				// A stalled platform is not retried: the run ends with
				// a clear error rather than waiting out every retry.
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
			if !cl.noAuth && code < 300 {
				c.mu.Lock()
				if c.gen == gen {
					c.used = time.Now()
				}
				c.mu.Unlock()
			}
			return resp, nil
		}
		apiErr := c.apiError(cl, resp)
		switch {
		case cl.once:
			// A 401 or 429 may come after the platform created the job:
			// the caller decides (CreateJob: uncertain).
		case code == http.StatusUnauthorized && !cl.noAuth && !cl.noReauth && !reauthed:
			reauthed = true
			if err := c.reauthenticate(ctx, gen); err != nil {
				return nil, fmt.Errorf("nirva: re-authenticating after %s %s answered 401: %w", cl.method, cl.path, err)
			}
			continue
		case code == http.StatusTooManyRequests && attempt < c.cfg.MaxRetries:
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
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	fmt.Fprintf(c.cfg.Debug, "nirva: "+format+"\n", args...)
}
