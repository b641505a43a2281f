// Package audit is postform's audit trail: one entry per run that posted or
// edited the state, kept with the state, append-only and hash-chained.
//
// Each entry is stored as one line of JSON, the canonical encoding of Entry
// (encoding/json of the struct: fixed field order, UTC times). Its Hash is
// the sha256 of that encoding with Hash empty; its Prev is the Hash of the
// entry before it. Changing any byte of any entry breaks either its own hash
// or the next entry's link, and Verify names the first entry that does not
// hold. The chain is evidence of accidental or partial edits; someone who
// may rewrite the whole trail can also recompute it (see docs).
//
// An entry never holds a secret: no password, token or connection string.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// FormatVersion is the version of the entry format this postform writes.
const FormatVersion = 1

// Entry is one run's record.
type Entry struct {
	Version int `json:"v"`
	// Seq numbers entries from 1, in the order they were appended.
	Seq uint64 `json:"seq"`
	// Prev is the Hash of the entry before, empty for the first.
	Prev string    `json:"prev"`
	Time time.Time `json:"time"`
	// Action is the command: "apply", "state rm", "state mv",
	// "state resolve", "import", "force-unlock".
	Action          string `json:"action"`
	Workspace       string `json:"workspace,omitempty"`
	User            string `json:"user"`
	Host            string `json:"host,omitempty"`
	CI              *CI    `json:"ci,omitempty"`
	Git             Git    `json:"git"`
	PostformVersion string `json:"postform_version"`
	// PlanSHA256 is the sha256 of the saved plan file applied
	// (apply PLANFILE or apply --approved=FILE).
	PlanSHA256 string `json:"plan_sha256,omitempty"`
	PlanFile   string `json:"plan_file,omitempty"`
	// Letters are the letters the run posted (or left pending, maybe
	// posted) or imported.
	Letters []Letter `json:"letters,omitempty"`
	// Addresses are the letters a state edit concerned.
	Addresses []string `json:"addresses,omitempty"`
	// Detail says more of a state edit: flags, a lock id.
	Detail string `json:"detail,omitempty"`
	Hash   string `json:"hash"`
}

// CI is the continuous-integration identity of the run.
type CI struct {
	// System is "github-actions" or "gitlab-ci".
	System string `json:"system"`
	Actor  string `json:"actor,omitempty"`
	RunURL string `json:"run_url,omitempty"`
}

// Git is the commit of the working directory.
type Git struct {
	Commit string `json:"commit,omitempty"`
	Dirty  bool   `json:"dirty,omitempty"`
	// Unknown says why no commit is given (no git, not a repository).
	Unknown string `json:"unknown,omitempty"`
}

// Letter is one letter a run posted or imported.
type Letter struct {
	Address     string `json:"address"`
	JobID       string `json:"job_id,omitempty"`
	JobName     string `json:"job_name,omitempty"`
	ContentHash string `json:"content_hash"`
	// Status is "posted", "pending" (the platform's answer was lost: the
	// next run resolves it), "adopted" (an earlier run's attempt, found on
	// the platform by its job name) or "imported".
	Status string `json:"status"`
}

// Concerns reports whether the entry is about the letter at addr.
func (e *Entry) Concerns(addr string) bool {
	return slices.Contains(e.Addresses, addr) ||
		slices.ContainsFunc(e.Letters, func(l Letter) bool { return l.Address == addr })
}

// Store keeps the entries' lines; the state backends implement it.
type Store interface {
	// AppendAudit durably appends line as entry seq.
	AppendAudit(ctx context.Context, seq uint64, line []byte) error
	// ReadAudit returns every line, oldest first.
	ReadAudit(ctx context.Context) ([][]byte, error)
}

// LastStore is a Store that reads its last line without reading them all
// (a table of entries of thousands of letters each).
type LastStore interface {
	Store
	// LastAudit returns the last line, or nil when there is none.
	LastAudit(ctx context.Context) ([]byte, error)
}

// canonical is the encoding whose sha256 is an entry's Hash.
func canonical(e Entry) ([]byte, error) {
	e.Hash = ""
	return json.Marshal(e)
}

