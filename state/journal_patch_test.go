package state

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// recordMailing stores m in s at its address and records it through b, as
// an apply records a letter.
func recordMailing(t *testing.T, b Backend, s *State, m *Mailing) {
	t.Helper()
	s.Mailings[m.Address] = m
	if err := b.Record(context.Background(), s, m.Address); err != nil {
		t.Fatal(err)
	}
}

// pendingThenPosted records a letter as pending, then posted, as an apply
// does, and returns the journal's bytes.
func pendingThenPosted(t *testing.T, b Backend, s *State, addr string) []byte {
	t.Helper()
	pending := testMailing(addr, 1)
	pending.Phase, pending.JobID, pending.SubmittedAt, pending.JobStatus = PhasePending, "", time.Time{}, ""
	recordMailing(t, b, s, pending)
	recordMailing(t, b, s, testMailing(addr, 1))
	j, err := os.ReadFile(b.(*Local).journalPath())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJournalRecordsARecordedLetterAgainAsAPatch(t *testing.T) {
	dir := t.TempDir()
	b := open(t, Config{Dir: dir})
	s := load(t, b)
	j := pendingThenPosted(t, b, s, "a")
	lines := bytes.Split(bytes.TrimSuffix(j, []byte("\n")), []byte("\n"))
	if len(lines) != 2 || !bytes.Contains(lines[1], []byte(`"patches":[{"address":"a","fields":{`)) {
		t.Fatalf("the second record is not a patch:\n%s", j)
	}
	// Only what changed: the job, not the documents or the content hash.
	if bytes.Contains(lines[1], []byte("content_hash")) || !bytes.Contains(lines[1], []byte(`"job_id":"J-00000001"`)) {
		t.Errorf("patch holds the wrong fields: %s", lines[1])
	}
	if len(lines[1]) >= len(lines[0])/2 {
		t.Errorf("the patch (%d bytes) is not much smaller than the full record (%d bytes)", len(lines[1]), len(lines[0]))
	}
	got := load(t, open(t, Config{Dir: dir}))
	if want := testMailing("a", 1); !reflect.DeepEqual(got.Mailings["a"], want) {
		t.Errorf("replayed\n%+v\nwant\n%+v", got.Mailings["a"], want)
	}
	if got.Serial != 2 {
		t.Errorf("serial %d, want 2", got.Serial)
	}
}

func TestJournalPatchRemovesAField(t *testing.T) {
	dir := t.TempDir()
	b := open(t, Config{Dir: dir})
	s := load(t, b)
	m := testMailing("a", 1)
	m.Problems = []string{"refused"}
	recordMailing(t, b, s, m)
	recordMailing(t, b, s, testMailing("a", 1))
	if got := load(t, open(t, Config{Dir: dir})).Mailings["a"]; got.Problems != nil {
		t.Errorf("the problems the patch removed came back: %q", got.Problems)
	}
}

func TestJournalNoPatchAcrossAFold(t *testing.T) {
	// After Persist the journal is gone: a patch against a line of it could
	// never be replayed, so the next record is whole.
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, Config{Dir: dir})
	s := load(t, b)
	recordMailing(t, b, s, testMailing("a", 1))
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	recordMailing(t, b, s, testMailing("a", 2))
	j, _ := os.ReadFile(filepath.Join(dir, DefaultPath+".journal"))
	if bytes.Contains(j, []byte(`"patches"`)) {
		t.Fatalf("a record after the fold is a patch:\n%s", j)
	}
	if got := load(t, open(t, Config{Dir: dir})).Mailings["a"]; !reflect.DeepEqual(got, testMailing("a", 2)) {
		t.Errorf("got %+v", got)
	}
}

func TestJournalPatchWithoutItsBaseRefused(t *testing.T) {
	// A patch whose full record is not in the file cannot be replayed: the
	// journal is corrupt, not silently short of a letter.
	dir := t.TempDir()
	b := open(t, Config{Dir: dir})
	s := load(t, b)
	j := pendingThenPosted(t, b, s, "a")
	lines := bytes.SplitAfter(j, []byte("\n"))
	path := writeJournal(t, dir, lines[1], jline(t, 3, "b"))
	_, err := open(t, Config{Dir: dir}).Load(context.Background())
	mustContain(t, err, path, "line 1", "no earlier line holds")
}
