package state

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/jackc/pgx/v5"
)

// The pg snapshot is one row per letter (schema migration 3):
//
//	states(workspace, lineage, serial, version, postform_version, data)
//	mailings(workspace, address, mailing)  mailing: EncodeMailing's bytes
//
// so that a run that changes 100 letters of 100,000 writes 100 rows. The
// backend keeps the sha256 of each row as it read or wrote it, never the
// rows themselves, and Persist writes only the letters whose encoding
// differs. A states row whose data is set was written by a postform of
// schema 2, the whole state as one blob: that blob is the snapshot, and the
// next Persist turns it into rows.

type pgSum = [sha256.Size]byte

// pgStored is what the backend knows of its workspace's stored snapshot,
// as it last read or wrote it.
type pgStored struct {
	exists bool   // there is a states row
	serial uint64 // its serial
	blob   bool   // it holds a schema 2 blob
	rows   map[string]pgSum
	// later holds rows of a plan-only load not yet in rows: digesting
	// 100,000 rows and keying them is time a plan, which writes nothing,
	// need not spend, and their bytes are kept anyway for the detail the
	// load left as JSON. digestRows adds them before rows is read.
	later []*rowBatch
	// base holds the digest of a letter as Load gave it where that is not
	// its row (a journal record replayed on top, or a blob); a letter Load
	// did not have is an entry with present false.
	base    map[string]pgBase
	version int
	pfv     string // postform_version
}

type pgBase struct {
	sum     pgSum
	present bool
}

// digestRows moves the rows of later into rows.
func (st *pgStored) digestRows() {
	for _, rb := range st.later {
		for _, r := range rb.rows {
			st.rows[string(rb.buf[r.addr[0]:r.addr[1]])] = sha256.Sum256(rb.buf[r.data[0]:r.data[1]])
		}
	}
	st.later = nil
}

// baseOf is the digest of the letter at addr as last loaded or written.
// The caller has called digestRows.
func (st *pgStored) baseOf(addr string) (pgSum, bool) {
	if b, ok := st.base[addr]; ok {
		return b.sum, b.present
	}
	sum, ok := st.rows[addr]
	return sum, ok
}

// pgDecoder reads a stored state: in full, or for a plan (lazy.go).
type pgDecoder struct {
	state func([]byte) (*State, error)
	// rows returns a decoder of rows for one goroutine.
	rows func() rowDecodeFunc
	// sumsLater leaves the rows' digests to a Persist (pgStored.later).
	sumsLater bool
}

// rowDecodeFunc decodes the row of the letter at address, the bytes
// src.data[start:end]. A plan-only decode keeps src for the detail it
// leaves as JSON.
type rowDecodeFunc func(address string, src *source, start, end int) (*Mailing, error)

var (
	pgFull = pgDecoder{state: Decode, rows: func() rowDecodeFunc {
		return func(address string, src *source, start, end int) (*Mailing, error) {
			return DecodeMailing(address, src.data[start:end:end])
		}
	}}
	// pgPlan decodes each goroutine's rows with a scanner of its own, whose
	// shared strings and blocks of letters serve every row it reads.
	pgPlan = pgDecoder{state: DecodeForPlan, rows: func() rowDecodeFunc { return newPlanScanner().decodeRow }, sumsLater: true}
)

// pgRow is one letter's row: its address, encoding and digest.
type pgRow struct {
	address string
	data    []byte
	sum     pgSum
}

// pgChange is what a Persist writes.
type pgChange struct {
	upsert []pgRow
	remove []string
	// changed: the content differs from what was last loaded or written,
	// which bumps the serial.
	changed bool
}

func formatOf(s *State) int {
	if s.Version == 0 {
		return FormatVersion
	}
	return s.Version
}

