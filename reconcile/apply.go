package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/shellquote"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/state"
)

// ApplyResult says what an apply did.
type ApplyResult struct {
	Posted, Refused, Uncertain, Forgotten, Edited int
	// Interrupted is set when the run stopped starting new posts because
	// its context was cancelled (Ctrl-C).
	Interrupted bool
	Errors      map[string]error
	mu          sync.Mutex
}

func (r *ApplyResult) fail(addr string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Errors[addr] = err
}

func (r *ApplyResult) count(n *int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*n++
}

// Err joins the per-address errors, or nil.
func (r *ApplyResult) Err() error { return joinByAddress(r.Errors) }

// Apply carries out a plan. Cancelling ctx stops new posts from starting;
// posts already in flight run to completion (bounded by CallTimeout) and are
// recorded, so an interrupted apply loses track of nothing.
func (e *Engine) Apply(ctx context.Context, p *Plan) *ApplyResult {
	e.startRun()
	res := &ApplyResult{Errors: map[string]error{}}
	// The letters to post are kept as posts, not as the plan's changes: a
	// change keeps the plan's array of every change alive, and with it
	// every letter's configuration (below).
	var posts []post
	var others []*Change
	for _, ch := range p.Changes {
		switch ch.Action {
		case ActionCreate, ActionReplace:
			posts = append(posts, post{address: ch.Address, replace: ch.Action == ActionReplace, desired: ch.Desired})
		case ActionForget, ActionUpdate:
			others = append(others, ch)
		}
	}
	for _, ch := range others {
		if ctx.Err() != nil {
			break
		}
		switch ch.Action {
		case ActionForget:
			if err := e.record(ctx, ch.Address, nil); err != nil {
				res.fail(ch.Address, err)
				continue
			}
			res.count(&res.Forgotten)
			e.emit(Event{Kind: EventForgot, Address: ch.Address})
		case ActionUpdate:
			if err := e.edit(ctx, ch); err != nil {
				res.fail(ch.Address, err)
				continue
			}
			res.count(&res.Edited)
		}
	}
	if len(posts) > 0 {
		e.postAll(ctx, posts, res)
	}
	res.Interrupted = ctx.Err() != nil
	return res
}

// post is a letter to post: its address, whether it replaces a job
// posted before, and its configuration.
type post struct {
	address string
	replace bool
	desired *config.Mailing
}

// outgoing is a letter whose pending record is durable, ready to POST.
type outgoing struct {
	post
	req   nirva.JobRequest
	rec   *state.Mailing
	prior *state.Mailing // the record before the attempt (nil for a new letter)
}

