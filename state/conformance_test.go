package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/postform/postform/internal/pgtest"
)

// harness adapts the conformance suite to one backend: where a fresh store
// is and how to reach behind the Backend interface to damage it.
type harness struct {
	name string
	// config returns the configuration of a new, empty store.
	config func(t *testing.T) Config
	// snapshot returns the stored snapshot bytes, nil when there is none.
	snapshot func(t *testing.T, cfg Config) []byte
	// setSnapshot replaces the stored snapshot bytes.
	setSnapshot func(t *testing.T, cfg Config, data []byte)
	// journalLen counts the records in the journal.
	journalLen func(t *testing.T, cfg Config) int
	// appendForeign adds a journal record of another lineage.
	appendForeign func(t *testing.T, cfg Config, lineage string)
	// appendRecord adds a journal record of m at serial, as a second writer
	// or a journal put back by hand would.
	appendRecord func(t *testing.T, cfg Config, lineage string, serial uint64, m *Mailing)
	// tearJournal appends half a record, as a crash mid-write leaves it;
	// nil where writes are transactional.
	tearJournal func(t *testing.T, cfg Config)
}

func localHarness() harness {
	path := func(cfg Config) string { return filepath.Join(cfg.Dir, DefaultPath) }
	return harness{
		name:   "local",
		config: func(t *testing.T) Config { return Config{Type: "local", Dir: t.TempDir()} },
		snapshot: func(t *testing.T, cfg Config) []byte {
			b, err := os.ReadFile(path(cfg))
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		setSnapshot: func(t *testing.T, cfg Config, data []byte) {
			if err := os.WriteFile(path(cfg), data, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		journalLen: func(t *testing.T, cfg Config) int {
			b, err := os.ReadFile(path(cfg) + ".journal")
			if errors.Is(err, os.ErrNotExist) {
				return 0
			}
			if err != nil {
				t.Fatal(err)
			}
			return bytes.Count(b, []byte("\n"))
		},
		appendForeign: func(t *testing.T, cfg Config, lineage string) {
			line, err := encodeJournalLine(lineage, 1000, []journalRecord{{Address: "mailing.intruder", Mailing: testMailing("mailing.intruder", 1)}})
			if err != nil {
				t.Fatal(err)
			}
			appendFile(t, path(cfg)+".journal", line)
		},
		appendRecord: func(t *testing.T, cfg Config, lineage string, serial uint64, m *Mailing) {
			line, err := encodeJournalLine(lineage, serial, []journalRecord{{Address: m.Address, Mailing: m}})
			if err != nil {
				t.Fatal(err)
			}
			appendFile(t, path(cfg)+".journal", line)
		},
		tearJournal: func(t *testing.T, cfg Config) {
			line, err := encodeJournalLine("whatever", 1000, []journalRecord{{Address: "mailing.torn", Mailing: testMailing("mailing.torn", 1)}})
			if err != nil {
				t.Fatal(err)
			}
			appendFile(t, path(cfg)+".journal", line[:len(line)/2])
		},
	}
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

func pgHarness() harness {
	conn := func(t *testing.T, cfg Config) *pgx.Conn {
		t.Helper()
		ctx := context.Background()
		c, err := pgx.Connect(ctx, cfg.ConnStr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		// Make sure the schema exists, as the backend would on first use.
		b, err := openPG(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := b.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	table := func(cfg Config, name string) string { return pgx.Identifier{cfg.SchemaName, name}.Sanitize() }
	ctx := context.Background()
	return harness{
		name: "pg",
		config: func(t *testing.T) Config {
			return Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
		},
		// The snapshot is the states row and the letters' rows, read here
		// without the backend and put together as the state file; a blob a
		// postform of schema 2 wrote (setSnapshot) as it is.
		snapshot: func(t *testing.T, cfg Config) []byte {
			c := conn(t, cfg)
			var data *string
			s := &State{Mailings: map[string]*Mailing{}}
			err := c.QueryRow(ctx, "SELECT data, coalesce(version, 0), lineage, serial, coalesce(postform_version, '') FROM "+table(cfg, "states")+" WHERE workspace = 'default'").
				Scan(&data, &s.Version, &s.Lineage, &s.Serial, &s.PostformVersion)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			if data != nil {
				return []byte(*data)
			}
			rows, err := c.Query(ctx, "SELECT address, mailing FROM "+table(cfg, "mailings")+" WHERE workspace = 'default'")
			if err != nil {
				t.Fatal(err)
			}
			var addr, m string
			_, err = pgx.ForEachRow(rows, []any{&addr, &m}, func() error {
				s.Mailings[addr], err = DecodeMailing(addr, []byte(m))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return encode(t, s)
		},
		// setSnapshot writes the state as a postform of schema 2 did: one
		// blob in the states row.
		setSnapshot: func(t *testing.T, cfg Config, data []byte) {
			_, err := conn(t, cfg).Exec(ctx, "INSERT INTO "+table(cfg, "states")+` (workspace, lineage, serial, data) VALUES ('default', 'x', 0, $1)
				ON CONFLICT (workspace) DO UPDATE SET data = EXCLUDED.data`, string(data))
			if err != nil {
				t.Fatal(err)
			}
		},
		journalLen: func(t *testing.T, cfg Config) int {
			var n int
			if err := conn(t, cfg).QueryRow(ctx, "SELECT count(DISTINCT serial) FROM "+table(cfg, "journal")).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
		appendForeign: func(t *testing.T, cfg Config, lineage string) {
			m, _ := json.Marshal(testMailing("mailing.intruder", 1))
			_, err := conn(t, cfg).Exec(ctx, "INSERT INTO "+table(cfg, "journal")+` (workspace, lineage, serial, address, mailing) VALUES ('default', $1, 1000, 'mailing.intruder', $2)`, lineage, string(m))
			if err != nil {
				t.Fatal(err)
			}
		},
		appendRecord: func(t *testing.T, cfg Config, lineage string, serial uint64, m *Mailing) {
			j, _ := json.Marshal(m)
			_, err := conn(t, cfg).Exec(ctx, "INSERT INTO "+table(cfg, "journal")+` (workspace, lineage, serial, address, mailing) VALUES ('default', $1, $2, $3, $4)`, lineage, int64(serial), m.Address, string(j))
			if err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestConformance runs the same behaviour tests against every backend.
func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T, harness)
	}{
		{"LoadNothing", testLoadNothing},
		{"RecordThenLoad", testRecordThenLoad},
		{"PersistFoldsJournal", testPersistFolds},
		{"SerialRules", testSerialRules},
		{"NewerVersionRefused", testNewerVersion},
		{"CorruptSnapshotRefused", testCorruptSnapshot},
		{"TornJournalTolerated", testTornJournal},
		{"ForeignJournalRefused", testForeignJournal},
		{"OutOfOrderRecordRefused", testOutOfOrderRecord},
		{"LockExcludes", testLockExcludes},
		{"LockWaits", testLockWaits},
		{"KilledHolderReleasesLock", testKilledHolder},
		{"ForceUnlock", testForceUnlock},
		{"ConcurrentRecord", testConcurrentRecord},
		{"KilledRecorderLosesNothing", testKilledRecorder},
		{"Workspaces", testWorkspaces},
		{"PushPull", testPushPull},
	}
	for _, h := range []harness{localHarness(), pgHarness()} {
		t.Run(h.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
			}
		})
	}
}

func open(t *testing.T, cfg Config) Backend {
	t.Helper()
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func load(t *testing.T, b Backend) *State {
	t.Helper()
	s, err := b.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func encode(t *testing.T, s *State) []byte {
	t.Helper()
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustContain(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func testLoadNothing(t *testing.T, h harness) {
	cfg := h.config(t)
	a := load(t, open(t, cfg))
	if _, err := uuid.Parse(a.Lineage); err != nil {
		t.Errorf("lineage %q is not a UUID", a.Lineage)
	}
	if a.Serial != 0 || len(a.Mailings) != 0 || a.Version != FormatVersion {
		t.Errorf("fresh state = serial %d, %d mailings, version %d", a.Serial, len(a.Mailings), a.Version)
	}
	b := load(t, open(t, cfg))
	if a.Lineage == b.Lineage {
		t.Error("two loads of nothing gave the same lineage")
	}
	if err := open(t, cfg).Persist(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if h.snapshot(t, cfg) != nil {
		t.Error("persisting an unchanged fresh state wrote a snapshot")
	}
}

func testRecordThenLoad(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	s.Mailings["mailing.b"] = testMailing("mailing.b", 2)
	if err := b.Record(ctx, s, "mailing.a", "mailing.b"); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 {
		t.Errorf("serial after one Record = %d, want 1", s.Serial)
	}
	if h.snapshot(t, cfg) != nil {
		t.Error("Record wrote a snapshot")
	}
	got := load(t, open(t, cfg))
	if !bytes.Equal(encode(t, got), encode(t, s)) {
		t.Errorf("a fresh backend loads\n%s\nwant\n%s", encode(t, got), encode(t, s))
	}
	// A removal is recorded too.
	delete(s.Mailings, "mailing.a")
	if err := b.Record(ctx, s, "mailing.a"); err != nil {
		t.Fatal(err)
	}
	got = load(t, open(t, cfg))
	if _, ok := got.Mailings["mailing.a"]; ok || got.Serial != 2 || len(got.Mailings) != 1 {
		t.Errorf("after recording a removal: serial %d, mailings %v", got.Serial, got.Addresses())
	}
}

func testPersistFolds(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	for i := range 3 {
		a := addrOf(i)
		s.Mailings[a] = testMailing(a, i)
		if err := b.Record(ctx, s, a); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.journalLen(t, cfg); n != 3 {
		t.Errorf("journal holds %d records, want 3", n)
	}
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 4 {
		t.Errorf("serial after 3 Records and a Persist = %d, want 4", s.Serial)
	}
	if n := h.journalLen(t, cfg); n != 0 {
		t.Errorf("journal holds %d records after Persist, want 0", n)
	}
	if snap := h.snapshot(t, cfg); !bytes.Equal(snap, encode(t, s)) {
		t.Errorf("snapshot\n%s\nwant\n%s", snap, encode(t, s))
	}
	got := load(t, open(t, cfg))
	if !bytes.Equal(encode(t, got), encode(t, s)) {
		t.Error("a fresh Load differs from the persisted state")
	}
	// Records after a Persist go on top of the snapshot.
	s.Mailings["mailing.late"] = testMailing("mailing.late", 9)
	if err := b.Record(ctx, s, "mailing.late"); err != nil {
		t.Fatal(err)
	}
	got = load(t, open(t, cfg))
	if got.Serial != 5 || got.Mailings["mailing.late"] == nil || len(got.Mailings) != 4 {
		t.Errorf("after a Record on a snapshot: serial %d, %v", got.Serial, got.Addresses())
	}
}

func testSerialRules(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 {
		t.Fatalf("serial after the first change = %d, want 1", s.Serial)
	}
	before := h.snapshot(t, cfg)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 || !bytes.Equal(before, h.snapshot(t, cfg)) {
		t.Errorf("an unchanged Persist bumped the serial to %d or rewrote the snapshot", s.Serial)
	}
	// A fresh run that learns nothing leaves the serial alone.
	b2 := open(t, cfg)
	s2 := load(t, b2)
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if s2.Serial != 1 {
		t.Errorf("a fresh run's unchanged Persist gave serial %d, want 1", s2.Serial)
	}
	// A change bumps it once.
	s2.Mailings["mailing.a"].JobStatus = "OUTPUTTED"
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if s2.Serial != 2 {
		t.Errorf("serial after a change = %d, want 2", s2.Serial)
	}
	// A run that finds a journal and changes nothing folds it without
	// bumping: the state it saw at serial N is still the state at serial N.
	s2.Mailings["mailing.b"] = testMailing("mailing.b", 2)
	if err := b2.Record(ctx, s2, "mailing.b"); err != nil {
		t.Fatal(err)
	}
	b3 := open(t, cfg)
	s3 := load(t, b3)
	if s3.Serial != 3 {
		t.Fatalf("serial after a Record = %d, want 3", s3.Serial)
	}
	if err := b3.Persist(ctx, s3); err != nil {
		t.Fatal(err)
	}
	if s3.Serial != 3 || h.journalLen(t, cfg) != 0 {
		t.Errorf("folding an unchanged journal: serial %d (want 3), journal %d", s3.Serial, h.journalLen(t, cfg))
	}
	if got := load(t, open(t, cfg)); got.Serial != 3 || len(got.Mailings) != 2 {
		t.Errorf("after folding: serial %d, %v", got.Serial, got.Addresses())
	}
}

func testNewerVersion(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	newer := []byte(`{"version": 2, "lineage": "0f0e0d0c-0000-4000-8000-000000000000", "serial": 9, "mailings": {"x": ["a format from the future"]}}` + "\n")
	h.setSnapshot(t, cfg, newer)
	b := open(t, cfg)
	_, err := b.Load(ctx)
	if !errors.Is(err, ErrNewerVersion) {
		t.Fatalf("Load = %v, want ErrNewerVersion", err)
	}
	mustContain(t, err, "format version 2", "upgrade postform")
	s := New("0f0e0d0c-0000-4000-8000-000000000000")
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	if err := b.Record(ctx, s, "mailing.a"); err == nil {
		t.Error("Record over a newer state succeeded")
	}
	if err := b.Persist(ctx, s); err == nil {
		t.Error("Persist over a newer state succeeded")
	}
	if got := h.snapshot(t, cfg); !bytes.Equal(got, newer) {
		t.Errorf("the newer state was changed:\n%s", got)
	}
}

func testCorruptSnapshot(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Mailings["mailing.b"] = testMailing("mailing.b", 2)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	good := h.snapshot(t, cfg)
	bad := good[:len(good)/2]
	h.setSnapshot(t, cfg, bad)
	b2 := open(t, cfg)
	_, err := b2.Load(ctx)
	mustContain(t, err, "corrupt", "line")
	if cfg.Type == "local" {
		mustContain(t, err, DefaultPath+".backup")
		backup, rerr := os.ReadFile(filepath.Join(cfg.Dir, DefaultPath+".backup"))
		if rerr != nil {
			t.Fatal(rerr)
		}
		if old, derr := Decode(backup); derr != nil || old.Serial != 1 {
			t.Errorf("the backup is not the previous snapshot: %v", derr)
		}
	}
	if err := b2.Persist(ctx, s); err == nil {
		t.Error("Persist over a corrupt state succeeded")
	}
	if err := b2.Record(ctx, s, "mailing.a"); err == nil {
		t.Error("Record over a corrupt state succeeded")
	}
	if got := h.snapshot(t, cfg); !bytes.Equal(got, bad) {
		t.Error("the corrupt state was changed")
	}
}

func testTornJournal(t *testing.T, h harness) {
	if h.tearJournal == nil {
		t.Skip("writes are transactional: no torn records")
	}
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	for i := range 2 {
		s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
		if err := b.Record(ctx, s, addrOf(i)); err != nil {
			t.Fatal(err)
		}
	}
	h.tearJournal(t, cfg)
	b2 := open(t, cfg)
	got := load(t, b2)
	if got.Serial != 2 || len(got.Mailings) != 2 {
		t.Errorf("with a torn last record: serial %d, %v", got.Serial, got.Addresses())
	}
	w := b2.(Warner).Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "torn") {
		t.Errorf("warnings = %q, want one about the torn record", w)
	}
	// The next Record cuts the torn bytes so the journal stays readable.
	got.Mailings["mailing.c"] = testMailing("mailing.c", 3)
	if err := b2.Record(ctx, got, "mailing.c"); err != nil {
		t.Fatal(err)
	}
	b3 := open(t, cfg)
	again := load(t, b3)
	if again.Serial != 3 || len(again.Mailings) != 3 || len(b3.(Warner).Warnings()) != 0 {
		t.Errorf("after recording past a torn record: serial %d, %v, warnings %q", again.Serial, again.Addresses(), b3.(Warner).Warnings())
	}
}

func testForeignJournal(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	snap := h.snapshot(t, cfg)
	other := uuid.NewString()
	h.appendForeign(t, cfg, other)
	b2 := open(t, cfg)
	_, err := b2.Load(ctx)
	mustContain(t, err, "lineage", other, s.Lineage, "journal")
	if cfg.Type == "local" {
		mustContain(t, err, DefaultPath+".journal")
	}
	if err := b2.Persist(ctx, s); err == nil {
		t.Error("Persist with a foreign journal succeeded")
	}
	if !bytes.Equal(snap, h.snapshot(t, cfg)) {
		t.Error("the snapshot was changed")
	}
}

// A record whose serial an earlier record already has is refused by both
// backends' replay: two writers claimed the serial, and which of them is
// right cannot be guessed.
func testOutOfOrderRecord(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	for i, addr := range []string{"mailing.a", "mailing.b"} {
		s.Mailings[addr] = testMailing(addr, i+1)
		if err := b.Record(ctx, s, addr); err != nil {
			t.Fatal(err)
		}
	}
	if s.Serial != 2 {
		t.Fatalf("serial after two records = %d, want 2", s.Serial)
	}
	// In order, a further record is replayed.
	h.appendRecord(t, cfg, s.Lineage, 3, testMailing("mailing.c", 3))
	if got := load(t, open(t, cfg)); got.Serial != 3 || len(got.Mailings) != 3 {
		t.Fatalf("an in-order record: serial %d, %v", got.Serial, got.Addresses())
	}
	// Serial 1 again, for the letter serial 1 recorded, with another job.
	other := testMailing("mailing.a", 99)
	h.appendRecord(t, cfg, s.Lineage, 1, other)
	_, err := open(t, cfg).Load(ctx)
	mustContain(t, err, "out of order", "serial 1", "journal")
	if cfg.Type == "local" {
		mustContain(t, err, DefaultPath+".journal", "line 4")
	}
}

func testConcurrentRecord(t *testing.T, h harness) {
	const goroutines, each = 16, 25
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				a := addrOf(g*each + i)
				s.SetMailing(a, testMailing(a, g*each+i))
				errs <- b.Record(ctx, s, a)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.Serial != goroutines*each {
		t.Errorf("serial = %d, want %d", s.Serial, goroutines*each)
	}
	got := load(t, open(t, cfg))
	if !bytes.Equal(encode(t, got), encode(t, s)) {
		t.Errorf("a fresh Load sees %d mailings at serial %d, want %d at %d", len(got.Mailings), got.Serial, len(s.Mailings), s.Serial)
	}
	if l, ok := b.(*Local); ok {
		l.jw.mu.Lock()
		syncs := l.jw.syncs.Load()
		l.jw.mu.Unlock()
		t.Logf("%d records in %d fsyncs", goroutines*each, syncs)
		if syncs >= goroutines*each {
			t.Errorf("no group commit: %d fsyncs for %d records", syncs, goroutines*each)
		}
	}
}

func testWorkspaces(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	staging := cfg
	staging.Workspace = "staging"
	sb := open(t, staging)
	s := load(t, sb)
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	if err := sb.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	// The default workspace does not see it.
	if d := load(t, open(t, cfg)); len(d.Mailings) != 0 || d.Lineage == s.Lineage {
		t.Errorf("the default workspace sees the staging state")
	}
	ws := open(t, cfg).(Workspaces)
	names, err := ws.List(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"default", "staging"}) {
		t.Errorf("List = %q, %v", names, err)
	}
	mustContain(t, ws.Delete(ctx, "default"), "default")
	mustContain(t, ws.Delete(ctx, "nope"), "does not exist")
	mustContain(t, ws.Delete(ctx, "staging"), "1 mailings")
	// A locked workspace is not deleted.
	delete(s.Mailings, "mailing.a")
	if err := sb.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	lctx, cancel := lockCtx(5 * time.Second)
	defer cancel()
	l, err := open(t, staging).Lock(lctx, LockInfo{ID: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	var le *LockedError
	if err := ws.Delete(ctx, "staging"); !errors.As(err, &le) {
		t.Errorf("Delete of a locked workspace = %v, want *LockedError", err)
	}
	l.Unlock()
	if err := ws.Delete(ctx, "staging"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	names, err = open(t, staging).(Workspaces).List(ctx)
	if err != nil || !reflect.DeepEqual(names, []string{"default"}) {
		t.Errorf("List after Delete = %q, %v", names, err)
	}
	if _, err := Open(Config{Type: cfg.Type, Dir: cfg.Dir, ConnStr: cfg.ConnStr, SchemaName: cfg.SchemaName, Workspace: "../up"}); err == nil {
		t.Error("Open accepted the workspace name ../up")
	}
}

func testPushPull(t *testing.T, h harness) {
	ctx := context.Background()
	cfg := h.config(t)
	b := open(t, cfg)
	s := load(t, b)
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	if err := b.Record(ctx, s, "mailing.a"); err != nil {
		t.Fatal(err)
	}
	pulled, err := Pull(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pulled, encode(t, s)) {
		t.Errorf("Pull ignored the journal:\n%s", pulled)
	}
	// Another lineage is refused, unless forced.
	other := bigState(2)
	other.Lineage = uuid.NewString()
	other.Serial = 50
	otherData := encode(t, other)
	mustContain(t, Push(ctx, b, otherData, false), "lineage")
	// A lower serial is refused.
	older := load(t, open(t, cfg))
	older.Serial = 0
	mustContain(t, Push(ctx, b, encode(t, older), false), "serial")
	// A higher serial of the same lineage is taken as is.
	newer := load(t, open(t, cfg))
	newer.Mailings["mailing.b"] = testMailing("mailing.b", 2)
	newer.Serial = 7
	if err := Push(ctx, b, encode(t, newer), false); err != nil {
		t.Fatalf("Push of a newer serial: %v", err)
	}
	if got, _ := Pull(ctx, open(t, cfg)); !bytes.Equal(got, encode(t, newer)) {
		t.Errorf("after Push, Pull =\n%s", got)
	}
	if h.journalLen(t, cfg) != 0 {
		t.Error("Push left a journal behind")
	}
	if err := Push(ctx, b, otherData, true); err != nil {
		t.Fatalf("forced Push: %v", err)
	}
	if got, _ := Pull(ctx, open(t, cfg)); !bytes.Equal(got, otherData) {
		t.Errorf("after a forced Push, Pull =\n%s", got)
	}
	// The backend that pushed goes on recording onto the pushed state.
	s2 := load(t, b)
	s2.Mailings["mailing.c"] = testMailing("mailing.c", 3)
	if err := b.Record(ctx, s2, "mailing.c"); err != nil {
		t.Fatal(err)
	}
	if got := load(t, open(t, cfg)); got.Serial != 51 || len(got.Mailings) != 3 {
		t.Errorf("after Record on a pushed state: serial %d, %v", got.Serial, got.Addresses())
	}
}
