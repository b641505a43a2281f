package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/postform/postform/internal/pgtest"
)

func TestPGNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	load(t, open(t, cfg)) // creates the schema
	c, err := pgx.Connect(ctx, cfg.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "INSERT INTO "+pgx.Identifier{cfg.SchemaName, "schema_version"}.Sanitize()+" VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	_, err = open(t, cfg).Load(ctx)
	if !errors.Is(err, ErrNewerVersion) {
		t.Fatalf("Load of a schema migrated by a newer postform = %v", err)
	}
	mustContain(t, err, "version 99", "upgrade postform")
}

func TestPGMigrationIdempotent(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			b, err := Open(cfg)
			if err == nil {
				_, err = b.Load(ctx)
				b.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent first use: %v", err)
		}
	}
}

func TestDescribeHidesPassword(t *testing.T) {
	b, err := Open(Config{Type: "pg", ConnStr: "postgres://alice:s3cr3t-pw@db.example:6543/mail?sslmode=disable", SchemaName: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	d := b.Describe()
	if strings.Contains(d, "s3cr3t") || !strings.Contains(d, "alice@db.example:6543/mail") || !strings.Contains(d, "schema mail") {
		t.Errorf("Describe = %q", d)
	}
	_, err = Open(Config{Type: "pg", ConnStr: "postgres://alice:s3cr3t-pw@db.example:port/x"})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a bad conn_str gave %v", err)
	}
	t.Setenv(ConnStrEnv, "postgres://bob:pw@envhost:5433/envdb")
	b, err = Open(Config{Type: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	if d := b.Describe(); !strings.Contains(d, "bob@envhost:5433/envdb") || !strings.Contains(d, "schema postform") {
		t.Errorf("with %s: Describe = %q", ConnStrEnv, d)
	}
}

// A run whose lock connection ends (reset, timeout, force-unlock) must not
// go on writing: another run may hold the lock by then.
func TestPGWritesStopWhenTheLockIsLost(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	b := open(t, cfg)
	u, err := b.Lock(ctx, LockInfo{ID: "lock-1", Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	s := load(t, b)
	s.Mailings["mailing.a"] = &Mailing{Address: "mailing.a", Phase: PhasePending, JobName: "a"}
	if err := b.Record(ctx, s, "mailing.a"); err != nil {
		t.Fatalf("record under a held lock: %v", err)
	}
	// Another session ends the lock holder, as a reset or force-unlock would.
	c, err := pgx.Connect(ctx, cfg.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var pid int32
	if err := c.QueryRow(ctx, "SELECT pid FROM "+pgx.Identifier{cfg.SchemaName, "locks"}.Sanitize()+" WHERE lock_id = 'lock-1'").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	for range 50 { // the session ends asynchronously
		var gone bool
		c.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&gone)
		if gone {
			break
		}
	}
	s.Mailings["mailing.b"] = &Mailing{Address: "mailing.b", Phase: PhasePending, JobName: "b"}
	err = b.Record(ctx, s, "mailing.b")
	mustContain(t, err, "state lock", "was lost")
	err = b.Persist(ctx, s)
	mustContain(t, err, "state lock", "was lost")
}

// pgDo runs fn on a connection of its own to the test's database, outside
// any backend; an error of fn fails the test, named by sql.
func pgDo(t testing.TB, cfg Config, sql string, fn func(ctx context.Context, c *pgx.Conn) error) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, cfg.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := fn(ctx, c); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// pgExec runs statements on the test's database, outside any backend.
func pgExec(t testing.TB, cfg Config, sql string, args ...any) {
	t.Helper()
	pgDo(t, cfg, sql, func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, sql, args...)
		return err
	})
}

func pgCount(t testing.TB, cfg Config, sql string, args ...any) int {
	t.Helper()
	var n int
	pgDo(t, cfg, sql, func(ctx context.Context, c *pgx.Conn) error { return c.QueryRow(ctx, sql, args...).Scan(&n) })
	return n
}

// schema2 lays out cfg's schema as a postform of schema version 2 left it:
// its two migrations, the state s as one blob, and journal rows recorded
// after it, written as that postform's Record and Persist wrote them.
func schema2(t *testing.T, cfg Config, s *State, journal []journalLine) {
	t.Helper()
	b, err := openPG(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pgExec(t, cfg, "CREATE SCHEMA "+pgx.Identifier{cfg.SchemaName}.Sanitize())
	pgExec(t, cfg, "CREATE TABLE "+b.table("schema_version")+" (version integer NOT NULL)")
	for i, m := range pgMigrations[:2] {
		pgExec(t, cfg, b.expand(m))
		pgExec(t, cfg, "INSERT INTO "+b.table("schema_version")+" (version) VALUES ($1)", i+1)
	}
	data := encode(t, s)
	pgExec(t, cfg, "INSERT INTO "+b.table("states")+" (workspace, lineage, serial, data, updated_at) VALUES ($1, $2, $3, $4, now())",
		DefaultWorkspace, s.Lineage, int64(s.Serial), string(data))
	for _, l := range journal {
		for _, r := range l.Records {
			var m *string
			if r.Mailing != nil {
				j, err := json.Marshal(r.Mailing)
				if err != nil {
					t.Fatal(err)
				}
				js := string(j)
				m = &js
			}
			pgExec(t, cfg, "INSERT INTO "+b.table("journal")+" (workspace, lineage, serial, address, mailing) VALUES ($1, $2, $3, $4, $5)",
				DefaultWorkspace, l.Lineage, int64(l.Serial), r.Address, m)
		}
	}
}

// A database written by a postform of schema 2 (a blob and an unreplayed
// journal) is migrated and loads as that postform would have loaded it; the
// first Persist turns the blob into one row per letter.
func TestPGMigratesTheBlobLayout(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	old := bigState(40)
	old.Serial, old.PostformVersion = 7, "0.9.0"
	old.Mailings[addrOf(3)].Recipient = &Recipient{Lines: []string{"Émile <Zola> & fils", "1 rue de la Paix"}, Postcode: "75002", City: "Paris"}
	changed := testMailing(addrOf(3), 3)
	changed.JobStatus = "OUTPUTTED"
	journal := []journalLine{
		// Folded into the blob already: a crash kept it around.
		{Lineage: old.Lineage, Serial: 7, Records: []journalRecord{{Address: addrOf(1), Mailing: testMailing(addrOf(1), 1)}}},
		{Lineage: old.Lineage, Serial: 8, Records: []journalRecord{{Address: addrOf(3), Mailing: changed}, {Address: "mailing.new", Mailing: testMailing("mailing.new", 99)}}},
		{Lineage: old.Lineage, Serial: 9, Records: []journalRecord{{Address: addrOf(5)}}},
	}
	schema2(t, cfg, old, journal)
	want := bigState(40)
	want.Serial, want.PostformVersion = 9, "0.9.0"
	want.Mailings[addrOf(3)] = changed
	want.Mailings["mailing.new"] = testMailing("mailing.new", 99)
	delete(want.Mailings, addrOf(5))

	b := open(t, cfg)
	got := load(t, b)
	if !bytes.Equal(encode(t, got), encode(t, want)) {
		t.Fatalf("the migrated state loads as\n%s\nwant\n%s", encode(t, got), encode(t, want))
	}
	if v := pgCount(t, cfg, "SELECT max(version) FROM "+pgx.Identifier{cfg.SchemaName, "schema_version"}.Sanitize()); v != len(pgMigrations) {
		t.Errorf("schema version %d after migration, want %d", v, len(pgMigrations))
	}
	u, err := b.Lock(ctx, LockInfo{ID: "migrate"})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	// Nothing changed: the journal is folded without a new serial.
	if err := b.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.Serial != 9 {
		t.Errorf("serial after folding = %d, want 9", got.Serial)
	}
	tbl := func(n string) string { return pgx.Identifier{cfg.SchemaName, n}.Sanitize() }
	if n := pgCount(t, cfg, "SELECT count(*) FROM "+tbl("states")+" WHERE data IS NOT NULL"); n != 0 {
		t.Error("the blob is still there after a Persist")
	}
	if n := pgCount(t, cfg, "SELECT count(*) FROM "+tbl("mailings")); n != len(want.Mailings) {
		t.Errorf("%d letter rows, want %d", n, len(want.Mailings))
	}
	if n := pgCount(t, cfg, "SELECT count(*) FROM "+tbl("journal")); n != 0 {
		t.Errorf("%d journal rows left", n)
	}
	if again := load(t, open(t, cfg)); !bytes.Equal(encode(t, again), encode(t, want)) {
		t.Errorf("after the first Persist, the state loads as\n%s", encode(t, again))
	}
	// The rows are the letters' encoding, as on a state file's line.
	line, _ := EncodeMailing(want.Mailings[addrOf(3)])
	if n := pgCount(t, cfg, "SELECT count(*) FROM "+tbl("mailings")+" WHERE address = $1 AND mailing = $2", addrOf(3), string(line)); n != 1 {
		t.Error("the row of a letter is not its EncodeMailing bytes")
	}
}

// persistedPG opens a new pg schema and persists n letters into it through
// the backend it returns, with the state they are in.
func persistedPG(t *testing.T, n int) (Config, Backend, *State) {
	t.Helper()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	b := open(t, cfg)
	s := load(t, b)
	for i := range n {
		s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
	}
	if err := b.Persist(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return cfg, b, s
}

// A postform of schema 2 still running when the schema was migrated
// writes its whole state as a blob again: the blob wins over the rows, and
// the next Persist brings the rows in line with it.
func TestPGBlobWrittenAfterMigrationWins(t *testing.T) {
	ctx := context.Background()
	cfg, _, s := persistedPG(t, 5)
	blob := bigState(3)
	blob.Lineage, blob.Serial = s.Lineage, 2
	blob.Mailings[addrOf(1)].JobStatus = "OUTPUTTED"
	pgExec(t, cfg, "UPDATE "+pgx.Identifier{cfg.SchemaName, "states"}.Sanitize()+" SET data = $1, serial = 2", string(encode(t, blob)))
	b2 := open(t, cfg)
	got := load(t, b2)
	if !bytes.Equal(encode(t, got), encode(t, blob)) {
		t.Fatalf("with a blob over the rows, Load =\n%s", encode(t, got))
	}
	if err := b2.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.Serial != 2 {
		t.Errorf("turning an unchanged blob into rows bumped the serial to %d", got.Serial)
	}
	if again := load(t, open(t, cfg)); !bytes.Equal(encode(t, again), encode(t, blob)) {
		t.Errorf("after the Persist, Load =\n%s", encode(t, again))
	}
	if n := pgCount(t, cfg, "SELECT count(*) FROM "+pgx.Identifier{cfg.SchemaName, "mailings"}.Sanitize()); n != 3 {
		t.Errorf("%d rows, want the blob's 3", n)
	}
}

// Damage to the rows layout is refused, named, and left as it is.
func TestPGRowsDamageRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql string
		wants     []string
	}{
		{"corrupt row", "UPDATE {mailings} SET mailing = '{\"phase\": \"posted\", ' WHERE address = 'mailing.b'", []string{"corrupt", "mailing.b", "not changed"}},
		{"wrong address", "UPDATE {mailings} SET mailing = replace(mailing, '\"address\":\"mailing.b\"', '\"address\":\"mailing.z\"') WHERE address = 'mailing.b'", []string{"corrupt", "mailing.z"}},
		{"newer format", "UPDATE {states} SET version = 2", []string{"format version 2", "upgrade postform"}},
		{"no states row", "DELETE FROM {states}", []string{"2 letters", "no row", "lineage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
			b := open(t, cfg)
			s := load(t, b)
			s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
			s.Mailings["mailing.b"] = testMailing("mailing.b", 2)
			if err := b.Persist(ctx, s); err != nil {
				t.Fatal(err)
			}
			pgExec(t, cfg, b.(*PG).expand(tc.sql))
			before := pgCount(t, cfg, "SELECT count(*) FROM "+pgx.Identifier{cfg.SchemaName, "mailings"}.Sanitize())
			b2 := open(t, cfg)
			_, err := b2.Load(ctx)
			mustContain(t, err, tc.wants...)
			s.Mailings["mailing.c"] = testMailing("mailing.c", 3)
			if err := b2.Persist(ctx, s); err == nil {
				t.Error("Persist over a damaged state succeeded")
			}
			if err := b2.Record(ctx, s, "mailing.c"); err == nil {
				t.Error("Record over a damaged state succeeded")
			}
			if after := pgCount(t, cfg, "SELECT count(*) FROM "+pgx.Identifier{cfg.SchemaName, "mailings"}.Sanitize()); after != before {
				t.Errorf("the damaged state was changed: %d rows, then %d", before, after)
			}
		})
	}
}

// A Persist writes the rows of the letters that changed, and only those.
func TestPGPersistWritesOnlyChangedRows(t *testing.T) {
	ctx := context.Background()
	cfg, b, s := persistedPG(t, 1000)
	// Written by the last transaction: the states row is written by each.
	lastWrite := func() int {
		return pgCount(t, cfg, "SELECT count(*) FROM "+pgx.Identifier{cfg.SchemaName, "mailings"}.Sanitize()+
			" WHERE xmin = (SELECT xmin FROM "+pgx.Identifier{cfg.SchemaName, "states"}.Sanitize()+")")
	}
	for i := range 10 {
		s.Mailings[addrOf(i*37)].JobStatus = "OUTPUTTED"
	}
	delete(s.Mailings, addrOf(999))
	s.Mailings["mailing.new"] = testMailing("mailing.new", 5)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n := lastWrite(); n != 11 {
		t.Errorf("a Persist that changed 10 letters and added one wrote %d rows", n)
	}
	if s.Serial != 2 {
		t.Errorf("serial %d, want 2", s.Serial)
	}
	if got := load(t, open(t, cfg)); !bytes.Equal(encode(t, got), encode(t, s)) {
		t.Error("a fresh Load differs from the persisted state")
	}
	// Records fold into just their letters' rows too.
	b2 := open(t, cfg)
	s2 := load(t, b2)
	s2.Mailings[addrOf(500)].JobStatus = "PROCESSING_ERROR"
	if err := b2.Record(ctx, s2, addrOf(500)); err != nil {
		t.Fatal(err)
	}
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if n := lastWrite(); n != 1 {
		t.Errorf("folding one record wrote %d rows", n)
	}
}

// yearOldMailing is a terminal letter as a year of posting leaves it, its
// tracking history and proofs included: about 2 KB encoded.
func yearOldMailing(addr string, i int) *Mailing {
	m := testMailing(addr, i)
	at := m.SubmittedAt
	m.JobStatus, m.Terminal, m.LastRefreshed = "OUTPUTTED", true, at.Add(80*time.Hour)
	m.Recipient = &Recipient{Lines: []string{fmt.Sprintf("Client %06d", i), "12 rue des Lilas", "75011 Paris"}, Postcode: "75011", City: "Paris", Country: "FR"}
	m.PackGroups = []PackGroup{{ID: fmt.Sprintf("PG-%08d", i), Channel: "postal", Status: "OUTPUTTED", Eligible: true}}
	ship := Shipment{ID: fmt.Sprintf("S-%08d", i), StatusCode: 8, StatusLabel: "Distribué", TrackingNumber: fmt.Sprintf("1A%011d", i), Files: []string{"CERTIF", "ACKN"}}
	for k, code := range []string{"PCHCFM", "ETAPRI", "ETAACH", "MLVARS", "DISREM"} {
		ship.Events = append(ship.Events, TrackingEvent{Date: at.Add(time.Duration(k+1) * 12 * time.Hour), Code: code, Label: "Votre courrier progresse (" + code + ")"})
	}
	m.Deliveries = []Delivery{{ID: fmt.Sprintf("D-%08d", i), Channel: "postal", Status: "OUTPUTTED", Shipments: []Shipment{ship}}}
	for _, name := range []string{"CERTIF", "ACKN"} {
		m.Proofs = append(m.Proofs, Proof{Name: name, ShipmentID: ship.ID, Path: fmt.Sprintf(".postform/proofs/%s/%s.pdf", m.JobID, name),
			SHA256: fmt.Sprintf("%064x", i*13), Size: 81234, FetchedAt: at.Add(80 * time.Hour), ShipmentCode: 8})
	}
	return m
}

// seedPG stores n year-old letters in cfg's workspace, as one push.
func seedPG(tb testing.TB, cfg Config, n int) {
	tb.Helper()
	s := New("7f1c2a9e-0b4d-4e5f-8a6b-1c2d3e4f5a6b")
	for i := range n {
		s.Mailings[addrOf(i)] = yearOldMailing(addrOf(i), i)
	}
	s.Serial = 1
	be, err := Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	defer be.Close()
	start := time.Now()
	if err := be.(*PG).push(context.Background(), s, false); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("pushed %d letters in %v", n, time.Since(start).Round(time.Millisecond))
	pgExec(tb, cfg, "VACUUM ANALYZE "+be.(*PG).table("mailings"))
}

// BenchmarkPGLoad reads a state of year-old (terminal) letters through a
// new backend: in full, and for a plan (terminal letters' detail left as
// JSON), as plan --refresh=false does.
func BenchmarkPGLoad(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		cfg := Config{Type: "pg", ConnStr: pgtest.Shared(b), SchemaName: pgtest.Schema(b)}
		seeded := false
		for _, mode := range []string{"full", "plan", "rows"} {
			b.Run(fmt.Sprintf("letters=%d/%s", n, mode), func(b *testing.B) {
				if !seeded {
					seedPG(b, cfg, n)
					seeded = true
				}
				b.ReportAllocs()
				if mode == "rows" {
					// The floor: the query alone, its rows read and dropped.
					table := pgx.Identifier{cfg.SchemaName, "mailings"}.Sanitize()
					for b.Loop() {
						got := 0
						pgDo(b, cfg, "reading the rows", func(ctx context.Context, c *pgx.Conn) error {
							r, err := c.Query(ctx, "SELECT address, mailing FROM "+table+" WHERE workspace = $1", DefaultWorkspace)
							if err != nil {
								return err
							}
							for r.Next() {
								got += len(r.RawValues())
							}
							return r.Err()
						})
						if got != 2*n {
							b.Fatalf("%d values, want %d", got, 2*n)
						}
					}
					return
				}
				for b.Loop() {
					be, err := Open(cfg)
					if err != nil {
						b.Fatal(err)
					}
					load := be.Load
					if mode == "plan" {
						load = be.(PlanLoader).LoadForPlan
					}
					s, err := load(context.Background())
					if err != nil || len(s.Mailings) != n {
						b.Fatalf("Load: %d letters, %v", len(s.Mailings), err)
					}
					be.Close()
				}
			})
		}
	}
}

// BenchmarkPGChange100 changes 100 letters of a 100,000-letter state, as a
// refresh does (in memory, then Persist) and as an apply does (one Record,
// then Persist), and reports the WAL the database wrote for it: on the test
// server (full_page_writes off), and right after a checkpoint with
// full_page_writes on, a production server's worst case.
func BenchmarkPGChange100(b *testing.B) {
	const n, changed = 100_000, 100
	for _, fpw := range []string{"off", "on"} {
		for _, how := range []string{"refresh", "record"} {
			b.Run(fmt.Sprintf("fpw=%s/%s", fpw, how), func(b *testing.B) {
				// A server of its own, autovacuum off: its WAL is ours.
				cfg := Config{Type: "pg", ConnStr: pgtest.StartWith(b, "full_page_writes="+fpw, "autovacuum=off"), SchemaName: "bench"}
				seedPG(b, cfg, n)
				ctx := context.Background()
				c, err := pgx.Connect(ctx, cfg.ConnStr)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close(ctx)
				be, err := Open(cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer be.Close()
				s, err := be.Load(ctx)
				if err != nil {
					b.Fatal(err)
				}
				var wal, ops int64
				round := 0
				for b.Loop() {
					b.StopTimer()
					if fpw == "on" {
						if _, err := c.Exec(ctx, "CHECKPOINT"); err != nil {
							b.Fatal(err)
						}
					}
					var before string
					if err := c.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&before); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					one := &State{Version: FormatVersion, Lineage: s.Lineage, Serial: s.Serial, Mailings: map[string]*Mailing{}}
					var addrs []string
					for k := range changed {
						// Spread over the whole table, as letters finishing
						// on one day are.
						a := addrOf((k*997 + round*7919) % n)
						m := s.Mailings[a].Clone()
						m.LastRefreshed = m.LastRefreshed.Add(time.Hour)
						m.Problems = []string{fmt.Sprintf("round %d", round)}
						s.Mailings[a], one.Mailings[a] = m, m
						addrs = append(addrs, a)
					}
					if how == "record" {
						if err := be.Record(ctx, one, addrs...); err != nil {
							b.Fatal(err)
						}
						s.Serial = one.Serial
					}
					if err := be.Persist(ctx, s); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					var diff int64
					if err := c.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint", before).Scan(&diff); err != nil {
						b.Fatal(err)
					}
					wal += diff
					ops++
					round++
					b.StartTimer()
				}
				b.ReportMetric(float64(wal)/float64(ops), "WAL-B/op")
			})
		}
	}
}

// Deleting a workspace takes its letters' rows too, even rows a blob
// written by a schema 2 postform left behind: a workspace created again
// under that name starts empty.
func TestPGDeleteTakesTheRows(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	staging := cfg
	staging.Workspace = "staging"
	sb := open(t, staging)
	s := load(t, sb)
	s.Mailings["mailing.a"] = testMailing("mailing.a", 1)
	if err := sb.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	empty := New(s.Lineage)
	empty.Serial = 5
	pgExec(t, cfg, "UPDATE "+pgx.Identifier{cfg.SchemaName, "states"}.Sanitize()+" SET data = $1, serial = 5 WHERE workspace = 'staging'", string(encode(t, empty)))
	if err := open(t, cfg).(Workspaces).Delete(ctx, "staging"); err != nil {
		t.Fatal(err)
	}
	if got := load(t, open(t, staging)); len(got.Mailings) != 0 || got.Lineage == s.Lineage {
		t.Errorf("the workspace created again holds %v of lineage %s", got.Addresses(), got.Lineage)
	}
}

// A plan-only load leaves terminal letters' detail as the row's JSON, and
// gives the same state once it is decoded; persisting it changes nothing.
func TestPGLoadForPlan(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	b := open(t, cfg)
	s := load(t, b)
	for i := range 20 {
		s.Mailings[addrOf(i)] = yearOldMailing(addrOf(i), i)
	}
	s.Mailings["mailing.open"] = testMailing("mailing.open", 99)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	pb := open(t, cfg)
	got, err := LoadForPlan(ctx, pb)
	if err != nil {
		t.Fatal(err)
	}
	if m := got.Mailings[addrOf(3)]; m.DetailLoaded() || m.Deliveries != nil {
		t.Error("a terminal letter's detail was decoded by a plan-only load")
	}
	if !got.Mailings["mailing.open"].DetailLoaded() {
		t.Error("an unfinished letter was loaded lazily")
	}
	if !bytes.Equal(encode(t, got), encode(t, s)) {
		t.Error("a plan-only load does not encode as the state")
	}
	if pb.(*PG).stored.later == nil {
		t.Error("the plan-only load digested its rows: the Persists below check nothing new")
	}
	if err := pb.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.Serial != s.Serial {
		t.Errorf("persisting an unchanged plan-only load bumped the serial to %d", got.Serial)
	}
	// Its rows' digests, computed only now, tell the one row that changed.
	pb = open(t, cfg)
	if got, err = LoadForPlan(ctx, pb); err != nil {
		t.Fatal(err)
	}
	got.Mailings[addrOf(4)].Problems = []string{"changed"}
	if err := pb.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	written := pgCount(t, cfg, "SELECT count(*) FROM "+pgx.Identifier{cfg.SchemaName, "mailings"}.Sanitize()+
		" WHERE xmin = (SELECT xmin FROM "+pgx.Identifier{cfg.SchemaName, "states"}.Sanitize()+")")
	if written != 1 || got.Serial != s.Serial+1 {
		t.Errorf("a Persist of one changed letter of a plan-only load wrote %d rows, serial %d", written, got.Serial)
	}
	got.Mailings[addrOf(4)].Problems = nil
	for _, m := range got.Mailings {
		if err := m.LoadDetail(); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got.Mailings, s.Mailings) {
		t.Error("the letters of a plan-only load, once decoded, differ from the state")
	}
}
