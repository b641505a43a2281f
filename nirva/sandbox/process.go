package sandbox

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	postpdf "github.com/postform/postform/pdf"
)

// Processing: what the platform does between RECEIVED and
// PACK_GROUP_CREATED (docs/nirva-api.md §4). POST /jobs only stores the job
// and its files; the PDF inspection and the address reading (about 2 ms of
// CPU a letter, most of the sandbox's cost) run when an answer first
// depends on them, so that an apply's POSTs measure postform, not the
// simulator. Processing is a pure function of the files, so when it runs
// never changes an answer: a job read after it left RECEIVED looks the
// same as if it had been processed on arrival.

// pendingUpload is a job's files kept until the job is processed, then
// dropped. The world log's line of the job holds it, so a job accepted
// before a crash is processed after it; Close processes every pending job
// before writing the snapshot, which therefore holds none.
type pendingUpload struct {
	Files []pendingFile `json:"files"` // in the order they were uploaded
	Main  int           `json:"main"`  // index in Files of the MAIN box's first file
}

type pendingFile struct {
	Field string `json:"field"`
	Data  []byte `json:"data"`
}

func newPendingUpload(req *jobRequest) *pendingUpload {
	p := &pendingUpload{}
	for _, f := range req.files {
		// A copy of exactly the file's size: io.ReadAll's buffer can be
		// twice that, and 100,000 pending jobs keep theirs until processed.
		p.Files = append(p.Files, pendingFile{Field: f.field, Data: append([]byte(nil), f.data...)})
	}
	p.Main = req.mainFiles[0].index
	return p
}

// processed is what processing found in a job's files.
type processed struct {
	failed        bool
	failReason    string
	address       []string
	needsAddress  bool
	reasons       []string
	undeliverable bool
}

// processUpload is the platform's processing: a file it cannot parse (or
// decrypt) fails the job; the first MAIN file's address window is read for
// the address.
func processUpload(e *postpdf.Engine, p *pendingUpload) (r processed) {
	// Processing runs outside any request (the background worker, Close)
	// and holds the job's in-flight mark: a PDF that panics a reader must
	// fail its job, not leave every later read of it waiting, or the
	// sandbox down.
	defer func() {
		if v := recover(); v != nil {
			r = processed{failed: true, failReason: fmt.Sprintf("the files could not be processed: %v", v)}
		}
	}()
	for _, f := range p.Files {
		if _, err := inspectPDF(f.Data); err != nil {
			r.failed, r.failReason = true, fmt.Sprintf("%s: %v", f.Field, err)
			return r
		}
	}
	if p.Main < 0 || p.Main >= len(p.Files) { // a world file edited by hand
		r.failed, r.failReason = true, "the upload kept for this job names no MAIN file"
		return r
	}
	main := p.Files[p.Main]
	lines, reasons, err := readAddress(e, main.Data)
	if err != nil {
		r.failed, r.failReason = true, fmt.Sprintf("%s: %v", main.Field, err)
	}
	r.needsAddress, r.reasons = len(reasons) > 0, reasons
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && len(r.address) < 6 {
			r.address = append(r.address, l)
		}
		r.undeliverable = r.undeliverable || strings.Contains(strings.ToUpper(l), "UNDELIVERABLE")
	}
	return r
}

// applyLocked records what processing found and drops the files (caller
// holds s.mu). The processed job reaches disk with the next snapshot or
// edit; until then the log's line of its creation still holds the files,
// so a crash before costs only a second processing, with the same result.
func (s *Sandbox) applyLocked(j *jobRecord, r processed) {
	if j.Pending == nil {
		return // processed meanwhile by another request
	}
	j.Failed, j.FailReason = r.failed, r.failReason
	j.Address, j.NeedsAddress, j.AddressReasons, j.Undeliverable = r.address, r.needsAddress, r.reasons, r.undeliverable
	s.pending.done(j)
	j.Pending = nil
	j.fillAddresses()
	s.dirty = s.dirty || s.opts.Dir != ""
}

// fillAddresses puts the address processing read into each pack group's
// raw value: none when the window held no usable address.
func (j *jobRecord) fillAddresses() {
	for _, pg := range j.PackGroups {
		if j.NeedsAddress {
			pg.Raw["address"] = []any{}
		} else {
			pg.Raw["address"] = addressAny(j.Address)
		}
	}
}

// due reports whether an answer about j at now may depend on its
// processing: from PROCESSING on (its results show from
// PACK_GROUP_CREATED; starting a status early leaves room for the clock
// moving between settle and the answer).
func (s *Sandbox) due(j *jobRecord, now time.Time) bool {
	return j.Pending != nil && s.since(j.Created, now) >= tProcessing
}

// settle processes the jobs among jobs that are due, outside s.mu (caller
// must not hold it), so that one letter's PDF reading does not hold up
// every other request.
func (s *Sandbox) settle(jobs ...*jobRecord) {
	s.processAll(jobs, true)
}

