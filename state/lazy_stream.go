package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"hash/maphash"
	"io"
)

// snapshotRead is what the local backend learns from reading its snapshot
// for a plan: the state, and what tells the file read again from this one.
type snapshotRead struct {
	s  *State
	id snapshotID
}

// maxStreamLine bounds a line of a streamed snapshot; a longer one (a
// mailing with thousands of tracking events) sends the file to the
// whole-file path.
const maxStreamLine = 4 << 20

// decodeForPlanStream is the plan-only load of a snapshot read line by
// line, as Encode lays it out (a header, one mailing per line, two closing
// lines), so that the file is never in memory whole: a terminal letter's
// detail is left where it is in the file, for src to read again. ok false
// means "read the whole file": the layout is another, or something is not
// valid (then DecodeForPlan and Decode say what).
func decodeForPlanStream(r io.Reader, src *source) (res snapshotRead, ok bool) {
	// The file is hashed as it is read, a buffer at a time (a hash of
	// the bytes, however they are cut): hashed line by line, each line's
	// tail was copied into the hash's own buffer.
	var mh maphash.Hash
	mh.SetSeed(rereadSeed)
	br := bufio.NewReaderSize(io.TeeReader(r, &mh), 1<<20)
	var off int64
	next := func() ([]byte, bool) {
		line, err := br.ReadSlice('\n')
		if err != nil { // EOF without a newline, or a line longer than the buffer
			if err != bufio.ErrBufferFull {
				return nil, false
			}
			// The next read reuses the buffer; the line is gathered a
			// buffer at a time, no further than the bound.
			long := bytes.Clone(line)
			for err == bufio.ErrBufferFull && len(long) <= maxStreamLine {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			if err != nil || len(long) > maxStreamLine {
				return nil, false
			}
			line = long
		}
		off += int64(len(line))
		return line, true
	}

	// The header: the lines before the mailings.
	var header []byte
	for {
		line, ok := next()
		if !ok || len(header) > 4096 {
			return res, false
		}
		header = append(header, line...)
		if string(line) == "  \"mailings\": {\n" || string(line) == "  \"mailings\": {}\n" {
			break
		}
	}
	if serialLine.FindIndex(header[:min(len(header), 512)]) == nil {
		return res, false // fileDigest would not find the serial
	}
	var head struct {
		Version         *int   `json:"version"`
		Lineage         string `json:"lineage"`
		Serial          uint64 `json:"serial"`
		PostformVersion string `json:"postform_version"`
	}
	empty := bytes.HasSuffix(header, []byte("{}\n"))
	closing := header[:len(header)-len("{\n")]
	if empty {
		closing = header[:len(header)-len("{}\n")]
	}
	headJSON := append(bytes.Clone(closing), "{}}"...)
	if json.Unmarshal(headJSON, &head) != nil || !onlyStateKeys(headJSON) ||
		head.Version == nil || *head.Version < 1 || *head.Version > FormatVersion || head.Lineage == "" {
		return res, false
	}
	s := &State{Version: *head.Version, Lineage: head.Lineage, Serial: head.Serial, PostformVersion: head.PostformVersion}

	// The letters are gathered first, then put in a map of their number:
	// a map grown letter by letter moved each entry about once more.
	var letters []*Mailing
	p := newPlanScanner()
	if !empty {
		for more := true; more; {
			line, ok := next()
			if !ok {
				return res, false
			}
			base := off - int64(len(line))
			body := line[:len(line)-1]
			if !bytes.HasPrefix(body, []byte(`    "`)) {
				return res, false
			}
			ke := skipString(body, 4)
			if ke < 0 || !bytes.HasPrefix(body[ke:], []byte(": ")) {
				return res, false
			}
			addr, ok := p.unquote(body[4:ke])
			if !ok {
				return res, false
			}
			p.addr, p.addrLit = addr, body[4:ke]
			m, me := decodeMailingForPlan(p, body, ke+2, src)
			p.addrLit = nil
			switch {
			case me < 0:
				return res, false
			case me == len(body)-1 && body[me] == ',':
			case me == len(body):
				more = false
			default:
				return res, false
			}
			if m.detail != nil {
				m.detail.start += int(base)
				m.detail.end += int(base)
			}
			// Its address is then its key (a letter named twice: the
			// last one, as a map assignment keeps it).
			if normalizeMailing(addr, m) != nil {
				return res, false
			}
			letters = append(letters, m)
		}
		line, ok := next()
		if !ok || string(line) != "  }\n" {
			return res, false
		}
	}
	line, ok := next()
	if !ok || string(line) != "}\n" {
		return res, false
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return res, false
	}
	s.Mailings = make(map[string]*Mailing, len(letters))
	for _, m := range letters {
		s.Mailings[m.Address] = m
	}
	res.s, res.id = s, snapshotID{known: true, size: off, sum: mh.Sum64()}
	return res, true
}
