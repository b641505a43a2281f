package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	buf := make([]byte, 0, len(line)+2)
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			buf = append(buf, '\n')
		}
	}
	buf = append(append(buf, line...), '\n')
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("appending to the audit trail %s: %w", b.AuditPath(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing the audit trail %s: %w", b.AuditPath(), err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() == int64(len(buf)) {
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

// DescribeAudit names where the audit trail is kept.
func (b *Local) DescribeAudit() string { return b.AuditPath() }
