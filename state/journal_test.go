package state

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJournalLineChecksum(t *testing.T) {
	line, err := encodeJournalLine("L", 3, []journalRecord{{Address: "a", Mailing: testMailing("a", 1)}, {Address: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if line[len(line)-1] != '\n' || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", line)
	}
	l, err := decodeJournalLine(line[:len(line)-1])
	if err != nil {
		t.Fatal(err)
	}
	if l.Lineage != "L" || l.Serial != 3 || len(l.Records) != 2 || l.Records[1].Mailing != nil || l.Records[0].Mailing.JobName != testMailing("a", 1).JobName {
		t.Errorf("decoded %+v", l)
	}
	// Any flipped byte is caught.
	for _, i := range []int{2, len(line) / 2, len(line) - 12} {
		bad := bytes.Clone(line[:len(line)-1])
		bad[i] ^= 0x01
		if _, err := decodeJournalLine(bad); err == nil {
			t.Errorf("a flipped byte at %d went unnoticed", i)
		}
	}
}

func writeJournal(t *testing.T, dir string, lines ...[]byte) string {
	t.Helper()
	path := filepath.Join(dir, DefaultPath+".journal")
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func jline(t *testing.T, serial uint64, addr string) []byte {
	t.Helper()
	l, err := encodeJournalLine("11111111-1111-4111-8111-111111111111", serial, []journalRecord{{Address: addr, Mailing: testMailing(addr, int(serial))}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestJournalCorruptMiddleRefused(t *testing.T) {
	dir := t.TempDir()
	second := jline(t, 2, "b")
	second[20] ^= 0x01
	path := writeJournal(t, dir, jline(t, 1, "a"), second, jline(t, 3, "c"))
	before, _ := os.ReadFile(path)
	b := open(t, Config{Dir: dir})
	_, err := b.Load(context.Background())
	mustContain(t, err, path, "line 2", "corrupt")
	s := New("11111111-1111-4111-8111-111111111111")
	s.Mailings["d"] = testMailing("d", 4)
	if err := b.Record(context.Background(), s, "d"); err == nil {
		t.Error("Record after a corrupt journal succeeded")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the corrupt journal was changed")
	}
}

func TestJournalTornTails(t *testing.T) {
	for name, tail := range map[string][]byte{
		"half a line":             []byte(`{"lineage":"11111111-1111-4111-8111-111111111111","serial":3,"rec`),
		"zeros":                   make([]byte, 4096),
		"bad line with a newline": append(bytes.Replace(jline(t, 3, "c"), []byte(`"c"`), []byte(`"x"`), 1), '\n'),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeJournal(t, dir, jline(t, 1, "a"), jline(t, 2, "b"), tail)
			b := open(t, Config{Dir: dir})
			s := load(t, b)
			if s.Serial != 2 || len(s.Mailings) != 2 {
				t.Errorf("serial %d, %v", s.Serial, s.Addresses())
			}
			if w := b.(Warner).Warnings(); len(w) != 1 || !strings.Contains(w[0], "torn") {
				t.Errorf("warnings %q", w)
			}
		})
	}
}

func TestJournalFoldedRecordsSkipped(t *testing.T) {
	// A crash between writing the snapshot and removing the journal leaves
	// records the snapshot already holds: they are not applied again.
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, Config{Dir: dir})
	s := load(t, b)
	recordMailing(t, b, s, testMailing("a", 1))
	journal, _ := os.ReadFile(filepath.Join(dir, DefaultPath+".journal"))
	delete(s.Mailings, "a")
	s.Mailings["b"] = testMailing("b", 2)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultPath+".journal"), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	got := load(t, open(t, Config{Dir: dir}))
	if got.Mailings["a"] != nil || got.Serial != 2 {
		t.Errorf("a folded record was replayed: serial %d, %v", got.Serial, got.Addresses())
	}
}

func TestRecordIntoNewWorkspace(t *testing.T) {
	dir := t.TempDir()
	b := open(t, Config{Dir: dir, Workspace: "fresh"})
	s := New("22222222-2222-4222-8222-222222222222")
	recordMailing(t, b, s, testMailing("a", 1))
	got := load(t, open(t, Config{Dir: dir, Workspace: "fresh"}))
	if got.Lineage != s.Lineage || got.Mailings["a"] == nil {
		t.Errorf("got lineage %s, %v", got.Lineage, got.Addresses())
	}
}
