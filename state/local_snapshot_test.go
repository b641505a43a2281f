package state

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"testing"
)

// snapshotIs fails unless the state file holds exactly Encode of s with
// serial.
func snapshotIs(t *testing.T, b Backend, s *State, serial uint64) {
	t.Helper()
	got, err := os.ReadFile(b.(*Local).Path())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := encodeWithSerial(s, serial)
	if !bytes.Equal(got, want) {
		t.Fatalf("the snapshot is not the state's encoding with serial %d:\n%.300s", serial, got)
	}
}

// Each way a Persist goes: records in the journal and a change (the
// apply's: one streamed write), records already in the baseline (the
// journal of an earlier run, replayed at load: written again with the
// serial kept), no journal and a change (digest first), nothing at all
// (nothing written).
func TestPersistStreamsEveryCase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, Config{Dir: dir})
	s := load(t, b)
	for i := range 50 {
		recordMailing(t, b, s, testMailing(addrOf(i), i))
	}
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	snapshotIs(t, b, s, 51)

	// A journal left by a run that did not persist: its records are the
	// loaded state's baseline, so folding them changes no serial.
	recordMailing(t, b, s, testMailing(addrOf(50), 50))
	b2 := open(t, Config{Dir: dir})
	s2 := load(t, b2)
	if s2.Serial != 52 {
		t.Fatalf("loaded serial %d, want 52", s2.Serial)
	}
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	snapshotIs(t, b2, s2, 52)
	if _, err := os.Stat(b2.(*Local).journalPath()); !os.IsNotExist(err) {
		t.Fatalf("the journal is still there: %v", err)
	}
	if s2.Serial != 52 {
		t.Fatalf("serial %d after a fold of nothing new, want 52", s2.Serial)
	}

	// Nothing new, no journal: nothing written.
	before := b2.(*Local).BytesWritten()
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if n := b2.(*Local).BytesWritten() - before; n != 0 {
		t.Fatalf("a Persist of nothing new wrote %d bytes", n)
	}

	// A change without a record (a state edit): the serial is bumped.
	delete(s2.Mailings, addrOf(3))
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	snapshotIs(t, b2, s2, 53)
	if got := load(t, open(t, Config{Dir: dir})); got.Serial != 53 || len(got.Mailings) != 50 {
		t.Fatalf("read back serial %d and %d letters, want 53 and 50", got.Serial, len(got.Mailings))
	}
}

// Persist streams the snapshot: it allocates much less than the file it
// writes (it used to build the encoding whole, then a copy with the serial).
func TestPersistDoesNotHoldTheSnapshot(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's own allocations are counted too")
	}
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, Config{Dir: dir})
	s := load(t, b)
	const n = 5000
	for i := range n {
		s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
	}
	recordMailing(t, b, s, testMailing(addrOf(n), n)) // the apply's path: a journal
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	fi, err := os.Stat(b.(*Local).Path())
	if err != nil {
		t.Fatal(err)
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > uint64(fi.Size())/2 {
		t.Errorf("Persist of a %d-byte snapshot allocated %d bytes", fi.Size(), alloc)
	}
}