func hashOf(e Entry) (string, error) {
	b, err := canonical(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Append chains e after the last entry of s and appends it. The caller
// holds the state lock, so no other run appends meanwhile.
func Append(ctx context.Context, s Store, e Entry) (Entry, error) {
	var lines [][]byte
	var err error
	if ls, ok := s.(LastStore); ok {
		var last []byte
		if last, err = ls.LastAudit(ctx); last != nil {
			lines = [][]byte{last}
		}
	} else {
		lines, err = s.ReadAudit(ctx)
	}
	if err != nil {
		return e, err
	}
	e.Version = FormatVersion
	e.Seq, e.Prev = 1, ""
	// Chain to the last entry that reads; a torn or altered one is left
	// for Verify to name.
	for i := len(lines) - 1; i >= 0; i-- {
		if seq, hash, ok := Link(lines[i]); ok {
			e.Seq, e.Prev = seq+1, hash
			break
		}
	}
	e.Time = e.Time.UTC().Round(0)
	canon, err := canonical(e)
	if err != nil {
		return e, err
	}
	sum := sha256.Sum256(canon)
	e.Hash = hex.EncodeToString(sum[:])
	// The line is the canonical encoding with the hash in place of "":
	// Hash is the last field and hex needs no escaping. Not a second
	// encoding of an entry of 100,000 letters.
	line := append(bytes.TrimSuffix(canon, []byte(`""}`)), `"`+e.Hash+`"}`...)
	return e, s.AppendAudit(ctx, e.Seq, line)
}

// Link is what the entry of line gives the next one to chain to: its Seq
// and Hash; ok when line decodes as an Entry with a hash. Its letters and
// addresses are checked, not kept: the last entry of an apply of 100,000
// letters is megabytes, and only its Seq and Hash are needed.
func Link(line []byte) (seq uint64, hash string, ok bool) {
	var e struct {
		Entry
		Letters   []letterCheck `json:"letters"`
		Addresses []stringCheck `json:"addresses"`
	}
	if json.Unmarshal(line, &e) != nil || e.Hash == "" {
		return 0, "", false
	}
	return e.Seq, e.Hash, true
}

// letterCheck is Letter's fields, checked and dropped.
type letterCheck struct {
	Address     stringCheck `json:"address"`
	JobID       stringCheck `json:"job_id"`
	JobName     stringCheck `json:"job_name"`
	ContentHash stringCheck `json:"content_hash"`
	Status      stringCheck `json:"status"`
}

// stringCheck accepts what encoding/json decodes into a string.
type stringCheck struct{}

func (*stringCheck) UnmarshalJSON(b []byte) error {
	if b[0] == '"' || string(b) == "null" {
		return nil
	}
	return errors.New("not a string")
}

// ChainError names the first entry of a trail that does not hold.
type ChainError struct {
	// Line is the entry's position in the trail, from 1.
	Line   int
	Seq    uint64
	Reason string
}

func (e *ChainError) Error() string {
	if e.Seq != 0 {
		return fmt.Sprintf("the audit trail is broken at entry %d (line %d): %s", e.Seq, e.Line, e.Reason)
	}
	return fmt.Sprintf("the audit trail is broken at line %d: %s", e.Line, e.Reason)
}

// Decode reads every line as an entry and checks the chain. It returns
// every entry that reads (for printing) and a *ChainError naming the first
// one that does not hold, or nil.
func Decode(lines [][]byte) ([]Entry, error) {
	out := make([]Entry, 0, len(lines))
	var first error
	prev := ""
	for i, line := range lines {
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			if first == nil {
				first = &ChainError{Line: i + 1, Reason: fmt.Sprintf("not an entry postform wrote (%v)", err)}
			}
			continue
		}
		if err := check(e, line, i, prev); err != nil && first == nil {
			first = err
		}
		prev = e.Hash
		out = append(out, e)
	}
	return out, first
}

// check tests entry e, read from line at position i, against the chain.
func check(e Entry, line []byte, i int, prev string) error {
	bad := func(reason string) error { return &ChainError{Line: i + 1, Seq: e.Seq, Reason: reason} }
	if e.Version > FormatVersion {
		return bad(fmt.Sprintf("written by a newer postform (format %d; this one reads %d): upgrade postform to verify it", e.Version, FormatVersion))
	}
	if again, err := json.Marshal(e); err != nil || !bytes.Equal(again, line) {
		return bad("its bytes are not the canonical encoding postform wrote: the entry was edited")
	}
	if want, _ := hashOf(e); want != e.Hash {
		return bad(fmt.Sprintf("its content does not match its hash (recorded %s, computed %s): the entry was edited", short(e.Hash), short(want)))
	}
	if e.Seq != uint64(i+1) {
		return bad(fmt.Sprintf("it is numbered %d but is entry %d of the trail: an entry was removed or inserted", e.Seq, i+1))
	}
	if e.Prev != prev {
		return bad(fmt.Sprintf("it follows an entry with hash %s, not %s: the entry before it was edited, removed or inserted", short(e.Prev), short(prev)))
	}
	return nil
}

// Read returns every entry of s, checked as Decode does.
func Read(ctx context.Context, s Store) ([]Entry, error) {
	lines, err := s.ReadAudit(ctx)
	if err != nil {
		return nil, err
	}
	return Decode(lines)
}

func short(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
