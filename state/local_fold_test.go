package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
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
		if err := be.PersistChanged(ctx, got, nil, true); err != nil || be.BytesWritten() != 0 || got.Serial != want.Serial {
			t.Fatalf("run %d: PersistChanged of nothing: %v, %d bytes written, serial %d (was %d)", run, err, be.BytesWritten(), got.Serial, want.Serial)
		}
		changed := unfinished[run%2 : run%2+2]
		for _, a := range changed {
			got.Mailings[a] = refreshed(got.Mailings[a], run)
			want.Mailings[a] = refreshed(want.Mailings[a], run)
		}
		if err := be.PersistChanged(ctx, got, changed, true); err != nil {
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
	if err := be.PersistChanged(ctx, s, unfinished[:1], true); err != nil {
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

// A fold told which letters changed copies every other letter's line from
// the old snapshot, byte for byte, and encodes only the letters recorded
// since or named: the result is Encode's bytes, except that a line the old
// file spelled otherwise stays as it was, which shows the copy. An old
// file not laid out as Encode lays it out, or changed since it was read,
// is encoded in full from memory.
func TestMergedSnapshotIsTheEncoding(t *testing.T) {
	ctx := context.Background()
	withFold(t, 1<<40, 16) // every PersistChanged folds
	base, unfinished := foldState()
	untouched := addrOf(7) // a terminal letter, lazy in a plan-only load
	canonical := encode(t, base)
	odd := bytes.Replace(canonical, []byte(`{"address":"`+strings.ReplaceAll(untouched, `"`, `\"`)+`"`),
		[]byte(`{"address": "`+strings.ReplaceAll(untouched, `"`, `\"`)+`"`), 1)
	if bytes.Equal(odd, canonical) {
		t.Fatal("no line to spell otherwise")
	}
	outOfOrder := swapLines(t, odd, 3, 4)

	for _, tc := range []struct {
		name     string
		file     []byte
		lazy     bool
		rewrite  []byte // the snapshot as someone else rewrote it after the load
		keepsOdd bool
	}{
		{name: "full load", file: odd, keepsOdd: true},
		{name: "plan-only load", file: odd, lazy: true, keepsOdd: true},
		{name: "keys out of order", file: outOfOrder, lazy: true},
		{name: "file changed since", file: canonical, rewrite: odd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			be := open(t, Config{Dir: dir}).(*Local)
			if err := os.WriteFile(be.Path(), tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			s := load(t, be)
			if tc.lazy {
				var err error
				if s, err = LoadForPlan(ctx, be); err != nil {
					t.Fatal(err)
				}
				if s.Mailings[untouched].DetailLoaded() {
					t.Fatal("the untouched letter was decoded in full: the test checks less than it says")
				}
			}
			want, _ := Decode(canonical)
			change := func(addr string, m *Mailing) {
				if m == nil {
					delete(s.Mailings, addr)
					delete(want.Mailings, addr)
					return
				}
				s.Mailings[addr], want.Mailings[addr] = m, m.Clone()
			}
			// Recorded: a letter refreshed, a letter removed.
			change(unfinished[0], refreshed(s.Mailings[unfinished[0]], 1))
			change(addrOf(3), nil)
			if err := be.Record(ctx, s, unfinished[0], addrOf(3)); err != nil {
				t.Fatal(err)
			}
			// Named: a letter refreshed, a letter added, in memory only.
			change(unfinished[1], refreshed(s.Mailings[unfinished[1]], 2))
			change(addrOf(5000), testMailing(addrOf(5000), 5000))
			if tc.rewrite != nil {
				os.WriteFile(be.Path(), tc.rewrite, 0o644)
			}
			if err := be.PersistChanged(ctx, s, []string{unfinished[1], addrOf(5000)}, false); err != nil {
				t.Fatal(err)
			}
			want.Serial = s.Serial
			expect := encode(t, want)
			if tc.keepsOdd {
				expect = bytes.Replace(expect, []byte(`{"address":"`+strings.ReplaceAll(untouched, `"`, `\"`)+`"`),
					[]byte(`{"address": "`+strings.ReplaceAll(untouched, `"`, `\"`)+`"`), 1)
			}
			got, _ := os.ReadFile(be.Path())
			if !bytes.Equal(got, expect) {
				t.Fatalf("the folded snapshot is not the expected bytes:\n%s", firstDifference(got, expect))
			}
			if _, err := os.Stat(be.Path() + ".journal"); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("the journal was not folded")
			}
			// The old file's bytes are kept for the details still lazy.
			if m := s.Mailings[untouched]; !m.DetailLoaded() {
				if err := m.LoadDetail(); err != nil || len(m.Proofs) != 3 {
					t.Fatalf("a lazy letter after the fold: %v, %d proofs", err, len(m.Proofs))
				}
			}
			// And a second fold copies from the new file.
			change(unfinished[2], refreshed(s.Mailings[unfinished[2]], 3))
			if err := be.PersistChanged(ctx, s, []string{unfinished[2]}, true); err != nil {
				t.Fatal(err)
			}
			want.Serial = s.Serial
			expect = encode(t, want)
			if tc.keepsOdd {
				expect = bytes.Replace(expect, []byte(`{"address":"`+strings.ReplaceAll(untouched, `"`, `\"`)+`"`),
					[]byte(`{"address": "`+strings.ReplaceAll(untouched, `"`, `\"`)+`"`), 1)
			}
			if got, _ := os.ReadFile(be.Path()); !bytes.Equal(got, expect) {
				t.Fatalf("the second fold:\n%s", firstDifference(got, expect))
			}
		})
	}
}

// swapLines swaps the letters' lines i and j of an encoded state (keeping
// the commas where they were).
func swapLines(t *testing.T, enc []byte, i, j int) []byte {
	t.Helper()
	lines := bytes.Split(enc, []byte("\n"))
	const first = 5 // version, lineage, serial, mailings follow "{"
	a, b := lines[first+i], lines[first+j]
	if !bytes.HasPrefix(a, []byte(`    "`)) || !bytes.HasPrefix(b, []byte(`    "`)) || !bytes.HasSuffix(a, []byte(",")) || !bytes.HasSuffix(b, []byte(",")) {
		t.Fatalf("lines %d and %d are not letters' lines: %.40q / %.40q", i, j, a, b)
	}
	out := slices.Clone(lines)
	out[first+i], out[first+j] = b, a
	return bytes.Join(out, []byte("\n"))
}

// firstDifference shows where two encodings part.
func firstDifference(got, want []byte) string {
	n := 0
	for n < len(got) && n < len(want) && got[n] == want[n] {
		n++
	}
	from := max(n-80, 0)
	return fmt.Sprintf("at byte %d of %d (want %d):\n got %q\nwant %q", n, len(got), len(want), got[from:min(n+80, len(got))], want[from:min(n+80, len(want))])
}

// Random runs of records and named changes (letters refreshed, added,
// removed) on a state loaded in full or for a plan: each fold told which
// letters changed writes exactly Encode's bytes of the state in memory.
func TestMergedSnapshotRandom(t *testing.T) {
	ctx := context.Background()
	withFold(t, 1<<40, 16)
	r := rand.New(rand.NewPCG(18, 6))
	for run := range 60 {
		dir := t.TempDir()
		be := open(t, Config{Dir: dir}).(*Local)
		base := New("7f1c2a9e-0b4d-4e5f-8a6b-1c2d3e4f5a6b")
		for i := range 10 + r.IntN(40) {
			if r.IntN(2) == 0 {
				base.Mailings[addrOf(i*3)] = terminalMailing(addrOf(i*3), i*3)
			} else {
				base.Mailings[addrOf(i*3)] = testMailing(addrOf(i*3), i*3)
			}
		}
		if err := be.Persist(ctx, base); err != nil {
			t.Fatal(err)
		}
		for fold := range 3 {
			s := load(t, be)
			if r.IntN(2) == 0 {
				var err error
				if s, err = LoadForPlan(ctx, be); err != nil {
					t.Fatal(err)
				}
			}
			var named []string
			for range 1 + r.IntN(8) {
				addr := addrOf(r.IntN(160))
				var m *Mailing
				if r.IntN(4) > 0 {
					m = testMailing(addr, r.IntN(1000))
				}
				if m == nil {
					delete(s.Mailings, addr)
				} else {
					s.Mailings[addr] = m
				}
				if r.IntN(2) == 0 {
					if err := be.Record(ctx, s, addr); err != nil {
						t.Fatal(err)
					}
				} else {
					named = append(named, addr)
				}
			}
			if err := be.PersistChanged(ctx, s, named, false); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(be.Path())
			if want := encode(t, s); !bytes.Equal(got, want) {
				t.Fatalf("run %d, fold %d: the folded snapshot is not Encode's:\n%s", run, fold, firstDifference(got, want))
			}
			be.Close()
			be = open(t, Config{Dir: dir}).(*Local)
		}
	}
}

// Only a refresh's answers stay in the journal between runs: a run that
// recorded a letter's job (or anything else a refresh cannot learn again),
// or a journal left holding such a record, is folded, so the state file
// alone, copied without its journal, holds every letter posted.
func TestOnlyARefreshStaysInTheJournal(t *testing.T) {
	ctx := context.Background()
	withFold(t, 1, 4)
	dir := t.TempDir()
	base, unfinished := foldState()
	be := open(t, Config{Dir: dir}).(*Local)
	if err := be.Persist(ctx, base); err != nil {
		t.Fatal(err)
	}
	be.Close()
	path := be.Path()
	journal := func() bool { _, err := os.Stat(path + ".journal"); return err == nil }
	snapshotHolds := func(s *State) {
		t.Helper()
		data, _ := os.ReadFile(path)
		alone, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		for a, m := range s.Mailings {
			if !refreshedOnly(alone.Mailings[a], m) {
				t.Fatalf("the state file alone lacks %s as it is (job %s)", a, m.JobID)
			}
		}
	}
	run := func() (*Local, *State) {
		l := open(t, Config{Dir: dir}).(*Local)
		s, err := LoadForPlan(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		return l, s
	}

	// A refresh: kept in the journal, and again in the next run.
	for i := range 2 {
		l, s := run()
		s.Mailings[unfinished[i]] = refreshed(s.Mailings[unfinished[i]], i)
		if err := l.PersistChanged(ctx, s, unfinished[i:i+1], true); err != nil {
			t.Fatal(err)
		}
		if !journal() {
			t.Fatalf("refresh %d: folded, though only a refresh's answers changed", i)
		}
		snapshotHolds(s)
		l.Close()
	}

	// A run that recorded a job: folded, though it says refreshed only.
	l, s := run()
	posted := s.Mailings[unfinished[2]].Clone()
	posted.JobID = "J-new"
	s.Mailings[posted.Address] = posted
	if err := l.Record(ctx, s, posted.Address); err != nil {
		t.Fatal(err)
	}
	if err := l.PersistChanged(ctx, s, nil, true); err != nil {
		t.Fatal(err)
	}
	if journal() {
		t.Fatal("a run that recorded a job kept it in the journal")
	}
	snapshotHolds(s)
	l.Close()

	// A run that died after recording a job: the next one, a refresh,
	// folds that record into the snapshot.
	l, s = run()
	gone := s.Mailings[unfinished[3]].Clone()
	gone.JobID = "J-posted-before-the-crash"
	s.Mailings[gone.Address] = gone
	if err := l.Record(ctx, s, gone.Address); err != nil {
		t.Fatal(err)
	}
	l.Close() // no Persist: the crash
	l, s = run()
	if l.journalRefreshes {
		t.Fatal("a journal holding a job's record counts as refreshes only")
	}
	s.Mailings[unfinished[0]] = refreshed(s.Mailings[unfinished[0]], 9)
	if err := l.PersistChanged(ctx, s, unfinished[:1], true); err != nil {
		t.Fatal(err)
	}
	if journal() {
		t.Fatal("a refresh kept the crashed run's record of a job in the journal")
	}
	snapshotHolds(s)
	if s.Mailings[gone.Address].JobID != gone.JobID {
		t.Fatal("the crashed run's job was lost")
	}
}

// refreshedOnly tells a refresh's answers from what postform must keep.
func TestRefreshedOnly(t *testing.T) {
	base := terminalMailing(addrOf(1), 1)
	base.Superseded = []SupersededJob{{JobID: "J-old"}}
	for name, tc := range map[string]struct {
		edit func(m *Mailing)
		want bool
	}{
		"nothing": {func(m *Mailing) {}, true},
		"refresh fields": {func(m *Mailing) {
			m.JobStatus, m.Terminal, m.Problems, m.LastRefreshed = "X", false, []string{"p"}, time.Now()
		}, true},
		"proofs":        {func(m *Mailing) { m.Proofs, m.Deliveries, m.PackGroups = nil, nil, []PackGroup{{ID: "P"}} }, true},
		"job":           {func(m *Mailing) { m.JobID = "J-2" }, false},
		"phase":         {func(m *Mailing) { m.Phase = PhasePending }, false},
		"content":       {func(m *Mailing) { m.ContentHash = "sha256:x" }, false},
		"attempt":       {func(m *Mailing) { m.AttemptedAt = m.AttemptedAt.Add(time.Second) }, false},
		"documents":     {func(m *Mailing) { m.Documents = nil }, false},
		"recipient":     {func(m *Mailing) { m.Recipient = &Recipient{Lines: []string{"x"}} }, false},
		"options":       {func(m *Mailing) { m.Options = map[string]string{"a": "b"} }, false},
		"replaced jobs": {func(m *Mailing) { m.Superseded = append(m.Superseded, SupersededJob{JobID: "J-older"}) }, false},
	} {
		next := base.Clone()
		tc.edit(next)
		if got := refreshedOnly(base, next); got != tc.want {
			t.Errorf("%s: refreshedOnly = %v, want %v", name, got, tc.want)
		}
	}
	if refreshedOnly(nil, base) || refreshedOnly(base, nil) {
		t.Error("a letter added or removed counts as refreshed only")
	}
	// A letter whose replaced jobs are still JSON compares them too.
	data := encode(t, &State{Version: FormatVersion, Lineage: "l", Mailings: map[string]*Mailing{base.Address: base}})
	lazy, err := DecodeForPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	lm := lazy.Mailings[base.Address]
	if lm.DetailLoaded() {
		t.Fatal("decoded in full: the test checks less than it says")
	}
	if !refreshedOnly(lm, base) {
		t.Error("a lazily loaded letter differs from itself")
	}
	other := base.Clone()
	other.Superseded = nil
	if refreshedOnly(lm, other) {
		t.Error("a lazily loaded letter's replaced jobs were not compared")
	}
}

// A snapshot written by hand with two letters on one line is not copied
// from: a fold that removed the second would have brought it back.
func TestMergeRefusesTwoLettersOnALine(t *testing.T) {
	ctx := context.Background()
	withFold(t, 1<<40, 16)
	s, _ := foldState()
	enc := encode(t, s)
	joined := bytes.Replace(enc, []byte(",\n    \"mailing.reminder[\\\"customer-000004\\\"]\""), []byte(", \"mailing.reminder[\\\"customer-000004\\\"]\""), 1)
	if bytes.Equal(joined, enc) {
		t.Fatal("no two lines to join")
	}
	if _, ok := snapshotLetters(joined, false); ok {
		t.Fatal("snapshotLetters split a line of two letters as one")
	}
	dir := t.TempDir()
	be := open(t, Config{Dir: dir}).(*Local)
	if err := os.WriteFile(be.Path(), joined, 0o644); err != nil {
		t.Fatal(err)
	}
	got := load(t, be)
	delete(got.Mailings, addrOf(4))
	if err := be.Record(ctx, got, addrOf(4)); err != nil {
		t.Fatal(err)
	}
	if err := be.PersistChanged(ctx, got, nil, false); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(be.Path())
	if !bytes.Equal(after, encode(t, got)) {
		t.Fatalf("the fold of a hand-written file:\n%s", firstDifference(after, encode(t, got)))
	}
}