// postAll posts letters exactly once, at most Parallelism at a time. A
// producer writes the pending records of the next batch in one durable
// record (one fsync for the batch) while the workers POST the previous
// one, so durability costs no time on the letters' path. When ctx is
// cancelled no new POST starts; letters recorded as pending but never sent
// get their previous record back, so the next run plans them as before.
func (e *Engine) postAll(ctx context.Context, posts []post, res *ApplyResult) {
	par := e.parallelism()
	// A batch is four rounds of the workers: each fsync re-dirties the
	// journal's last page, so fewer, larger batches write fewer bytes
	// (issue 18: 100,000 letters, 6,250 batches of 16 cost 0.7 x the state
	// in pages written again). Every pending record is durable before its
	// POST; a job id rides on a later batch's fsync (most of a batch's on
	// the next one's) or the end of the run, and one still only in memory
	// at a crash is found again by its job name.
	size := 4 * par
	// Two rounds of lookahead: the workers never wait for the producer's
	// fsync (measured: 1.32x -> 1.24x the ideal for 1,000 letters at 20 ms).
	// No more: the producer writes the next batch only once the workers hold
	// the end of this one, so that record carries the job ids of most of it.
	ready := make(chan *outgoing, 2*par)
	go func() {
		defer close(ready)
		for start := 0; start < len(posts); start += size {
			if ctx.Err() != nil {
				return
			}
			var batch []*outgoing
			for i := start; i < min(start+size, len(posts)); i++ {
				// From here the letter's outgoing holds it, and nothing once
				// it is sent: a caller that let go of the plan and of the
				// configuration sees each letter's evaluation collected once
				// it is posted (issue 18: at 100,000 letters they were half
				// of the live heap at the end of the posting).
				pt := posts[i]
				posts[i] = post{}
				o, err := e.prepare(ctx, pt)
				if err != nil {
					res.fail(pt.address, err)
					continue
				}
				batch = append(batch, o)
			}
			failpoint(fpBeforePending)
			// The pending records must be durable before the POSTs: if this
			// process dies after the platform accepts a job, the next run
			// finds the record and looks the job up instead of posting again.
			recs := make([]*state.Mailing, len(batch))
			for i, o := range batch {
				recs[i] = o.rec
			}
			done := e.takePosted()
			if len(done) > 0 {
				failpoint(fpMidBatch)
			}
			err := e.recordAll(ctx, append(recs, done.records()...))
			e.settlePosted(done, err, res)
			if err != nil {
				for _, o := range batch {
					res.fail(o.address, fmt.Errorf("recording the posting attempt (nothing was posted): %w", err))
				}
				continue
			}
			failpoint(fpAfterPending)
			for _, o := range batch {
				ready <- o
			}
		}
	}()
	var wg sync.WaitGroup
	var abandonedMu sync.Mutex
	var abandoned []*outgoing
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range ready {
				if ctx.Err() != nil {
					abandonedMu.Lock()
					abandoned = append(abandoned, o)
					abandonedMu.Unlock()
					continue
				}
				e.send(ctx, o, res)
			}
		}()
	}
	wg.Wait()
	done := e.takePosted()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.callTimeout())
	defer cancel()
	e.settlePosted(done, e.recordAll(rctx, done.records()), res)
	if len(abandoned) > 0 {
		e.restore(ctx, abandoned, res)
	}
}

// postedJob is a job id known from the platform's answer, waiting to be
// recorded durably with the next write.
type postedJob struct {
	rec   *state.Mailing
	jobID string
}

type postedJobs []postedJob

func (ps postedJobs) records() []*state.Mailing {
	out := make([]*state.Mailing, len(ps))
	for i, p := range ps {
		out[i] = p.rec
	}
	return out
}

// queuePosted keeps a posted letter's record in memory at once and queues
// its durable write.
func (e *Engine) queuePosted(rec *state.Mailing, jobID string) {
	e.put(rec)
	e.postedMu.Lock()
	defer e.postedMu.Unlock()
	e.posted = append(e.posted, postedJob{rec: rec, jobID: jobID})
}

func (e *Engine) takePosted() postedJobs {
	e.postedMu.Lock()
	defer e.postedMu.Unlock()
	out := e.posted
	e.posted = nil
	return out
}

// settlePosted reports queued job ids once their write returned.
func (e *Engine) settlePosted(ps postedJobs, err error, res *ApplyResult) {
	for _, p := range ps {
		if err != nil {
			res.fail(p.rec.Address, fmt.Errorf("job %s was posted but recording its id failed (the next run will find it by name): %w", p.jobID, err))
			continue
		}
		failpoint(fpAfterRecord)
		res.count(&res.Posted)
		e.emit(Event{Kind: EventPosted, Address: p.rec.Address, Stage: StageReceived, Detail: "job " + p.jobID})
	}
}

// prepare resolves a letter's request and builds its pending record.
func (e *Engine) prepare(ctx context.Context, pt post) (*outgoing, error) {
	m := pt.desired
	req, svcID, err := e.jobRequest(ctx, m)
	if err != nil {
		return nil, err
	}
	rec := NewRecord(m, svcID)
	rec.Phase = state.PhasePending
	rec.AttemptedAt = e.now()
	prior := e.get(m.Address)
	if prior != nil {
		// The new record carries the prior's superseded jobs and proofs:
		// from a state loaded for a plan they would be nil, and lost.
		if err := prior.LoadDetail(); err != nil {
			return nil, err
		}
		rec.Superseded = prior.Superseded
		if pt.replace && prior.JobID != "" {
			// The replaced job stays on record, and a lookup by name after
			// an interrupted re-post must not mistake it for the new one.
			rec.Superseded = append(rec.Superseded, state.SupersededJob{JobID: prior.JobID, JobName: prior.JobName,
				ContentHash: prior.ContentHash, SubmittedAt: prior.SubmittedAt, TrackingNumbers: prior.TrackingNumbers(), Proofs: prior.Proofs})
		}
	}
	return &outgoing{post: pt, req: req, rec: rec, prior: prior}, nil
}

