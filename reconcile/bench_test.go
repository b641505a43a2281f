package reconcile_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// planInputs returns a configuration of n mailings and a state recording
// each of them as posted and terminal with the same content: a plan of n
// no-ops, the common case of a large mail merge after its first apply.
func planInputs(n int) (*config.Config, *state.State) {
	cfg := &config.Config{}
	st := state.New("00000000-0000-0000-0000-000000000000")
	st.Serial = 1
	posted := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("c%06d", i)
		addr := fmt.Sprintf("mailing.letter[%q]", key)
		sha := fmt.Sprintf("%064x", i)
		hash := fmt.Sprintf("%064x", i+1<<40)
		m := &config.Mailing{
			Address: addr, Name: "letter", Key: key, HasKey: true,
			Service: "Lettre simple", JobName: "bench-" + key,
			Documents:   []*config.Document{{File: "letters/" + key + ".pdf", SHA256: sha, Size: 900, Pages: 1}},
			Proofs:      config.DefaultProofs,
			ContentHash: hash,
		}
		cfg.Mailings = append(cfg.Mailings, m)
		st.Mailings[addr] = &state.Mailing{
			Address: addr, Phase: state.PhasePosted, ContentHash: hash, JobName: m.JobName,
			Service: m.Service, Documents: []state.Document{{File: m.Documents[0].File, SHA256: sha, Size: 900, Pages: 1}},
			JobID: fmt.Sprint(80000 + i), SubmittedAt: posted, JobStatus: "COMPLETED", Terminal: true,
		}
	}
	return cfg, st
}

// BenchmarkMakePlan10000 diffs 10,000 configured mailings against a state
// holding all of them, unchanged.
func BenchmarkMakePlan10000(b *testing.B) {
	cfg, st := planInputs(10000)
	b.ReportAllocs()
	for b.Loop() {
		p := reconcile.MakePlan(cfg, st, reconcile.PlanOptions{})
		if p.HasChanges() || len(p.Changes) != 10000 {
			b.Fatalf("unexpected plan: %+v", p.Counts())
		}
	}
}

// BenchmarkPlanDocument10000 builds the reviewable document (what plan
// --json, --markdown, --out and the human view all start from).
func BenchmarkPlanDocument10000(b *testing.B) {
	cfg, st := planInputs(10000)
	p := reconcile.MakePlan(cfg, st, reconcile.PlanOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if doc := p.Document("bench", reconcile.PlanOptions{}); doc == nil {
			b.Fatal("no document")
		}
	}
}

// BenchmarkConfigHash10000 hashes 10,000 mailings' canonical encoding.
func BenchmarkConfigHash10000(b *testing.B) {
	cfg, _ := planInputs(10000)
	b.ReportAllocs()
	for b.Loop() {
		if len(reconcile.ConfigHash(cfg)) != 64 {
			b.Fatal("no hash")
		}
	}
}

// BenchmarkMakePlanNew10000 plans 10,000 letters the state does not hold
// yet: the first apply of a mail merge.
func BenchmarkMakePlanNew10000(b *testing.B) {
	cfg, _ := planInputs(10000)
	st := state.New("00000000-0000-0000-0000-000000000000")
	b.ReportAllocs()
	for b.Loop() {
		p := reconcile.MakePlan(cfg, st, reconcile.PlanOptions{MaxPosts: 10000})
		if c := p.Counts(); c.Post != 10000 {
			b.Fatalf("unexpected plan: %+v", c)
		}
	}
}
