// Package nirva is the client of the Nirva hybrid-mail REST API: it posts
// letters (jobs) and reads back their pack groups, deliveries, shipments and
// proofs. All wire names live in wire.go (read leniently: flex.go, converted:
// decode.go); retries and re-authentication live in one place, (*Client).do
// in request.go; one method per endpoint in endpoints.go, CreateJob in
// jobs.go.
package nirva

import (
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
	sess, err := callJSON(ctx, c, call{
		method: http.MethodPost, path: pathAuthenticate, retry: true, noAuth: true,
		body: jsonBody(body),
	}, wireAuthResponse.session)
	if err != nil {
		return nil, err
	}
	token, p := sess.token, sess.profile
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
