package state

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
)

// A fold of a large local state used to encode every letter again: at
// 100,000 letters, most of a refresh's fold (issue 18) for letters that did
// not change. When the caller says which letters changed (PersistChanged),
// the new snapshot copies every other letter's line, byte for byte, from
// the old one, and encodes only the letters changed since it was written:
// those recorded in the journal since (sinceSnapshot) and those named.
// The old file must be the one this backend last read or wrote (its size
// and maphash), laid out as Encode lays it out, its addresses in order
// (the order Encode writes); anything else is encoded in full, as
// Persist does. For a
// snapshot Encode wrote, the result is Encode's bytes
// (TestMergedSnapshotIsTheEncoding).

// mergeSource is what a fold copies from: the old snapshot's letters, in
// file order, or none (every letter is encoded).
type mergeSource struct {
	old   []oldLetter
	dirty map[string]struct{}
}

// oldLetter is one line of the old snapshot: the letter's address and its
// `"address": {…}` entry.
type oldLetter struct {
	addr  string
	entry []byte
}

// mergeSourceLocked reads the old snapshot for a fold under promise. It
// returns an empty source (encode everything) when the file is not one to
// copy from. A plan-only load's details keep the old file's
// bytes, which the rename would take from them. The caller holds b.mu.
func (b *Local) mergeSourceLocked(s *State, promise *changeSet) *mergeSource {
	if promise == nil {
		return &mergeSource{}
	}
	data := b.snapshotBytesLocked()
	if data == nil {
		return &mergeSource{}
	}
	// A line is copied only under the format version it was written in.
	version := s.Version
	if version == 0 {
		version = FormatVersion
	}
	if !bytes.HasPrefix(data, fmt.Appendf(nil, "{\n  \"version\": %d,\n", version)) {
		return &mergeSource{}
	}
	old, ok := snapshotLetters(data, b.snapLines)
	if !ok {
		return &mergeSource{}
	}
	if src := b.lazySrc; src != nil {
		src.mu.Lock()
		if src.data == nil {
			src.data = data
		}
		src.mu.Unlock()
	}
	dirty := make(map[string]struct{}, len(b.sinceSnapshot)+len(promise.addrs))
	for a := range b.sinceSnapshot {
		dirty[a] = struct{}{}
	}
	for _, a := range promise.addrs {
		dirty[a] = struct{}{}
	}
	return &mergeSource{old: old, dirty: dirty}
}

// snapshotBytesLocked is the snapshot file's bytes as b.snap identifies
// them, or nil: those a plan-only load's details hold when they were read
// again already, else the file's. The caller holds b.mu.
func (b *Local) snapshotBytesLocked() []byte {
	if !b.snap.known {
		return nil
	}
	if b.lazySrc != nil {
		if data := b.lazySrc.held(); data != nil && idOf(data) == b.snap {
			return data
		}
	}
	data, err := b.fs.ReadFile(b.rel)
	if err != nil || idOf(data) != b.snap {
		return nil
	}
	return data
}

// snapshotLetters splits a snapshot laid out as Encode lays it out into its
// letters' lines; false for any other layout, or keys out of order. Unless
// checked (the load that read it found one letter a line, or postform
// wrote it), each line's value is skipped to its end to make sure it is
// the line's only letter.
func snapshotLetters(data []byte, checked bool) ([]oldLetter, bool) {
	p := newPlanScanner()
	start := bytes.Index(data[:min(len(data), 4096)], []byte("\n  \"mailings\": {"))
	if start < 0 {
		return nil, false
	}
	rest := data[start+len("\n  \"mailings\": {"):]
	if string(rest) == "}\n}\n" {
		return nil, true
	}
	var out []oldLetter
	for {
		if !bytes.HasPrefix(rest, []byte("\n    \"")) {
			return nil, false
		}
		end := bytes.IndexByte(rest[1:], '\n')
		if end < 0 {
			return nil, false
		}
		line := rest[1 : 1+end]
		ke := skipString(line, 4)
		if ke < 0 || !bytes.HasPrefix(line[ke:], []byte(": ")) {
			return nil, false
		}
		addr, ok := p.unquote(line[4:ke])
		if !ok || (len(out) > 0 && out[len(out)-1].addr >= addr) {
			return nil, false
		}
		// One letter a line, its value ending the line: a line holding two
		// (a file written by hand) would copy the second unseen.
		last := !bytes.HasSuffix(line, []byte(","))
		ve := len(line)
		if !last {
			ve--
		}
		if !checked && skipValue(line, ke+2) != ve {
			return nil, false
		}
		rest = rest[1+end:]
		entry := line[4:ve]
		out = append(out, oldLetter{addr: addr, entry: entry})
		if last {
			return out, string(rest) == "\n  }\n}\n"
		}
	}
}

