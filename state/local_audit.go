package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/postform/postform/audit"
)

// AuditPath is the local audit trail, beside the state file: one JSON
// entry per line, appended, never rewritten.
func (b *Local) AuditPath() string { return b.path + ".audit" }
func (b *Local) auditRel() string  { return b.rel + ".audit" }

// AppendAudit appends line to the audit file and fsyncs it. The file is
// opened O_APPEND through the working directory's confined writer, never
// through a link. A torn last line (a crash mid-append) is ended first, so
// that it stays one bad line that verification names.
func (b *Local) AppendAudit(ctx context.Context, seq uint64, line []byte) error {
	f, err := b.fs.OpenFile(b.auditRel(), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening the audit trail %s: %w", b.AuditPath(), err)
	}
	defer f.Close()
	var end int64
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			if _, err := f.Write([]byte("\n")); err != nil {
				return fmt.Errorf("appending to the audit trail %s: %w", b.AuditPath(), err)
			}
		}
		end = fi.Size()
	}
	// The line, then its newline: not a copy of a line of 100,000
	// letters. Nothing is durable before the fsync below; a crash between
	// the two writes leaves a whole entry without its newline, which the
	// next append ends as it ends a torn one.
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("appending to the audit trail %s: %w", b.AuditPath(), err)
	}
	if _, err := f.Write([]byte("\n")); err != nil {
		return fmt.Errorf("appending to the audit trail %s: %w", b.AuditPath(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing the audit trail %s: %w", b.AuditPath(), err)
	}
	if end == 0 {
		// A new file: its folder entry must be durable too.
		return b.fs.SyncDir(b.auditRel())
	}
	return nil
}

// ReadAudit returns the audit file's lines; no file is no entry.
func (b *Local) ReadAudit(ctx context.Context) ([][]byte, error) {
	data, err := b.fs.ReadFile(b.auditRel())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail %s: %w", b.AuditPath(), err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// LastAudit returns the last line of the audit file that audit.Append
// would chain to, the last that reads as an entry with a hash (a torn or
// altered one is skipped, as Append skips it among every line ReadAudit
// gives), reading the file from its end: a trail of applies of 100,000
// letters is tens of megabytes an entry. nil when there is none.
func (b *Local) LastAudit(ctx context.Context) ([]byte, error) {
	f, err := b.fs.Open(b.auditRel())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail %s: %w", b.AuditPath(), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail %s: %w", b.AuditPath(), err)
	}
	// tail holds the file's bytes from start to its end; end is where the
	// lines not yet looked at end.
	start, end := fi.Size(), fi.Size()
	var tail []byte
	for {
		for end > start && tail[end-start-1] == '\n' {
			end--
		}
		i := -1
		if end > start {
			i = bytes.LastIndexByte(tail[:end-start], '\n')
		}
		if i < 0 && start > 0 {
			n := min(start, max(64<<10, int64(len(tail))))
			more := make([]byte, n+int64(len(tail)))
			if _, err := f.ReadAt(more[:n], start-n); err != nil {
				return nil, fmt.Errorf("reading the audit trail %s: %w", b.AuditPath(), err)
			}
			copy(more[n:], tail)
			tail, start = more, start-n
			continue
		}
		if end == start {
			return nil, nil // start is 0: no line left
		}
		line := tail[i+1 : end-start]
		if _, _, ok := audit.Link(line); ok {
			return bytes.Clone(line), nil
		}
		end = start + int64(i) + 1
	}
}

// DescribeAudit names where the audit trail is kept.
func (b *Local) DescribeAudit() string { return b.AuditPath() }