// diff compares s with what is stored. Encoding every letter is most of a
// Persist's time: it runs on every core. The caller holds s.mu.
func (st *pgStored) diff(s *State) (pgChange, error) {
	st.digestRows()
	var ch pgChange
	ch.changed = formatOf(s) != st.version || s.PostformVersion != st.pfv
	addrs := make([]string, 0, len(s.Mailings))
	for addr := range s.Mailings {
		addrs = append(addrs, addr)
	}
	type part struct {
		upsert  []pgRow
		changed bool
		err     error
	}
	parts := make([]part, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range parts {
		p := &parts[i]
		lo, hi := len(addrs)*i/len(parts), len(addrs)*(i+1)/len(parts)
		wg.Go(func() {
			for _, addr := range addrs[lo:hi] {
				enc, err := EncodeMailing(s.Mailings[addr])
				if err != nil {
					p.err = err
					return
				}
				sum := sha256.Sum256(enc)
				if base, ok := st.baseOf(addr); !ok || base != sum {
					p.changed = true
				}
				if row, ok := st.rows[addr]; !ok || row != sum {
					p.upsert = append(p.upsert, pgRow{addr, enc, sum})
				}
			}
		})
	}
	wg.Wait()
	for _, p := range parts {
		if p.err != nil {
			return ch, p.err
		}
		ch.changed = ch.changed || p.changed
		ch.upsert = append(ch.upsert, p.upsert...)
	}
	for addr := range st.rows {
		if _, ok := s.Mailings[addr]; !ok {
			ch.remove = append(ch.remove, addr)
			if _, was := st.baseOf(addr); was {
				ch.changed = true
			}
		}
	}
	for addr, b := range st.base {
		if _, ok := s.Mailings[addr]; !ok && b.present {
			ch.changed = true
		}
	}
	return ch, nil
}

// allRows encodes every letter of s. The caller holds s.mu.
func allRows(s *State) ([]pgRow, error) {
	rows := make([]pgRow, 0, len(s.Mailings))
	for addr, m := range s.Mailings {
		enc, err := EncodeMailing(m)
		if err != nil {
			return nil, err
		}
		rows = append(rows, pgRow{addr, enc, sha256.Sum256(enc)})
	}
	return rows, nil
}

// pgRead is what readRows read: the letters, and their rows' digests, in
// sums or, when left for later, in later.
type pgRead struct {
	ms    map[string]*Mailing
	sums  map[string]pgSum
	later []*rowBatch
	n     int // rows read
}

// readRows reads the workspace's rows in tx, decoding them with decoders
// made by dec.rows into a map of letters (nil: only their digests).
// Decoding is most of a Load's time: the rows are decoded on every core
// while they stream in.
func (b *PG) readRows(ctx context.Context, tx pgx.Tx, dec pgDecoder) (pgRead, error) {
	r, err := tx.Query(ctx, "SELECT address, mailing FROM "+b.table("mailings")+" WHERE workspace = $1", b.workspace)
	if err != nil {
		return pgRead{}, err
	}
	defer r.Close()
	d := newRowDecoder(dec.rows, dec.rows != nil && dec.sumsLater)
	batch := d.batch()
	for r.Next() {
		raw := r.RawValues()
		// Copied: pgx reuses the row's bytes, and a decoded letter may
		// keep slices of them.
		if batch.full(len(raw[0]) + len(raw[1])) {
			d.send(batch)
			batch = d.batch()
		}
		batch.add(raw[0], raw[1])
	}
	d.send(batch)
	read, derr := d.wait()
	if err := r.Err(); err != nil {
		return pgRead{}, err
	}
	if derr != nil {
		return pgRead{}, fmt.Errorf("%s: %w", b.table("mailings"), derr)
	}
	return read, nil
}

type rowBatch struct {
	buf  []byte // every row's bytes, one allocation for the batch
	rows []struct{ addr, data [2]int }
}

// full says whether a row of n bytes would not fit: a batch's buffer is
// never grown (and copied) but for a single row larger than it.
func (rb *rowBatch) full(n int) bool {
	return len(rb.rows) > 0 && (len(rb.rows) == cap(rb.rows) || len(rb.buf)+n > cap(rb.buf))
}

func (rb *rowBatch) add(addr, data []byte) {
	a := [2]int{len(rb.buf), len(rb.buf) + len(addr)}
	rb.buf = append(rb.buf, addr...)
	m := [2]int{len(rb.buf), len(rb.buf) + len(data)}
	rb.buf = append(rb.buf, data...)
	rb.rows = append(rb.rows, struct{ addr, data [2]int }{a, m})
}

// rowDecoder decodes batches of rows on GOMAXPROCS goroutines.
type rowDecoder struct {
	decode    func() rowDecodeFunc
	sumsLater bool
	work      chan *rowBatch
	wg        sync.WaitGroup
	mu        sync.Mutex
	read      pgRead
	err       error
}

const rowBatchLen = 256

func newRowDecoder(decode func() rowDecodeFunc, sumsLater bool) *rowDecoder {
	n := runtime.GOMAXPROCS(0)
	d := &rowDecoder{decode: decode, sumsLater: sumsLater, work: make(chan *rowBatch, n)}
	d.read.sums = map[string]pgSum{}
	if decode != nil {
		d.read.ms = map[string]*Mailing{}
	}
	for range n {
		d.wg.Go(func() {
			var dec rowDecodeFunc
			if decode != nil {
				dec = decode()
			}
			for rb := range d.work {
				d.decodeBatch(rb, dec)
			}
		})
	}
	return d
}

func (d *rowDecoder) batch() *rowBatch {
	return &rowBatch{buf: make([]byte, 0, rowBatchLen*2048), rows: make([]struct{ addr, data [2]int }, 0, rowBatchLen)}
}

func (d *rowDecoder) send(rb *rowBatch) {
	if len(rb.rows) > 0 {
		d.work <- rb
	}
}

func (d *rowDecoder) decodeBatch(rb *rowBatch, decode rowDecodeFunc) {
	type letter struct {
		addr string
		m    *Mailing
		sum  pgSum
	}
	out := make([]letter, len(rb.rows))
	var err error
	src := &source{data: rb.buf}
	for i, r := range rb.rows {
		out[i].addr = string(rb.buf[r.addr[0]:r.addr[1]])
		if !d.sumsLater {
			out[i].sum = sha256.Sum256(rb.buf[r.data[0]:r.data[1]])
		}
		if decode != nil && err == nil {
			if out[i].m, err = decode(out[i].addr, src, r.data[0], r.data[1]); err != nil {
				err = fmt.Errorf("the row of %s: %w", out[i].addr, err)
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil && d.err == nil {
		d.err = err
	}
	d.read.n += len(out)
	if d.sumsLater {
		d.read.later = append(d.read.later, rb)
	}
	for _, l := range out {
		if !d.sumsLater {
			d.read.sums[l.addr] = l.sum
		}
		if l.m != nil {
			d.read.ms[l.addr] = l.m
		}
	}
}

func (d *rowDecoder) wait() (pgRead, error) {
	close(d.work)
	d.wg.Wait()
	return d.read, d.err
}

// errNoStatesRow reports letters stored without the states row that says
// which state they belong to: written by hand, or a database half restored.
func (b *PG) errNoStatesRow(n int) error {
	return fmt.Errorf("%s holds %d letters of workspace %s but %s has no row for it, so their lineage and serial are unknown; refusing to guess. Nothing was changed; restore the states row or remove the letters' rows by hand",
		b.table("mailings"), n, b.workspace, b.table("states"))
}

// writeSnapshot writes s at serial in one transaction, fenced by the lock:
// the states row, the rows of ch, and the deletion of the journal rows it
// folds. When what is stored is not what this backend last read or wrote
// (another writer came between), or force (a push) is set, it replaces
// every row instead; it refuses another lineage unless force. It returns
// the rows written when it wrote them all, nil otherwise. The caller holds
// b.mu and s.mu.
func (b *PG) writeSnapshot(ctx context.Context, s *State, serial uint64, ch *pgChange, force bool) (all []pgRow, err error) {
	st := &b.stored
	err = b.withConn(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if fence := b.fencePID; fence != 0 && !b.stillLocked(ctx, tx.Conn(), fence) {
			return errLockLost(b.desc)
		}
		var have string
		var haveSerial int64
		var haveBlob bool
		err = tx.QueryRow(ctx, "SELECT lineage, serial, data IS NOT NULL FROM "+b.table("states")+" WHERE workspace = $1 FOR UPDATE", b.workspace).Scan(&have, &haveSerial, &haveBlob)
		found := err == nil
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case have != s.Lineage && !force:
			return fmt.Errorf("refusing to write: the state in %s has lineage %s, not %s", b.desc, have, s.Lineage)
		}
		// Without a states row nothing says which rows are there: a first
		// write replaces them all, as a push does.
		full := force || !found || !st.exists || uint64(haveSerial) != st.serial || haveBlob != st.blob
		tag, err := tx.Exec(ctx, "INSERT INTO "+b.table("states")+` AS s (workspace, lineage, serial, version, postform_version, data, updated_at) VALUES ($1, $2, $3, $4, $5, NULL, now())
			ON CONFLICT (workspace) DO UPDATE SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, version = EXCLUDED.version,
				postform_version = EXCLUDED.postform_version, data = NULL, updated_at = now()
			WHERE $6 OR s.lineage = EXCLUDED.lineage`,
			b.workspace, s.Lineage, int64(serial), formatOf(s), s.PostformVersion, force)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("refusing to write: the state in %s was just created by another writer with another lineage than %s", b.desc, s.Lineage)
		}
		if full {
			switch {
			case ch != nil && len(ch.upsert) == len(s.Mailings):
				all = ch.upsert // every letter is to be written already: a first write
			default:
				if all, err = allRows(s); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, "DELETE FROM "+b.table("mailings")+" WHERE workspace = $1", b.workspace); err != nil {
				return err
			}
			if err := b.copyRows(ctx, tx, all); err != nil {
				return err
			}
		} else {
			if err := b.upsertRows(ctx, tx, ch); err != nil {
				return err
			}
		}
		del := "DELETE FROM " + b.table("journal") + " WHERE workspace = $1 AND serial <= $2"
		args := []any{b.workspace, int64(serial)}
		if force {
			del = "DELETE FROM " + b.table("journal") + " WHERE workspace = $1"
			args = args[:1]
		}
		if _, err := tx.Exec(ctx, del, args...); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("writing the state to %s: %w", b.desc, err)
	}
	return all, nil
}

// pgRowBatch bounds the letters of one statement: a statement's
// parameters are held in memory twice, by pgx and by the server.
const pgRowBatch = 2000

// upsertRows deletes the removed letters' rows and writes the changed ones.
func (b *PG) upsertRows(ctx context.Context, tx pgx.Tx, ch *pgChange) error {
	for i := 0; i < len(ch.remove); i += pgRowBatch {
		chunk := ch.remove[i:min(i+pgRowBatch, len(ch.remove))]
		if _, err := tx.Exec(ctx, "DELETE FROM "+b.table("mailings")+" WHERE workspace = $1 AND address = ANY($2::text[])", b.workspace, chunk); err != nil {
			return err
		}
	}
	for i := 0; i < len(ch.upsert); i += pgRowBatch {
		chunk := ch.upsert[i:min(i+pgRowBatch, len(ch.upsert))]
		addrs, data := make([]string, len(chunk)), make([]string, len(chunk))
		for j, r := range chunk {
			addrs[j], data[j] = r.address, string(r.data)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+b.table("mailings")+` (workspace, address, mailing)
			SELECT $1, r.a, r.m FROM unnest($2::text[], $3::text[]) AS r(a, m)
			ON CONFLICT (workspace, address) DO UPDATE SET mailing = EXCLUDED.mailing`, b.workspace, addrs, data); err != nil {
			return err
		}
	}
	return nil
}

// copyRows inserts rows with COPY, the quickest way to write them all.
func (b *PG) copyRows(ctx context.Context, tx pgx.Tx, rows []pgRow) error {
	_, err := tx.CopyFrom(ctx, pgx.Identifier{b.schema, "mailings"}, []string{"workspace", "address", "mailing"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return []any{b.workspace, rows[i].address, string(rows[i].data)}, nil
		}))
	return err
}

// written records that s is stored at serial, with the rows of ch, or all
// when they were all written.
func (st *pgStored) written(s *State, serial uint64, ch *pgChange, all []pgRow) {
	if all != nil {
		st.rows, st.later = make(map[string]pgSum, len(all)), nil
		for _, r := range all {
			st.rows[r.address] = r.sum
		}
	} else {
		st.digestRows()
		for _, a := range ch.remove {
			delete(st.rows, a)
		}
		for _, r := range ch.upsert {
			st.rows[r.address] = r.sum
		}
	}
	st.exists, st.serial, st.blob, st.base = true, serial, false, nil
	st.version, st.pfv = formatOf(s), s.PostformVersion
}