// write writes s's snapshot with serial to w and, when h is not nil, its
// encoding with serial 0 to h, as writeSnapshot does: copying the old
// snapshot's line of each letter not in m.dirty that s still holds.
func (m *mergeSource) write(e *stateEncoder, s *State, serial uint64, w io.Writer, h io.Writer) error {
	if m.old == nil {
		return writeSnapshot(e, s, serial, w, h)
	}
	if _, err := w.Write(e.head(s, serial)); err != nil {
		return err
	}
	out := w
	if h != nil {
		h.Write(e.head(s, 0))
		out = io.MultiWriter(w, h)
	}
	keys := make([]string, 0, len(s.Mailings))
	for k := range s.Mailings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.buf.Reset()
	written := 0
	next := func() error {
		if written > 0 {
			e.buf.WriteByte(',')
		}
		e.buf.WriteString("\n    ")
		written++
		if e.buf.Len() < flushAt {
			return nil
		}
		_, err := out.Write(e.buf.Bytes())
		e.buf.Reset()
		return err
	}
	encode := func(k string) error {
		if err := next(); err != nil {
			return err
		}
		if err := e.value(k); err != nil {
			return err
		}
		e.buf.WriteString(": ")
		return appendMailing(&e.buf, e.enc, s.Mailings[k])
	}
	i := 0
	for _, o := range m.old {
		for ; i < len(keys) && keys[i] < o.addr; i++ {
			if err := encode(keys[i]); err != nil {
				return err
			}
		}
		here := i < len(keys) && keys[i] == o.addr
		_, dirty := m.dirty[o.addr]
		switch {
		case here && !dirty:
			if err := next(); err != nil {
				return err
			}
			e.buf.Write(o.entry)
		case here:
			if err := encode(keys[i]); err != nil {
				return err
			}
		}
		if here {
			i++
		}
		// Not here: removed since, and recorded as such (dirty), or gone
		// without a word; either way s is what is written.
	}
	for _, k := range keys[i:] {
		if err := encode(k); err != nil {
			return err
		}
	}
	if written > 0 {
		e.buf.WriteString("\n  ")
	}
	e.buf.WriteString("}\n}\n")
	_, err := out.Write(e.buf.Bytes())
	e.buf.Reset()
	return err
}

// refreshedOnly reports whether next differs from prev only in what a
// refresh learns from the platform (job status, pack groups, deliveries,
// proofs, problems, terminal, last refreshed): what a later refresh learns
// again if it is lost. Anything else (the letter's phase, job, content,
// the jobs it replaced, its coming or going) is what postform must never
// lose track of. The jobs a letter replaced are compared by their ids,
// read from the JSON of a letter whose detail is not decoded.
func refreshedOnly(prev, next *Mailing) bool {
	if prev == nil || next == nil {
		return false
	}
	same := prev.Address == next.Address && prev.Phase == next.Phase &&
		prev.ContentHash == next.ContentHash && prev.InputHash == next.InputHash &&
		prev.JobName == next.JobName && prev.Service == next.Service && prev.ServiceID == next.ServiceID &&
		prev.Owner == next.Owner && prev.JobID == next.JobID &&
		prev.AttemptedAt.Equal(next.AttemptedAt) && prev.SubmittedAt.Equal(next.SubmittedAt) &&
		slices.Equal(prev.Documents, next.Documents) && maps.Equal(prev.Options, next.Options) &&
		slices.Equal(prev.RequestedProofs, next.RequestedProofs) &&
		(prev.Recipient == nil) == (next.Recipient == nil)
	if !same {
		return false
	}
	if prev.Recipient != nil && !(slices.Equal(prev.Recipient.Lines, next.Recipient.Lines) &&
		prev.Recipient.Postcode == next.Recipient.Postcode && prev.Recipient.City == next.Recipient.City &&
		prev.Recipient.Country == next.Recipient.Country) {
		return false
	}
	a, errA := prev.SupersededJobs()
	b, errB := next.SupersededJobs()
	return errA == nil && errB == nil && slices.EqualFunc(a, b, func(x, y SupersededJob) bool { return x.JobID == y.JobID })
}

// journalRefreshesOnly reports whether every record of lines that replay
// applies on snap only refreshes a letter snap or an earlier record holds.
func journalRefreshesOnly(snap *State, lines []*journalLine) bool {
	if len(lines) == 0 {
		return true
	}
	if snap == nil {
		return false
	}
	latest := map[string]*Mailing{}
	for _, l := range lines {
		if l.Serial <= snap.Serial {
			continue // folded into the snapshot already
		}
		for _, r := range l.Records {
			prev, ok := latest[r.Address]
			if !ok {
				prev = snap.Mailings[r.Address]
			}
			next := r.Mailing
			if next != nil && next.Address == "" {
				c := *next // replay fills it in; a check changes nothing
				c.Address = r.Address
				next = &c
			}
			if !refreshedOnly(prev, next) {
				return false
			}
			latest[r.Address] = next
		}
	}
	return true
}
