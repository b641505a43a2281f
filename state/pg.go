package state

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ConnStrEnv is read when the pg backend's conn_str is empty; when it is
// empty too, the libpq variables (PGHOST, PGUSER, PGPASSWORD, …) apply.
const ConnStrEnv = "PG_CONN_STR"

// DefaultSchema is the pg backend's schema when the configuration names none.
const DefaultSchema = "postform"

// PG keeps the state in PostgreSQL, in its own schema:
//
//	states(workspace PK, lineage, serial, version, postform_version, data)  one per workspace
//	mailings(workspace, address PK, mailing)                  the snapshot, one row per letter (pgrows.go)
//	journal(id, workspace, lineage, serial, address, mailing) records since the snapshot
//	locks(workspace PK, lock_id, info, pid, created)          who holds a workspace's lock
//	schema_version(version)                                   applied migrations
//
// A letter is stored as text, byte for byte what EncodeMailing produced.
// Record is one small committed INSERT into the journal; Persist writes the
// letters that changed, the states row and deletes the folded journal rows
// in one transaction; Load reads all of it in one REPEATABLE READ
// transaction. The lock is a session-level advisory lock held on a
// dedicated connection: when the holder dies, its session ends and the lock
// is free.
type PG struct {
	connConfig *pgx.ConnConfig
	schema     string
	workspace  string
	desc       string

	sem  chan struct{}  // bounds open pooled connections
	idle chan *pgx.Conn // pooled connections not in use

	migrateMu sync.Mutex
	migrated  bool

	mu      sync.Mutex
	scanned bool
	// fencePID is the session holding this backend's lock (0: none taken):
	// writes check that it still holds it.
	fencePID int32
	written
	stored pgStored
}

const pgPoolSize = 4

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

func openPG(cfg Config) (*PG, error) {
	connStr := cfg.ConnStr
	if connStr == "" {
		connStr = os.Getenv(ConnStrEnv)
	}
	cc, err := pgx.ParseConfig(connStr)
	if err != nil {
		// The parse error may quote the connection string; pgx redacts
		// passwords only on a best-effort basis, so it is not repeated.
		return nil, errors.New(`the pg backend's conn_str is not a valid PostgreSQL connection string (expected "postgres://user:password@host:port/database?sslmode=…" or "host=… user=… dbname=…")`)
	}
	schema := cfg.SchemaName
	if schema == "" {
		schema = DefaultSchema
	}
	if !identifier.MatchString(schema) {
		return nil, fmt.Errorf("invalid schema_name %q for the pg backend: use letters, digits and underscores", schema)
	}
	b := &PG{
		connConfig: cc,
		schema:     schema,
		workspace:  cfg.Workspace,
		sem:        make(chan struct{}, pgPoolSize),
		idle:       make(chan *pgx.Conn, pgPoolSize),
	}
	b.desc = describePG(cc, schema, cfg.Workspace)
	return b, nil
}

// describePG names the database without its password.
func describePG(cc *pgx.ConnConfig, schema, workspace string) string {
	host := cc.Host
	if cc.Port != 0 {
		host += ":" + strconv.Itoa(int(cc.Port))
	}
	return fmt.Sprintf("pg://%s@%s/%s (schema %s, workspace %s)", cc.User, host, cc.Database, schema, workspace)
}

// Describe names the database, schema and workspace, never the password.
func (b *PG) Describe() string { return b.desc }

// Warnings is empty: the pg backend tolerates nothing it would report.
func (b *PG) Warnings() []string { return nil }

// Close closes the pooled connections.
func (b *PG) Close() error {
	for {
		select {
		case c := <-b.idle:
			c.Close(context.Background())
		default:
			return nil
		}
	}
}

// table quotes a table of the backend's schema.
func (b *PG) table(name string) string {
	return pgx.Identifier{b.schema, name}.Sanitize()
}

