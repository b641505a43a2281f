package state

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withFold sets the fold threshold (foldFloor, foldRatio) for one test.
// The package's tests do not run in parallel.
func withFold(t *testing.T, floor, ratio int64) {
	t.Helper()
	oldFloor, oldRatio := foldFloor, foldRatio
	foldFloor, foldRatio = floor, ratio
	t.Cleanup(func() { foldFloor, foldRatio = oldFloor, oldRatio })
}

// foldState is mostly terminal letters and a few unfinished ones, the
// shape PersistChanged is for: a refresh changes only the unfinished.
func foldState() (*State, []string) {
	s := terminalState(40)
	var unfinished []string
	for i := 100; i < 104; i++ {
		s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
		unfinished = append(unfinished, addrOf(i))
	}
	return s, unfinished
}

// refreshed is what a refresh of m learns: a later time and a status.
func refreshed(m *Mailing, run int) *Mailing {
	c := m.Clone()
	c.LastRefreshed = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(run) * time.Minute)
	c.JobStatus = "PACK_GROUP_CREATED"
	return c
}

// Below the threshold, the letters a run changed go to the journal and the
// snapshot stays byte for byte as it was; a new load sees them. Once the
// journal would outgrow its share of the snapshot, everything is folded
// into a new snapshot and the journal is gone. The serial goes up by one
// per run that changed something, and not at all otherwise.
func TestPersistChangedAppendsUntilTheFold(t *testing.T) {
	ctx := context.Background()
	withFold(t, 1, 8)
	dir := t.TempDir()
	s, unfinished := foldState()
	be := open(t, Config{Dir: dir})
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	be.Close()
	path := be.(*Local).Path()
	snapshot, _ := os.ReadFile(path)
	want, _ := Decode(snapshot)

	appended := 0
	for run := 1; ; run++ {
		be := open(t, Config{Dir: dir}).(*Local)
		got, err := LoadForPlan(ctx, be)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(encode(t, got), encode(t, want)) {
			t.Fatalf("run %d: the state loaded is not the one persisted", run)
		}
		// A run that learned nothing writes nothing.
		if err := be.PersistChanged(ctx, got, nil); err != nil || be.BytesWritten() != 0 || got.Serial != want.Serial {
			t.Fatalf("run %d: PersistChanged of nothing: %v, %d bytes written, serial %d (was %d)", run, err, be.BytesWritten(), got.Serial, want.Serial)
		}
		changed := unfinished[run%2 : run%2+2]
		for _, a := range changed {
			got.Mailings[a] = refreshed(got.Mailings[a], run)
			want.Mailings[a] = refreshed(want.Mailings[a], run)
		}
		if err := be.PersistChanged(ctx, got, changed); err != nil {
			t.Fatal(err)
		}
		want.Serial++
		if got.Serial != want.Serial {
			t.Fatalf("run %d: serial %d, want %d", run, got.Serial, want.Serial)
		}
		be.Close()
		now, _ := os.ReadFile(path)
		if _, err := os.Stat(path + ".journal"); err == nil {
			if !bytes.Equal(now, snapshot) {
				t.Fatalf("run %d: the snapshot was rewritten and the journal kept", run)
			}
			appended++
			continue
		}
		// Folded: the snapshot holds everything.
		if appended < 2 {
			t.Fatalf("folded after %d appended runs: the threshold allowed more", appended)
		}
		folded, err := Decode(now)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(encode(t, folded), encode(t, want)) {
			t.Fatalf("run %d: the folded snapshot is not the state", run)
		}
		return
	}
}

// A small snapshot (under foldFloor) is folded every time, as Persist does.
func TestPersistChangedFoldsASmallState(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, unfinished := foldState()
	be := open(t, Config{Dir: dir}).(*Local)
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Mailings[unfinished[0]] = refreshed(s.Mailings[unfinished[0]], 1)
	if err := be.PersistChanged(ctx, s, unfinished[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(be.Path() + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a %d-letter state kept a journal (%v)", len(s.Mailings), err)
	}
	data, _ := os.ReadFile(be.Path())
	if !bytes.Equal(data, encode(t, s)) {
		t.Fatal("the snapshot is not the state")
	}
}

// A load that replays a journal leaves its baseline to the Persist that
// needs it, and that baseline is the state as loaded: folding a journal
// that changed nothing since does not bump the serial. A journal cut short
// in between is refused, and the snapshot is left as it was.
func TestReplayedBaselineIsTheStateAsLoaded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, unfinished := foldState()
	be := open(t, Config{Dir: dir})
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Mailings[unfinished[0]] = refreshed(s.Mailings[unfinished[0]], 1)
	if err := be.Record(ctx, s, unfinished[0]); err != nil {
		t.Fatal(err)
	}
	be.Close()
	path := be.(*Local).Path()
	snapshot, _ := os.ReadFile(path)
	journal, _ := os.ReadFile(path + ".journal")

	for _, lazy := range []bool{false, true} {
		l := open(t, Config{Dir: dir}).(*Local)
		got := load(t, l)
		if lazy {
			var err error
			if got, err = LoadForPlan(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if l.baselineLater == nil {
			t.Fatalf("lazy %v: the load that replayed the journal computed its baseline: the test checks nothing", lazy)
		}
		os.WriteFile(path+".journal", journal[:len(journal)/2], 0o644)
		err := l.Persist(ctx, got)
		if err == nil || !strings.Contains(err.Error(), "shorter") {
			t.Fatalf("lazy %v: Persist after the journal was cut = %v", lazy, err)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, snapshot) {
			t.Fatalf("lazy %v: the refused Persist changed the snapshot", lazy)
		}
		os.WriteFile(path+".journal", journal, 0o644)
		l.Close()
	}

	l := open(t, Config{Dir: dir}).(*Local)
	got, err := LoadForPlan(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	serial := got.Serial
	if err := l.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.Serial != serial {
		t.Fatalf("folding a journal of nothing new: serial %d, want %d", got.Serial, serial)
	}
	if _, err := os.Stat(path + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the journal was not folded")
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(now, encode(t, s)) {
		t.Fatal("the folded snapshot is not the state as recorded")
	}
}
