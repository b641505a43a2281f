// Package sandbox is a faithful simulator of the Nirva hybrid-mail API
// (see docs/nirva-api.md): authentication with tokens that expire,
// job creation with the platform's validations, a lifecycle that advances on
// an accelerated clock, pack group edits, deliveries, shipments, proofs,
// options, and injectable faults.
//
// The world is a list of job records; every status is computed lazily from a
// job's creation (or fix) time, so persisting the world means persisting the
// records, and nothing ticks over all jobs. A job's files are processed (PDF
// inspection, the address window) when an answer first depends on them, not
// inside POST /jobs (process.go). Jobs are found through maps (by
// id, name, pack group and shipment), so no request's cost grows with the
// world: 100,000 jobs answer as fast as ten.
//
// With Options.Dir set, the world lives in Dir/world.json, a compact
// snapshot written atomically on Close (only when the run changed
// something), plus Dir/world.log, one line per job created
// or edited since, appended and fsynced before the request is answered
// (concurrent requests share one fsync: group commit). A crash loses no
// answered job; Open replays the log. Dir/world.lock is held with an
// exclusive flock for the Sandbox's whole lifetime: a second process opening
// the same Dir fails instead of corrupting the world. Tokens are not
// persisted.
//
// The sandbox is independent of package nirva on purpose: it implements the
// contract from its own reading, so the client's contract tests check both.
package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/safefs"
	postpdf "github.com/postform/postform/pdf"
)

// Endpoint is the base URL to use with HTTPClient (the host is never
// resolved: the transport calls the handler directly).
const Endpoint = "http://sandbox.invalid"

// Options configures a Sandbox.
type Options struct {
	Dir       string           // "" = memory only; else Dir/world.json, reloaded on Open
	Now       func() time.Time // nil = time.Now
	TimeScale float64          // 0 = 1; 100 = a hundred times faster
	// TokenIdle is how long an unused token lives (default 30 minutes, on the
	// unscaled clock).
	TokenIdle time.Duration
	Faults    Faults
	// PDF reads the recipient from each letter's address window, as postform's
	// plan does (pdf.DefaultWindow, the platform's envelope): a letter plan
	// would block is NOT_ELIGIBLE. nil: one engine shared by the process's
	// sandboxes, its compilation cached under $POSTFORM_CACHE_DIR/pdfium or
	// the user cache dir's postform/pdfium, never closed.
	PDF *postpdf.Engine
	// PendingBudget bounds the bytes of uploads kept for jobs accepted and
	// not processed yet (0 = 256 MiB): beyond it, a background worker
	// processes the oldest ones, one at a time (process.go).
	PendingBudget int64
}

// Faults are injected into the API routes (not into /_sandbox/).
type Faults struct {
	Latency  time.Duration // the least time an answer takes from its request's arrival (faults.go)
	FailRate float64       // fraction of requests answered 503, drawn from Seed
	// Every Burst429Every-th request starts a burst of Burst429Len answers
	// 429 with Retry-After: RetryAfter seconds (0 = 1; negative = "0").
	Burst429Every, Burst429Len, RetryAfter int
	// The next DropAfterCreate POST /jobs create the job, then the
	// connection is closed without an answer.
	DropAfterCreate int
	// HangAfterCreate: POST /jobs creates the job, then never answers (until
	// the request's context ends).
	HangAfterCreate bool
	// NoJobLookup: GET /jobs?jobName= answers 405.
	NoJobLookup bool
	Seed        int64
	// Hostile makes the platform misbehave on purpose (hostile.go).
	Hostile Hostile
}

// JobInfo summarises one job (GET /_sandbox/jobs).
type JobInfo struct {
	JobID     string    `json:"jobId"`
	JobName   string    `json:"jobName"`
	ServiceID string    `json:"serviceId"`
	Status    string    `json:"status"`
	Created   time.Time `json:"created"`
}

// RequestRecord is one request the sandbox received.
type RequestRecord struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Query      string    `json:"query,omitempty"`
	Route      string    `json:"route"`
	HasToken   bool      `json:"hasToken"`
	Fields     []string  `json:"fields,omitempty"`     // multipart field names, in order
	Parameters string    `json:"parameters,omitempty"` // the parameters part, verbatim
	Status     int       `json:"status"`               // 0 when the connection was dropped
	Dropped    bool      `json:"dropped,omitempty"`

	recorded bool
}

const maxRecords = 10000

// Sandbox is one simulated platform.
type Sandbox struct {
	opts  Options
	now   func() time.Time
	scale float64

	mu       sync.Mutex // guards world, its indexes, tokens, closed, log, logged, inflight
	world    world
	inflight map[*jobRecord]chan struct{} // jobs settle is processing, closed when done
	pending  pendingQueue                 // jobs accepted and not processed yet, oldest first

	kick     chan struct{} // wakes the worker when pending passes the budget
	stop     chan struct{} // closed by Close: the worker returns
	stopOnce sync.Once
	drained  chan struct{} // closed when the worker has returned
	index    worldIndex
	tokens   map[string]*tokenRec
	closed   bool
	lock     *os.File
	fs       *safefs.Dir // opts.Dir: the world's files, never through a link
	log      *os.File    // the append-only world log, open while jobs are recorded
	logged   int64       // lines appended to log since Open
	dirty    bool        // the log holds lines the snapshot lacks

	syncMu sync.Mutex // held while fsyncing the log; taken before mu, never after
	synced int64      // lines of log known to be on disk

	faultMu    sync.Mutex
	faults     Faults
	rng        *rand.Rand
	reqCount   int64
	burstLeft  int
	dropsLeft  int
	recMu      sync.Mutex
	records    []RequestRecord // a ring of at most maxRecords, oldest at recStart once full
	recStart   int
	routeStats map[string]int64

	handler http.Handler
}