// processAll processes jobs (with onlyDue, those due) as many at once as
// there are CPUs: a listing of every job must not read 100,000 letters one
// after the other.
func (s *Sandbox) processAll(jobs []*jobRecord, onlyDue bool) {
	if len(jobs) == 1 {
		s.processJob(jobs[0], onlyDue)
		return
	}
	work := make(chan *jobRecord)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for j := range work {
				s.processJob(j, onlyDue)
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
}

// processJob processes j outside s.mu, unless it is processed already or,
// with onlyDue, not due yet. A job another request is processing is
// waited for, not processed twice.
func (s *Sandbox) processJob(j *jobRecord, onlyDue bool) {
	s.mu.Lock()
	if j.Pending == nil || onlyDue && !s.due(j, s.now()) {
		s.mu.Unlock()
		return
	}
	if ch, busy := s.inflight[j]; busy {
		s.mu.Unlock()
		<-ch
		return
	}
	ch := make(chan struct{})
	s.inflight[j] = ch
	p := j.Pending // never changed once made: read outside the lock
	s.mu.Unlock()

	r := processUpload(s.opts.PDF, p)

	s.mu.Lock()
	s.applyLocked(j, r)
	delete(s.inflight, j)
	s.mu.Unlock()
	close(ch)
}

// processPending processes every job still pending, as many at once as
// there are CPUs, when the world is on disk: Close calls it so that a
// snapshot holds what processing found, never the uploads (a job accepted
// but not processed survives only a crash, through the log). A memory-only
// world has no snapshot to write and skips it.
func (s *Sandbox) processPending() {
	s.mu.Lock()
	var todo []*jobRecord
	if s.opts.Dir != "" && !s.closed {
		for _, j := range s.world.Jobs {
			if j.Pending != nil {
				todo = append(todo, j)
			}
		}
	}
	s.mu.Unlock()
	s.processAll(todo, false)
}

// lockSettled takes s.mu and returns the jobs find gives (under s.mu),
// those that are due processed first, outside the lock: the way a route
// reads jobs that its answer shows.
func (s *Sandbox) lockSettled(find func() []*jobRecord) []*jobRecord {
	s.mu.Lock()
	jobs := find()
	if !slices.ContainsFunc(jobs, func(j *jobRecord) bool { return j.Pending != nil }) {
		return jobs
	}
	s.mu.Unlock()
	s.settle(jobs...)
	s.mu.Lock()
	return find()
}

// settleLocked processes j under s.mu when an answer needs it and settle
// did not run first (a job read through another job's answer, or the clock
// moving on between settle and the answer): correct, only slower.
func (s *Sandbox) settleLocked(j *jobRecord) {
	if j.Pending != nil {
		s.applyLocked(j, processUpload(s.opts.PDF, j.Pending))
	}
}

// pendingQueue is the jobs not processed yet, oldest first, and the bytes
// of their uploads.
type pendingQueue struct {
	jobs  []*jobRecord // may still hold jobs processed since, skipped by next
	bytes int64
	count int
}

func (p *pendingUpload) size() (n int64) {
	for _, f := range p.Files {
		n += int64(len(f.Data))
	}
	return n
}

func (q *pendingQueue) add(j *jobRecord) {
	if j.Pending != nil {
		q.jobs = append(q.jobs, j)
		q.bytes += j.Pending.size()
		q.count++
	}
}

// done is called as j's upload is dropped.
func (q *pendingQueue) done(j *jobRecord) {
	q.bytes -= j.Pending.size()
	if q.count--; q.count == 0 {
		q.jobs = nil // every job queued was processed: forget them
	}
}

// next removes and returns the oldest job still pending, nil when none.
func (q *pendingQueue) next() *jobRecord {
	for len(q.jobs) > 0 {
		j := q.jobs[0]
		q.jobs[0], q.jobs = nil, q.jobs[1:]
		if j.Pending != nil {
			return j
		}
	}
	return nil
}

// kickLocked wakes the worker when the uploads kept pass the budget
// (caller holds s.mu, or is Open).
func (s *Sandbox) kickLocked() {
	if s.pending.bytes > s.opts.PendingBudget {
		select {
		case s.kick <- struct{}{}:
		default: // already awake
		}
	}
}

// drain is the background worker: while the uploads kept pass the budget,
// it processes the oldest pending job, one at a time, so that a sandbox
// sent many letters nobody reads holds a bounded memory and uses at most
// one core for it. Within the budget, jobs wait for their first reader.
func (s *Sandbox) drain() {
	defer close(s.drained)
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		for {
			s.mu.Lock()
			var j *jobRecord
			if s.pending.bytes > s.opts.PendingBudget {
				j = s.pending.next()
			}
			s.mu.Unlock()
			if j == nil {
				break
			}
			s.processJob(j, false)
			select {
			case <-s.stop:
				return
			default:
			}
		}
	}
}
