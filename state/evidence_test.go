package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/postform/postform/internal/pgtest"
)

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The proof store keeps one copy per content, refuses content that does
// not match its key, and reads back byte for byte from another backend.
func TestPGProofStore(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	b := open(t, cfg).(*PG)
	proof := []byte("%PDF-1.7 proof of deposit\x00\xff")
	sum := sumHex(proof)
	for range 2 {
		if err := b.StoreProof(ctx, sum, proof); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.StoreProof(ctx, sumHex([]byte("other")), proof); err == nil {
		t.Fatal("a proof stored under another content's sha256 was accepted")
	}
	other := open(t, Config{Type: "pg", ConnStr: cfg.ConnStr, SchemaName: cfg.SchemaName, Workspace: "staging"}).(*PG)
	got, err := other.LoadProof(ctx, sum)
	if err != nil || string(got) != string(proof) {
		t.Fatalf("LoadProof = %q, %v", got, err)
	}
	if _, err := other.LoadProof(ctx, sumHex([]byte("never stored"))); !errors.Is(err, ErrNoProof) {
		t.Fatalf("LoadProof of an unknown sha256 = %v, want ErrNoProof", err)
	}
	c, err := pgx.Connect(ctx, cfg.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{cfg.SchemaName, "proofs"}.Sanitize()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("proofs rows = %d, %v; want one copy", n, err)
	}
	if _, err := c.Exec(ctx, "UPDATE "+pgx.Identifier{cfg.SchemaName, "proofs"}.Sanitize()+" SET data = 'x'"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.LoadProof(ctx, sum); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("LoadProof of altered content = %v", err)
	}
}

// The pg audit trail is per workspace, numbered, and append-only.
func TestPGAuditTrail(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Type: "pg", ConnStr: pgtest.Shared(t), SchemaName: pgtest.Schema(t)}
	b := open(t, cfg).(*PG)
	for i, l := range []string{`{"a":1}`, `{"a":2}`} {
		if err := b.AppendAudit(ctx, uint64(i+1), []byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.AppendAudit(ctx, 2, []byte(`{"fork":1}`)); err == nil {
		t.Fatal("a second entry 2 was accepted: the chain could fork")
	}
	lines, err := b.ReadAudit(ctx)
	if err != nil || len(lines) != 2 || string(lines[1]) != `{"a":2}` {
		t.Fatalf("ReadAudit = %q, %v", lines, err)
	}
	if last, err := b.LastAudit(ctx); err != nil || string(last) != `{"a":2}` {
		t.Fatalf("LastAudit = %q, %v", last, err)
	}
	other := open(t, Config{Type: "pg", ConnStr: cfg.ConnStr, SchemaName: cfg.SchemaName, Workspace: "staging"}).(*PG)
	if lines, _ := other.ReadAudit(ctx); len(lines) != 0 {
		t.Fatalf("another workspace reads %q", lines)
	}
	if last, err := other.LastAudit(ctx); err != nil || last != nil {
		t.Fatalf("LastAudit of an empty trail = %q, %v", last, err)
	}
	c, err := pgx.Connect(ctx, cfg.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{"UPDATE %s SET entry = 'x'", "DELETE FROM %s"} {
		if _, err := c.Exec(ctx, strings.Replace(q, "%s", pgx.Identifier{cfg.SchemaName, "audit"}.Sanitize(), 1)); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s = %v, want refused", q, err)
		}
	}
}

// The local audit file is appended beside the state, never through a link,
// and a torn last line stays a line of its own.
func TestLocalAuditFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, Config{Dir: dir}).(*Local)
	if err := b.AppendAudit(ctx, 1, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "postform.state.json.audit")
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"torn`)
	f.Close()
	if err := b.AppendAudit(ctx, 2, []byte(`{"a":2}`)); err != nil {
		t.Fatal(err)
	}
	lines, err := b.ReadAudit(ctx)
	if err != nil || len(lines) != 3 || string(lines[2]) != `{"a":2}` {
		t.Fatalf("ReadAudit = %q, %v", lines, err)
	}

	elsewhere := filepath.Join(t.TempDir(), "target")
	os.WriteFile(elsewhere, nil, 0o644)
	os.Remove(path)
	if err := os.Symlink(elsewhere, path); err != nil {
		t.Fatal(err)
	}
	if err := b.AppendAudit(ctx, 1, []byte(`{"a":1}`)); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("appending through a link = %v", err)
	}
	if data, _ := os.ReadFile(elsewhere); len(data) != 0 {
		t.Fatalf("the link's target was written: %q", data)
	}
}