func (b *PG) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		select {
		case c := <-b.idle:
			if c.IsClosed() {
				continue
			}
			return c, nil
		default:
		}
		c, err := pgx.ConnectConfig(ctx, b.connConfig.Copy())
		if err != nil {
			<-b.sem
			return nil, fmt.Errorf("connecting to the state database %s: %w", b.desc, err)
		}
		return c, nil
	}
}

// withConn runs fn on a pooled connection. A connection fn failed on is
// closed rather than reused: its transaction state is unknown.
func (b *PG) withConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	if err := b.migrate(ctx); err != nil {
		return err
	}
	return b.withRawConn(ctx, fn)
}

func (b *PG) withRawConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := b.acquire(ctx)
	if err != nil {
		return err
	}
	err = fn(c)
	if err != nil || c.IsClosed() {
		c.Close(context.Background())
	} else {
		select {
		case b.idle <- c:
		default:
			c.Close(context.Background())
		}
	}
	<-b.sem
	return err
}

// Load reads the snapshot and the journal in one REPEATABLE READ transaction.
func (b *PG) Load(ctx context.Context) (*State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, _, err := b.loadLocked(ctx, pgFull)
	return s, err
}

// LoadForPlan is Load leaving terminal letters' deliveries and proofs
// undecoded (DecodeMailingForPlan): most of a plan's load time at 100,000
// letters.
func (b *PG) LoadForPlan(ctx context.Context) (*State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, _, err := b.loadLocked(ctx, pgPlan)
	return s, err
}

type pgJournalRow struct {
	lineage string
	serial  uint64
	address string
	mailing *string
}

