package state

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/postform/postform/audit"
)

// lastByReadAudit is what audit.Append chains to when it reads every line.
func lastByReadAudit(t *testing.T, b *Local) []byte {
	lines, err := b.ReadAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if _, _, ok := audit.Link(lines[i]); ok {
			return lines[i]
		}
	}
	return nil
}

// LastAudit, reading from the end, finds the line reading them all finds,
// in trails of entries long and short, torn, altered, blank lines, with or
// without the last newline.
func TestLastAuditMatchesReadAudit(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 150 {
		dir := t.TempDir()
		b := open(t, Config{Dir: dir}).(*Local)
		var file bytes.Buffer
		for range r.IntN(6) {
			e := auditEntryOf(r.IntN(3) * r.IntN(1200)) // up to ~300 KB a line
			e.Seq, e.Hash = uint64(r.IntN(9)), strings.Repeat("ab", r.IntN(2)*32)
			line, _ := json.Marshal(e)
			switch r.IntN(6) {
			case 0:
				line = line[:r.IntN(len(line)+1)] // torn
			case 1:
				line = bytes.Replace(line, []byte(`"time":"`), []byte(`"time":"x`), 1) // altered
			}
			file.Write(line)
			file.WriteString(strings.Repeat("\n", r.IntN(3)))
		}
		if err := os.WriteFile(b.AuditPath(), file.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := b.LastAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := lastByReadAudit(t, b); !bytes.Equal(got, want) {
			t.Fatalf("round %d: LastAudit = %.80q…, reading every line finds %.80q…", round, got, want)
		}
	}
}

// An append after a torn entry ends it and chains to the one before;
// the trail verifies but for the torn line.
func TestAppendAuditChainsPastATornEntry(t *testing.T) {
	ctx := context.Background()
	b := open(t, Config{Dir: t.TempDir()}).(*Local)
	first, err := audit.Append(ctx, b, auditEntryOf(3))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(b.AuditPath(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"v":1,"seq":2,"prev":"`)
	f.Close()
	next, err := audit.Append(ctx, b, auditEntryOf(2))
	if err != nil {
		t.Fatal(err)
	}
	if next.Seq != 2 || next.Prev != first.Hash {
		t.Fatalf("chained as seq %d after %q, want 2 after %q", next.Seq, next.Prev, first.Hash)
	}
	lines, _ := b.ReadAudit(ctx)
	if len(lines) != 3 || !bytes.HasSuffix(lines[1], []byte(`"prev":"`)) {
		t.Fatalf("the torn entry is not a line of its own: %q", lines)
	}
}

// audit.Link, which LastAudit and audit.Append chain by, decodes less than
// an audit.Entry but accepts and refuses the same lines, with the same Seq
// and Hash: it is compared with decoding an audit.Entry on entries whose
// letters and addresses have values of every JSON type.
func TestChainableMatchesEntryDecoding(t *testing.T) {
	values := []string{`"s"`, `null`, `1`, `true`, `{}`, `[]`, `"\u00e9"`, `{"address":1}`, `[1]`, `""`}
	for _, tmpl := range []string{
		`{"hash":"h","letters":[{"address":%s}]}`, `{"hash":"h","letters":[{"job_id":%s,"status":"posted"}]}`,
		`{"hash":"h","letters":%s}`, `{"hash":"h","letters":[%s]}`, `{"hash":"h","addresses":[%s]}`,
		`{"hash":"h","addresses":%s}`, `{"hash":%s,"letters":[]}`, `{"hash":"h","LETTERS":[{"Address":%s}]}`,
		`{"hash":"h","seq":%s}`, `{"hash":"h","ci":%s}`,
	} {
		for _, v := range values {
			line := []byte(strings.Replace(tmpl, "%s", v, 1))
			var e audit.Entry
			want := json.Unmarshal(line, &e) == nil && e.Hash != ""
			seq, hash, got := audit.Link(line)
			if got != want || (got && (seq != e.Seq || hash != e.Hash)) {
				t.Errorf("audit.Link(%s) = %d, %q, %v; decoding an Entry says %d, %q, %v", line, seq, hash, got, e.Seq, e.Hash, want)
			}
		}
	}
}
