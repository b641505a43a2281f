package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/postform/postform/config"
)

// ConfigHash identifies an evaluated configuration: for every mailing, its
// address, job name, service, owner, options, proofs, fix, content hash and
// each document's box, file as written, sha256 and size. Pages are left out
// (apply does not preflight again), and so are absolute paths, so a plan
// made in one checkout applies in another.
//
// The hash is of the bytes encoding/json.Marshal gives the canonical
// struct {v, mailings: [{address, job_name, ...}]} (the reference is kept in
// confighash_test.go): saved plans store it and apply compares it, so the
// bytes never change. They are written into the hash a mailing at a time,
// not marshalled whole first: at 100,000 letters the whole encoding was
// 1.4 GB allocated.
func ConfigHash(cfg *config.Config) string {
	e := configEncoder{h: sha256.New()}
	e.buf = append(e.buf, `{"v":1,"mailings":[`...)
	for i, m := range cfg.Mailings {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.mailing(m); err != nil {
			// fix holds what HCL decoded from JSON; it always encodes. The
			// text is what json.Marshal of the whole struct hashed.
			sum := sha256.Sum256(fmt.Appendf(nil, "unencodable configuration: %v", err))
			return hex.EncodeToString(sum[:])
		}
		e.flush()
	}
	e.buf = append(e.buf, "]}"...)
	e.flush()
	return hex.EncodeToString(e.h.Sum(nil))
}

// configEncoder writes the canonical JSON of mailings into h through one
// reused buffer.
type configEncoder struct {
	h    hash.Hash
	buf  []byte
	keys []string
}

func (e *configEncoder) flush() {
	e.h.Write(e.buf)
	e.buf = e.buf[:0]
}

func (e *configEncoder) mailing(m *config.Mailing) error {
	b := e.buf
	b = append(b, `{"address":`...)
	b = appendJSONString(b, m.Address)
	b = append(b, `,"job_name":`...)
	b = appendJSONString(b, m.JobName)
	b = append(b, `,"service":`...)
	b = appendJSONString(b, m.Service)
	b = append(b, `,"owner":`...)
	b = appendJSONString(b, m.Owner)
	b = append(b, `,"options":`...)
	if m.Options == nil {
		b = append(b, "null"...)
	} else {
		// encoding/json writes a map's keys sorted.
		e.keys = e.keys[:0]
		for k := range m.Options {
			e.keys = append(e.keys, k)
		}
		slices.Sort(e.keys)
		b = append(b, '{')
		for i, k := range e.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, m.Options[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"proofs":`...)
	if m.Proofs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range m.Proofs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p)
		}
		b = append(b, ']')
	}
	b = append(b, `,"fix":`...)
	if m.Fix == nil {
		b = append(b, "null"...)
	} else {
		// Rare, and of any shape: encoding/json itself, as before.
		fix, err := json.Marshal(m.Fix)
		if err != nil {
			e.buf = b
			return err
		}
		b = append(b, fix...)
	}
	b = append(b, `,"content_hash":`...)
	b = appendJSONString(b, m.ContentHash)
	b = append(b, `,"documents":[`...)
	for i, d := range m.Documents {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"box":`...)
		b = appendJSONString(b, d.Box)
		b = append(b, `,"file":`...)
		b = appendJSONString(b, d.File)
		b = append(b, `,"sha256":`...)
		b = appendJSONString(b, d.SHA256)
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, d.Size, 10)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	e.buf = b
	return nil
}

// jsonPlain tells the ASCII bytes appendJSONString copies as they are:
// one load a byte instead of six comparisons, over every byte of every
// mailing.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as encoding/json.Marshal writes a string:
// HTML characters (<, >, &) and U+2028/U+2029 escaped as \u00XX/\u202X,
// control characters other than \b\f\n\r\t as \u00XX, invalid UTF-8 as
// \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