func (b *PG) loadLocked(ctx context.Context, dec pgDecoder) (*State, bool, error) {
	var head struct {
		found   bool
		lineage string
		serial  int64
		version *int
		pfv     *string
		data    *string
	}
	var read pgRead
	var rows []pgJournalRow
	err := b.withConn(ctx, func(c *pgx.Conn) error {
		tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		err = tx.QueryRow(ctx, "SELECT lineage, serial, version, postform_version, data FROM "+b.table("states")+" WHERE workspace = $1", b.workspace).
			Scan(&head.lineage, &head.serial, &head.version, &head.pfv, &head.data)
		head.found = err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// A blob is the snapshot: the rows are only compared with it.
		rowsDec := dec
		if head.data != nil {
			rowsDec.rows = nil
		}
		if read, err = b.readRows(ctx, tx, rowsDec); err != nil {
			return err
		}
		r, err := tx.Query(ctx, "SELECT lineage, serial, address, mailing FROM "+b.table("journal")+" WHERE workspace = $1 ORDER BY serial, id", b.workspace)
		if err != nil {
			return err
		}
		var row pgJournalRow
		var serial int64
		_, err = pgx.ForEachRow(r, []any{&row.lineage, &serial, &row.address, &row.mailing}, func() error {
			row.serial = uint64(serial)
			rows = append(rows, row)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		if _, ok := errors.AsType[*CorruptError](err); ok {
			return nil, false, fmt.Errorf("reading the state from %s: %w; the state was not changed", b.desc, err)
		}
		return nil, false, fmt.Errorf("reading the state from %s: %w", b.desc, err)
	}
	st := pgStored{exists: head.found, serial: uint64(head.serial), rows: read.sums, later: read.later}
	var s *State
	switch {
	case head.data != nil:
		if s, err = dec.state([]byte(*head.data)); err != nil {
			return nil, false, fmt.Errorf("reading the state from %s: %w; the state was not changed", b.desc, err)
		}
		st.blob = true
		st.base = make(map[string]pgBase, len(s.Mailings))
		for a := range read.sums { // a blob's rows: digested at once
			st.base[a] = pgBase{}
		}
		for a, m := range s.Mailings {
			if st.base[a], err = baseOf(m); err != nil {
				return nil, false, err
			}
		}
	case head.found:
		if head.version == nil || *head.version < 1 {
			return nil, false, fmt.Errorf("reading the state from %s: the states row of workspace %s has neither a format version nor a blob; refusing to guess. The state was not changed", b.desc, b.workspace)
		}
		if *head.version > FormatVersion {
			return nil, false, fmt.Errorf("reading the state from %s: %w", b.desc, newerVersion(*head.version))
		}
		s = &State{Version: *head.version, Lineage: head.lineage, Serial: uint64(head.serial), Mailings: read.ms}
		if head.pfv != nil {
			s.PostformVersion = *head.pfv
		}
	case read.n > 0:
		return nil, false, fmt.Errorf("reading the state from %s: %w", b.desc, b.errNoStatesRow(read.n))
	}
	existed := s != nil || len(rows) > 0
	lines, src, err := b.journalLines(rows)
	if err != nil {
		return nil, false, err
	}
	if s, _, err = replay(s, lines, src, uuid.NewString); err != nil {
		return nil, false, err
	}
	// The journaled letters are, as loaded, not their rows. A letter
	// journaled more than once (pending, then posted) is encoded once.
	journaled := map[string]bool{}
	for _, l := range lines {
		for _, r := range l.Records {
			journaled[r.Address] = true
		}
	}
	if len(journaled) > 0 && st.base == nil {
		st.base = make(map[string]pgBase, len(journaled))
	}
	for a := range journaled {
		if st.base[a], err = baseOf(s.Mailings[a]); err != nil {
			return nil, false, err
		}
	}
	st.version, st.pfv = formatOf(s), s.PostformVersion
	b.stored = st
	b.scanned = true
	b.lineage, b.freshLineage = "", ""
	if existed {
		b.lineage = s.Lineage
	} else {
		b.freshLineage = s.Lineage
	}
	b.journalDirty = len(rows) > 0
	b.lastSerial = s.Serial
	return s, existed, nil
}

// baseOf is the digest of m's row, absent for nil.
func baseOf(m *Mailing) (pgBase, error) {
	if m == nil {
		return pgBase{}, nil
	}
	enc, err := EncodeMailing(m)
	if err != nil {
		return pgBase{}, err
	}
	return pgBase{sha256.Sum256(enc), true}, nil
}

// journalLines groups journal rows, read in serial order, into the records
// Record wrote: one per serial, each address once. A serial holding an
// address twice was claimed by two records (two writers, or a row put back
// by hand): the rows are split where the address repeats, and replay
// refuses the second record as out of order, as it does in a local journal.
func (b *PG) journalLines(rows []pgJournalRow) ([]*journalLine, journalSource, error) {
	src := journalSource{name: "the state journal in " + b.desc, unit: "row"}
	var lines []*journalLine
	var seen map[string]bool
	for i, r := range rows {
		rec := journalRecord{Address: r.address}
		if r.mailing != nil {
			var err error
			if rec.Mailing, err = DecodeMailing(r.address, []byte(*r.mailing)); err != nil {
				return nil, src, fmt.Errorf("the state journal in %s is corrupt (row %d, %s): %v; nothing was changed", b.desc, i+1, r.address, err)
			}
		}
		last := len(lines) - 1
		if last < 0 || lines[last].Serial != r.serial || lines[last].Lineage != r.lineage || seen[r.address] {
			lines = append(lines, &journalLine{Lineage: r.lineage, Serial: r.serial})
			src.positions = append(src.positions, i+1)
			seen = map[string]bool{}
			last++
		}
		seen[r.address] = true
		lines[last].Records = append(lines[last].Records, rec)
	}
	return lines, src, nil
}

func (b *PG) ensureScannedLocked(ctx context.Context) error {
	if b.scanned {
		return nil
	}
	_, _, err := b.loadLocked(ctx, pgFull)
	return err
}

// Record inserts one journal row per address in one committed statement.
// Recording no address does nothing.
func (b *PG) Record(ctx context.Context, s *State, addrs ...string) error {
	if len(addrs) == 0 {
		return nil
	}
	addrs = distinct(addrs)
	b.mu.Lock()
	err := b.ensureScannedLocked(ctx)
	if err == nil {
		err = b.checkLineage(s, b.desc)
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	s.mu.Lock()
	mailings := make([]*string, len(addrs))
	for i, a := range addrs {
		if m := s.Mailings[a]; m != nil {
			j, err := EncodeMailing(m)
			if err != nil {
				s.mu.Unlock()
				return fmt.Errorf("encoding the record of %s: %w", a, err)
			}
			js := string(j)
			mailings[i] = &js
		}
	}
	b.mu.Lock()
	serial, lineage := b.nextSerial(s), s.Lineage
	b.journalDirty = true
	fence := b.fencePID
	b.mu.Unlock()
	s.Serial = serial
	s.mu.Unlock()

	return b.withConn(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, "INSERT INTO "+b.table("journal")+` (workspace, lineage, serial, address, mailing)
			SELECT $1, $2, $3, r.a, r.m FROM unnest($4::text[], $5::text[]) AS r(a, m)
			WHERE NOT EXISTS (SELECT 1 FROM `+b.table("states")+` WHERE workspace = $1 AND lineage <> $2)
			AND ($6 = 0 OR `+fmt.Sprintf(lockHeld, "$6")+`)`,
			b.workspace, lineage, int64(serial), addrs, mailings, fence)
		if err != nil {
			return fmt.Errorf("recording to the state journal in %s: %w", b.desc, err)
		}
		if tag.RowsAffected() != int64(len(addrs)) {
			if fence != 0 && !b.stillLocked(ctx, c, fence) {
				return errLockLost(b.desc)
			}
			return fmt.Errorf("refusing to record: the state in %s has another lineage than %s", b.desc, lineage)
		}
		return nil
	})
}

// Persist writes the letters that changed since the last Load or Persist
// and deletes the folded journal rows, in one transaction.
func (b *PG) Persist(ctx context.Context, s *State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.ensureScannedLocked(ctx); err != nil {
		return err
	}
	if err := b.checkLineage(s, b.desc); err != nil {
		return err
	}
	ch, err := b.stored.diff(s)
	if err != nil {
		return err
	}
	if !ch.changed && len(ch.upsert) == 0 && len(ch.remove) == 0 && !b.journalDirty && !b.stored.blob {
		return nil
	}
	serial := max(s.Serial, b.lastSerial)
	if ch.changed {
		serial++
	}
	all, err := b.writeSnapshot(ctx, s, serial, &ch, false)
	if err != nil {
		return err
	}
	b.stored.written(s, serial, &ch, all)
	s.Serial, b.lastSerial = serial, serial
	b.journalDirty = false
	return nil
}

// stillLocked reports whether the session pid still holds an advisory lock.
func (b *PG) stillLocked(ctx context.Context, c *pgx.Conn, pid int32) bool {
	var held bool
	err := c.QueryRow(ctx, "SELECT "+fmt.Sprintf(lockHeld, "$1"), pid).Scan(&held)
	return err == nil && held
}

// push replaces the stored state with s as it is: every row, and the
// journal goes.
func (b *PG) push(ctx context.Context, s *State, force bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, existed, err := b.loadLocked(ctx, pgFull)
	if err != nil && !force {
		return err
	}
	if err == nil && existed && !force {
		if err := checkPush(cur, s, b.desc); err != nil {
			return err
		}
	}
	all, err := b.writeSnapshot(ctx, s, s.Serial, nil, true)
	if err != nil {
		return err
	}
	b.stored.written(s, s.Serial, nil, all)
	b.scanned = true
	b.lineage = s.Lineage
	b.journalDirty = false
	b.lastSerial = s.Serial
	return nil
}
