package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/postform/postform/reconcile"
)

// countingWriter counts the writes made to it.
type countingWriter struct {
	writes int
	bytes.Buffer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

func postingPlan(n int) *reconcile.PlanDocument {
	doc := &reconcile.PlanDocument{Summary: reconcile.PlanSummary{Post: n, MaxPosts: n, MaxPostsFrom: reconcile.LimitFlag}}
	for i := range n {
		doc.Changes = append(doc.Changes, reconcile.PlanChange{Address: fmt.Sprintf("mailing.letter[%q]", fmt.Sprintf("c%06d", i)),
			Action: reconcile.ActionCreate, Reason: "new letter", JobName: fmt.Sprintf("bench-c%06d", i), Service: "Lettre simple",
			Files: []reconcile.PlanFile{{File: fmt.Sprintf("letters/c%06d.pdf", i), SHA256: fmt.Sprintf("%064x", i), Size: 1800, Pages: 1,
				Recipient: &reconcile.PlanRecipient{Lines: []string{fmt.Sprintf("Customer %06d", i), "1 rue de la Paix", "75001 PARIS"}}}}})
		if i%3 == 0 {
			doc.Changes = append(doc.Changes, reconcile.PlanChange{Address: fmt.Sprintf("mailing.old[%d]", i), Action: reconcile.ActionNoop, Reason: "posted; up to date"})
			doc.Summary.NoOp++
		}
	}
	return doc
}

// A plan is printed in a few large writes, not a write a line: on a
// terminal or a pipe each is a system call, and a plan may hold 100,000
// letters.
func TestWritePlanIsBuffered(t *testing.T) {
	doc := postingPlan(1000)
	var out countingWriter
	(&globals{noColor: true}).writePlan(&out, doc)
	if lines := strings.Count(out.String(), "\n"); lines < 4000 || out.writes > lines/50 {
		t.Fatalf("%d lines printed in %d writes", lines, out.writes)
	}
	if strings.Contains(out.String(), "mailing.old") || !strings.HasSuffix(out.String(), "(no pricing block is configured).\n") {
		t.Fatalf("the plan printed is not the plan:\n%s", out.String())
	}
}

// BenchmarkWritePlan10000 prints the human view of 10,000 letters to post
// (the plan of a mail merge's first apply).
func BenchmarkWritePlan10000(b *testing.B) {
	doc := postingPlan(10000)
	g := &globals{noColor: true}
	b.ReportAllocs()
	for b.Loop() {
		g.writePlan(io.Discard, doc)
	}
}