// restore gives letters recorded as pending but never sent their previous
// record back, in one durable record: nothing of them left the machine.
func (e *Engine) restore(ctx context.Context, items []*outgoing, res *ApplyResult) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.callTimeout())
	defer cancel()
	recs := make([]*state.Mailing, 0, len(items))
	var gone []string
	for _, o := range items {
		if o.prior != nil {
			recs = append(recs, o.prior)
		} else {
			gone = append(gone, o.address)
		}
	}
	if err := e.recordAll(rctx, recs, gone...); err != nil {
		for _, o := range items {
			res.fail(o.address, fmt.Errorf("not posted (interrupted before sending), but recording that failed; the next run looks it up by name: %w", err))
		}
	}
}

// send posts one letter whose pending record is durable, then records the
// outcome. Any answer but a clear refusal or a job id leaves it pending.
func (e *Engine) send(ctx context.Context, o *outgoing, res *ApplyResult) {
	m, req, rec := o.desired, o.req, o.rec
	e.emit(Event{Kind: EventPosting, Address: m.Address, Stage: StagePending})
	// The POST and its record run to completion even after an interrupt.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.callTimeout())
	defer cancel()
	job, err := e.Client.CreateJob(callCtx, req)
	switch {
	case err == nil:
		failpoint(fpAfterResponse)
		if cerr := e.claimJob(m.Address, job.ID); cerr != nil {
			// The platform answered with a job id another letter holds: this
			// letter's job is unknown, so it stays pending for a lookup.
			res.count(&res.Uncertain)
			res.fail(m.Address, fmt.Errorf("the platform answered the posting with job %s, but %w: postform does not record one job for two letters. The letter stays pending; the next run looks its job up by name (%q), or check the platform and run `postform import %s JOB_ID` or `postform state resolve %s --not-posted`",
				job.ID, cerr, m.JobName, shellquote.Quote(m.Address), shellquote.Quote(m.Address)))
			e.emit(Event{Kind: EventUncertain, Address: m.Address, Stage: StagePending, Detail: "job id " + job.ID + " is another letter's"})
			return
		}
		adoptJob(rec, job)
		rec.SubmittedAt = e.now()
		if !job.Created.IsZero() {
			rec.SubmittedAt = job.Created
		}
		rec.Problems = nil
		// The job id becomes durable with the next batch's pending records
		// (or at the end of the run): the pending record already makes a
		// crash in between recoverable by name, and one fsync then serves
		// both.
		e.queuePosted(rec, job.ID)
	case errors.Is(err, nirva.ErrUncertain):
		// Never post again blindly; try to learn the outcome by name.
		e.emit(Event{Kind: EventUncertain, Address: m.Address, Stage: StagePending, Detail: err.Error()})
		if rerr := e.resolvePending(callCtx, m.Address); rerr != nil {
			res.count(&res.Uncertain)
			res.fail(m.Address, fmt.Errorf("the platform did not confirm the posting (%v): %w", err, rerr))
		} else {
			res.count(&res.Posted)
		}
	default:
		rec.Phase = state.PhaseNotPosted
		rec.Problems = []string{err.Error()}
		if rerr := e.record(callCtx, m.Address, rec); rerr != nil {
			res.fail(m.Address, fmt.Errorf("%v; and recording the refusal failed: %w", err, rerr))
			return
		}
		res.count(&res.Refused)
		res.fail(m.Address, fmt.Errorf("the platform refused the letter, nothing was posted: %w", err))
		e.emit(Event{Kind: EventRefused, Address: m.Address, Stage: StageNotPosted, Detail: err.Error()})
	}
}

