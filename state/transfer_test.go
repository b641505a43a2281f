package state

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/postform/postform/internal/pgtest"
)

// TestMigrateLocalPGLocal moves a state with a pending journal from local to
// pg and back; every Pull must be byte for byte the same.
func TestMigrateLocalPGLocal(t *testing.T) {
	ctx := context.Background()
	src := open(t, Config{Dir: t.TempDir()})
	s := load(t, src)
	for i := range 50 {
		s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
	}
	if err := src.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Mailings["mailing.pending"] = &Mailing{Phase: PhasePending, JobName: "j", AttemptedAt: time.Now().UTC()}
	if err := src.Record(ctx, s, "mailing.pending"); err != nil {
		t.Fatal(err)
	}
	first, err := Pull(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	pg := open(t, Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)})
	if err := Push(ctx, pg, first, false); err != nil {
		t.Fatal(err)
	}
	mid, err := Pull(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	dst := open(t, Config{Dir: t.TempDir()})
	if err := Push(ctx, dst, mid, false); err != nil {
		t.Fatal(err)
	}
	last, err := Pull(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, mid) || !bytes.Equal(first, last) {
		t.Errorf("the state changed on its way:\n%s\n---\n%s\n---\n%s", first, mid, last)
	}
	if snap, _ := os.ReadFile(dst.(*Local).Path()); !bytes.Equal(snap, first) {
		t.Error("the local snapshot is not the pushed state file")
	}
}