type tokenRec struct {
	login    string
	lastUsed time.Time
	password string // kept only for Hostile.EchoSecrets
}

// Open creates a sandbox, loading Dir/world.json when Dir is set.
func Open(opts Options) (*Sandbox, error) {
	s := &Sandbox{opts: opts, now: opts.Now, scale: opts.TimeScale, tokens: map[string]*tokenRec{}, routeStats: map[string]int64{},
		inflight: map[*jobRecord]chan struct{}{},
		kick:     make(chan struct{}, 1), stop: make(chan struct{}), drained: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	if s.scale <= 0 {
		s.scale = 1
	}
	if s.opts.TokenIdle <= 0 {
		s.opts.TokenIdle = 30 * time.Minute
	}
	s.world = world{Version: worldVersion, NextID: 88000}
	s.reindex()
	if s.opts.PDF == nil {
		s.opts.PDF = sharedPDF()
	}
	s.SetFaults(opts.Faults)
	if opts.Dir != "" {
		fsys, err := safefs.OpenCreate(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		s.fs = fsys
		lock, err := lockDir(fsys, "world.lock")
		if err != nil {
			return nil, err
		}
		s.lock = lock
		if err := s.load(); err != nil {
			unlockDir(lock)
			return nil, err
		}
		s.reindex()
	}
	if s.opts.PendingBudget <= 0 {
		s.opts.PendingBudget = 256 << 20
	}
	go s.drain()
	s.kickLocked() // a reloaded world may hold more than the budget
	s.handler = s.buildHandler()
	return s, nil
}

// Close processes the jobs still pending (when the world is on disk),
// persists the world and releases the directory lock.
func (s *Sandbox) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.drained
	s.processPending()
	s.syncMu.Lock() // no fsync of a log being folded and closed
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.saveLocked()
	if s.lock != nil {
		unlockDir(s.lock)
		s.lock = nil
	}
	return err
}

// SetFaults replaces the injected faults; safe while serving.
func (s *Sandbox) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = f
	s.rng = rand.New(rand.NewPCG(uint64(f.Seed), uint64(f.Seed)^0x9e3779b97f4a7c15))
	s.burstLeft = 0
	s.reqCount = 0
	s.dropsLeft = f.DropAfterCreate
}

// ExpireTokens forgets every token: the next call of any client gets 401.
func (s *Sandbox) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]*tokenRec{}
}

// JobCount counts the jobs created with exactly that name.
func (s *Sandbox) JobCount(jobName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.index.byName[jobName])
}

// Jobs lists every job, oldest first, with its current status.
func (s *Sandbox) Jobs() []JobInfo {
	s.lockSettled(func() []*jobRecord { return s.world.Jobs })
	defer s.mu.Unlock()
	now := s.now()
	out := make([]JobInfo, 0, len(s.world.Jobs))
	for _, j := range s.world.Jobs {
		out = append(out, JobInfo{JobID: j.ID, JobName: j.Name, ServiceID: j.ServiceID, Status: s.view(j, now).status, Created: j.Created})
	}
	return out
}

// Requests returns the last requests received (at most 10,000), oldest first.
func (s *Sandbox) Requests() []RequestRecord {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := make([]RequestRecord, 0, len(s.records))
	return append(append(out, s.records[s.recStart:]...), s.records[:s.recStart]...)
}

// record stores r once.
func (s *Sandbox) record(rp *RequestRecord) {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if rp.recorded {
		return
	}
	rp.recorded = true
	r := *rp
	if len(s.records) < maxRecords {
		s.records = append(s.records, r)
	} else { // overwrite the oldest: no copying of the whole log per request
		s.records[s.recStart] = r
		s.recStart = (s.recStart + 1) % maxRecords
	}
	s.routeStats[r.Route]++
}

// jobCount is how many jobs the world holds.
func (s *Sandbox) jobCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.world.Jobs)
}

func (s *Sandbox) stats() map[string]int64 {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := make(map[string]int64, len(s.routeStats))
	for k, v := range s.routeStats {
		out[k] = v
	}
	return out
}

// Handler serves the API plus, for tests and tools, GET /_sandbox/jobs
// (what was posted), GET /_sandbox/requests (the request log: routes,
// multipart field names, parameters; never a token or a file) and
// GET /_sandbox/stats. Faults do not apply to /_sandbox/.
func (s *Sandbox) Handler() http.Handler { return s.handler }

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sharedPDF is the engine of sandboxes opened without one.
var sharedPDF = sync.OnceValue(func() *postpdf.Engine {
	return postpdf.Open(postpdf.Options{CacheDir: layout.PDFiumCache()})
})

// WarmPDF starts the engine of sandboxes opened without one now, so that the
// first letter posted does not wait for it (tests with tight deadlines).
func WarmPDF() error { return sharedPDF().Start() }