// NewRecord is the state record of a letter about to be posted (or
// imported): what the configuration says of it, with who it goes to.
func NewRecord(m *config.Mailing, serviceID string) *state.Mailing {
	rec := &state.Mailing{
		Address: m.Address, ContentHash: m.ContentHash, InputHash: m.InputHash(), JobName: m.JobName,
		Service: m.Service, ServiceID: serviceID, Owner: m.Owner,
		RequestedProofs: append([]string(nil), m.Proofs...),
	}
	if len(m.Options) > 0 {
		rec.Options = map[string]string{}
		for k, v := range m.Options {
			rec.Options[k] = v
		}
	}
	for _, d := range m.Documents {
		rec.Documents = append(rec.Documents, state.Document{Box: d.Box, File: d.File, SHA256: d.SHA256, Size: d.Size, Pages: d.Pages})
		if d.Recipient != nil && rec.Recipient == nil {
			// The state keeps who the letter went to, as the plan showed it.
			rec.Recipient = &state.Recipient{Lines: append([]string(nil), d.Recipient.Lines...),
				Postcode: d.Recipient.Postcode, City: d.Recipient.City, Country: d.Recipient.Country}
		}
	}
	return rec
}

// jobRequest resolves the service, boxes and options of a mailing into
// what POST /jobs needs. Each file is re-hashed as it is read, so a PDF
// edited after planning is refused rather than posted unreviewed.
func (e *Engine) jobRequest(ctx context.Context, m *config.Mailing) (nirva.JobRequest, string, error) {
	profile := e.Client.Profile()
	if profile == nil {
		return nirva.JobRequest{}, "", errors.New("internal error: no profile (authenticate with profile detail before posting)")
	}
	svc, ok := profile.FindService(m.Service)
	if !ok {
		return nirva.JobRequest{}, "", fmt.Errorf("service %q is not offered by this account (available: %s); nothing was posted", m.Service, quoteList(profile.ServiceNames()))
	}
	req := nirva.JobRequest{JobName: m.JobName, ServiceID: svc.ID, TargetOwnerID: m.Owner}
	if len(m.Options) > 0 {
		refs, err := e.Client.ResolveOptions(ctx, m.Options)
		if err != nil {
			return req, "", fmt.Errorf("options: %w", err)
		}
		req.Options = refs
	}
	for _, d := range m.Documents {
		box, ok := svc.FindBox(d.Box)
		if !ok {
			return req, "", fmt.Errorf("document %s: service %q has no box %q", d.File, svc.Name, d.Box)
		}
		d := d
		req.Files = append(req.Files, nirva.FilePart{BoxID: box.ID, FileName: filepath.Base(d.Path),
			Open: func() (io.ReadCloser, error) { return openVerified(d) }})
	}
	return req, svc.ID, nil
}

// openVerified opens a document for the upload, never reading it whole
// into memory, and makes sure only the planned bytes can be posted:
//   - a first streaming pass hashes the file: a document edited since it
//     was planned is refused before anything is sent (ErrFileChanged; the
//     letter is not posted);
//   - the upload then reads the same open file through verifyingReader,
//     which hashes what it hands out and holds back the file's last byte
//     until the whole content has matched. Should the file change between
//     the two passes, the read fails before that last byte: the platform
//     never receives the complete document nor the form's closing boundary,
//     so no job is created from it, and the letter stays pending until a
//     lookup by name proves that.
//
// Hashing on the fly alone would turn every edited document into an
// interrupted upload (uncertain, resolved only after the lookup window);
// the first pass keeps that for a race, at the cost of reading the file
// twice from the page cache.
func openVerified(d *config.Document) (io.ReadCloser, error) {
	f, err := os.Open(d.Path)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	buf := hashBuffers.Get().(*[32 << 10]byte)
	// Only the file's Read: io.Copy would take *os.File's WriteTo, which
	// allocates a fresh 32 KiB buffer per letter.
	n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf[:])
	hashBuffers.Put(buf)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", d.File, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 || n != d.Size {
		f.Close()
		return nil, fmt.Errorf("%w: %s changed since it was planned (sha256 %s, %d bytes; planned %s, %d bytes)", ErrFileChanged, d.File, short(got), n, short(d.SHA256), d.Size)
	}
	return &verifyingReader{f: f, h: sha256.New(), left: d.Size, doc: d}, nil
}

