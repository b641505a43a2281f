package state

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/postform/postform/audit"
)

// auditEntryOf is the entry of an apply that posted n letters.
func auditEntryOf(n int) audit.Entry {
	e := audit.Entry{Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Action: "apply", User: "bench", PostformVersion: "dev"}
	e.Letters = make([]audit.Letter, n)
	for i := range e.Letters {
		e.Letters[i] = audit.Letter{Address: addrOf(i), JobID: fmt.Sprintf("J-%08d", i), JobName: fmt.Sprintf("reminder-2026-11-%06d", i), ContentHash: fmt.Sprintf("sha256:%064x", i), Status: "posted"}
	}
	return e
}

// BenchmarkAppendAudit appends the entry of an apply of n letters to a
// local trail that already holds one such entry.
func BenchmarkAppendAudit(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			be, err := Open(Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			store := be.(audit.Store)
			e := auditEntryOf(n)
			if _, err := audit.Append(ctx, store, e); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := audit.Append(ctx, store, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