// hashBuffers serve the first pass of openVerified, one letter after
// another.
var hashBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// verifyingReader reads a document for the upload and fails, before
// handing out its last byte, unless the content is the planned one.
type verifyingReader struct {
	f    *os.File
	h    hash.Hash
	left int64 // planned bytes not yet handed out
	done bool  // the content matched and was handed out whole
	err  error
	doc  *config.Document
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	switch {
	case r.err != nil:
		return 0, r.err
	case r.done:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	case r.left > 1:
		n, err := r.f.Read(p[:min(int64(len(p)), r.left-1)])
		r.h.Write(p[:n])
		r.left -= int64(n)
		if err == io.EOF {
			err = r.changed()
		}
		return n, err
	}
	// At most the last byte is left: read it, make sure nothing follows,
	// and hand it out only if the whole content has the planned sha256.
	var tail [2]byte
	n, err := io.ReadFull(r.f, tail[:r.left+1])
	switch {
	case err == io.ErrUnexpectedEOF && int64(n) == r.left, err == io.EOF && r.left == 0:
	case err == nil || err == io.EOF || err == io.ErrUnexpectedEOF:
		return 0, r.changed()
	default:
		r.err = fmt.Errorf("reading %s: %w", r.doc.File, err)
		return 0, r.err
	}
	r.h.Write(tail[:n])
	if hex.EncodeToString(r.h.Sum(nil)) != r.doc.SHA256 {
		return 0, r.changed()
	}
	r.done = true
	if n == 0 {
		return 0, io.EOF
	}
	p[0] = tail[0]
	r.left = 0
	return 1, nil
}

func (r *verifyingReader) changed() error {
	r.err = fmt.Errorf("%w: %s changed while it was being uploaded; the upload was cut short before its end, so the platform cannot have the letter whole", ErrFileChanged, r.doc.File)
	return r.err
}

func (r *verifyingReader) Close() error { return r.f.Close() }

// ErrFileChanged marks a document edited between plan and apply.
var ErrFileChanged = errors.New("document changed after planning")

// edit sends the configured fix into each NOT_ELIGIBLE pack group.
func (e *Engine) edit(ctx context.Context, ch *Change) error {
	for _, ed := range ch.Edits {
		if _, err := e.Client.EditPackGroup(ctx, ed.PackGroupID, ed.Raw); err != nil {
			return fmt.Errorf("editing pack group %s: %w", ed.PackGroupID, err)
		}
		e.emit(Event{Kind: EventEdited, Address: ch.Address, Detail: "pack group " + ed.PackGroupID})
	}
	m := e.get(ch.Address)
	m.Terminal = false
	e.put(m)
	return e.refreshOne(ctx, ch.Address)
}

// Forget removes mailings from the state (state rm).
func (e *Engine) Forget(ctx context.Context, addr string) error {
	e.startRun()
	return e.record(ctx, addr, nil)
}

// ResolveNotPosted marks a pending attempt as not posted (state resolve).
func (e *Engine) ResolveNotPosted(ctx context.Context, addr string) error {
	e.startRun()
	m := e.get(addr)
	if m == nil {
		return fmt.Errorf("%s is not in the state", addr)
	}
	if m.Phase != state.PhasePending {
		return fmt.Errorf("%s has no unresolved posting attempt (it is %s)", addr, m.Phase)
	}
	m.Phase = state.PhaseNotPosted
	// The same words as a lookup's conclusion: plan and status say it alike.
	m.Problems = []string{ResolvedNotPosted + " (resolved by hand: postform state resolve --not-posted)"}
	return e.record(ctx, addr, m)
}

// Move gives a letter a new address (a renamed mailing block or key), in one
// durable record so that a crash cannot leave it at both or neither.
func (e *Engine) Move(ctx context.Context, from, to string) error {
	e.startRun()
	m := e.get(from)
	if m == nil {
		return fmt.Errorf("%s is not in the state", from)
	}
	if e.get(to) != nil {
		return fmt.Errorf("%s is already in the state; remove it first with `postform state rm %s` if it is stale", to, shellquote.Quote(to))
	}
	m.Address = to
	return e.recordAll(ctx, []*state.Mailing{m}, from)
}
