package state

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// lazyCount is how many mailings of s a plan-only load left undecoded.
func lazyCount(s *State) int {
	n := 0
	for _, m := range s.Mailings {
		if !m.DetailLoaded() {
			n++
		}
	}
	return n
}

// A state file written by this postform goes through a plan-only load and
// back byte for byte, and so does each fixture as Decode reads it.
func TestDecodeForPlanRoundTrip(t *testing.T) {
	ins, _ := filepath.Glob("testdata/roundtrip/*.in.json")
	for _, in := range ins {
		out := strings.TrimSuffix(in, ".in.json") + ".out.json"
		for _, src := range []string{in, out} {
			t.Run(filepath.Base(src), func(t *testing.T) {
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				s, err := DecodeForPlan(data)
				if err != nil {
					t.Fatal(err)
				}
				if src == out && strings.Contains(string(data), `"terminal":true`) && strings.Contains(string(data), `"proofs":`) && lazyCount(s) == 0 {
					t.Fatal("no terminal letter was left undecoded: the test checks nothing")
				}
				got, err := Encode(s)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Encode(DecodeForPlan(%s)) differs from %s:\n--- got\n%s\n--- want\n%s", src, out, got, want)
				}
			})
		}
	}
}

// A plan-only load is the full load once each detail is loaded, and its
// encoding is the full encoding's, through Encode and EncodeMailing.
func TestDecodeForPlanMatchesDecode(t *testing.T) {
	st := terminalState(300)
	for i := range 100 { // some not terminal, some without proofs, some superseded
		m := st.Mailings[addrOf(i)]
		switch i % 4 {
		case 0:
			m.Terminal = false
		case 1:
			m.Proofs, m.Deliveries = nil, nil
		case 2:
			m.Superseded = []SupersededJob{{JobID: "J-old", JobName: "old", ContentHash: "x", TrackingNumbers: []string{"T1"}, Proofs: m.Proofs[:1]}}
			m.Problems = []string{`a problem with ,"terminal":true, in it`}
		case 3:
			m.LastRefreshed = m.LastRefreshed.AddDate(-100, 0, 0)
			m.LastRefreshed = m.LastRefreshed.AddDate(100, 0, 0)
			m.Options = map[string]string{"terminal": "x", "last_refreshed": `,"terminal":`}
		}
	}
	data, err := Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := DecodeForPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	if n := lazyCount(lazy); n < 200 {
		t.Fatalf("%d of 300 mailings left undecoded, want the 200+ terminal ones with detail", n)
	}
	again, err := Encode(lazy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Fatal("Encode(DecodeForPlan(data)) != data")
	}
	for a, m := range lazy.Mailings {
		row, err := EncodeMailing(m)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := EncodeMailing(full.Mailings[a])
		if !bytes.Equal(row, want) {
			t.Fatalf("EncodeMailing of the plan-only %s:\n%s\nwant\n%s", a, row, want)
		}
		pm, err := DecodeMailingForPlan(a, row)
		if err != nil {
			t.Fatal(err)
		}
		if pm.DetailLoaded() != m.DetailLoaded() {
			t.Errorf("%s: DecodeMailingForPlan left detail %v, DecodeForPlan %v", a, !pm.DetailLoaded(), !m.DetailLoaded())
		}
		if row2, _ := EncodeMailing(pm); !bytes.Equal(row2, want) {
			t.Fatalf("EncodeMailing(DecodeMailingForPlan(%s)) changed the row", a)
		}
		if err := m.LoadDetail(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, full.Mailings[a]) {
			t.Fatalf("%s after LoadDetail:\n%+v\nwant\n%+v", a, m, full.Mailings[a])
		}
	}
}

// Changing a plan-only mailing keeps its proofs, through Encode and through
// the local backend's journal and snapshot.
func TestLazyMailingKeepsItsProofs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	be := open(t, Config{Dir: dir})
	s := load(t, be)
	a := addrOf(7)
	s.Mailings[a] = terminalMailing(a, 7)
	s.Mailings[addrOf(8)] = terminalMailing(addrOf(8), 8)
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	be.Close()

	be = open(t, Config{Dir: dir})
	ps, err := LoadForPlan(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	m := ps.Mailings[a]
	if m.DetailLoaded() || m.Proofs != nil {
		t.Fatal("the local backend's LoadForPlan decoded a terminal letter's proofs")
	}
	m.Problems = []string{"looked at by a test"}
	m.JobStatus = "ARCHIVED"
	if err := be.Record(ctx, ps, a); err != nil { // the journal encodes it with json.Marshal
		t.Fatal(err)
	}
	be.Close()

	be = open(t, Config{Dir: dir})
	got := load(t, be).Mailings[a]
	if got.JobStatus != "ARCHIVED" || len(got.Problems) != 1 {
		t.Fatalf("the change was not kept: %+v", got)
	}
	want := terminalMailing(a, 7)
	if !reflect.DeepEqual(got.Proofs, want.Proofs) || !reflect.DeepEqual(got.Deliveries, want.Deliveries) {
		t.Fatalf("proofs or deliveries lost through the journal:\n%+v\nwant\n%+v", got.Proofs, want.Proofs)
	}

	ps, err = LoadForPlan(ctx, be) // the journal's record is decoded in full
	if err != nil {
		t.Fatal(err)
	}
	ps.Mailings[addrOf(8)].Problems = []string{"changed"}
	if err := be.Persist(ctx, ps); err != nil {
		t.Fatal(err)
	}
	be.Close()
	m8 := load(t, open(t, Config{Dir: dir})).Mailings[addrOf(8)]
	if len(m8.Proofs) != 3 || len(m8.Problems) != 1 {
		t.Fatalf("proofs lost through the snapshot: %+v", m8)
	}
}

// Setting the detail of a plan-only mailing without loading it first is
// refused at encoding: the recorded proofs would be lost.
func TestLazyDetailConflict(t *testing.T) {
	data, _ := Encode(terminalState(1))
	s, err := DecodeForPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Mailings[addrOf(0)]
	c := m.Clone()
	m.Proofs = []Proof{{Name: "NEW"}}
	if _, err := Encode(s); err == nil || !strings.Contains(err.Error(), "LoadDetail") {
		t.Fatalf("Encode = %v, want a refusal naming LoadDetail", err)
	}
	if _, err := EncodeMailing(m); err == nil {
		t.Fatal("EncodeMailing accepted it")
	}
	if err := m.LoadDetail(); err == nil {
		t.Fatal("LoadDetail over set proofs accepted it")
	}
	// The clone shares the undecoded detail and loads it on its own.
	if c.DetailLoaded() {
		t.Fatal("Clone decoded the detail")
	}
	if err := c.LoadDetail(); err != nil || len(c.Proofs) != 3 {
		t.Fatalf("clone LoadDetail: %v, %d proofs", err, len(c.Proofs))
	}
}

// A corrupt detail is found by LoadDetail, at its line in the state file;
// one that does not even delimit is found by the plan-only load.
func TestLazyDetailCorrupt(t *testing.T) {
	data, _ := Encode(terminalState(3))
	bad := bytes.Replace(data, []byte(`"code":"DELIVERED"`), []byte(`"code":DELIVERED`), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("no tracking event to spoil")
	}
	if _, err := Decode(bad); err == nil {
		t.Fatal("Decode accepted it")
	}
	s, err := DecodeForPlan(bad)
	if err != nil {
		t.Fatalf("DecodeForPlan: %v", err)
	}
	m := s.Mailings[addrOf(0)]
	err = m.LoadDetail()
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("LoadDetail = %v, want a *CorruptError", err)
	}
	wantOff := bytes.Index(bad, []byte(`:DELIVERED`)) + 1
	if ce.Line != 6 || ce.Offset != int64(wantOff) || !strings.Contains(ce.Error(), addrOf(0)) {
		t.Errorf("LoadDetail = %v (offset %d), want line 6, byte %d, naming %s", err, ce.Offset, wantOff, addrOf(0))
	}
	if !m.DetailLoaded() && m.Proofs != nil {
		t.Error("a failed LoadDetail changed the mailing")
	}
	if err := s.Mailings[addrOf(1)].LoadDetail(); err != nil {
		t.Errorf("the next letter's detail: %v", err)
	}

	wrongType := bytes.Replace(data, []byte(`"status_code":610`), []byte(`"status_code":"610"`), 1)
	s, err = DecodeForPlan(wrongType)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mailings[addrOf(0)].LoadDetail(); !errors.As(err, &ce) || !strings.Contains(err.Error(), "status_code") {
		t.Errorf("LoadDetail of a wrong type = %v", err)
	}

	unterminated := bytes.Replace(data, []byte(`"code":"DELIVERED"`), []byte(`"code":"DELIVERED`), 1)
	_, want := Decode(unterminated)
	_, err = DecodeForPlan(unterminated)
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("DecodeForPlan = %v, want Decode's %v", err, want)
	}
}

// The plan-only load refuses what Decode refuses, with the same error.
func TestDecodeForPlanRefuses(t *testing.T) {
	for _, in := range []string{
		"", "{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"mail", `{"version": 1, "lineage": "x" ]`,
		`{"version": 1, "lineage": "x", "serial": "three"}`,
		`{"version": 2, "lineage": "x", "serial": 1, "mailings": {"a": "a format we do not know"}}`,
		`{"version": 1, "serial": 1, "mailings": {}}`, `{"lineage": "x"}`, `{"version": 0, "lineage": "x"}`,
		`{"version": 1, "lineage": "x", "mailings": {"a": {"address": "b"}}}`,
		`{"version": 1, "lineage": "x", "mailings": {"a": {"address": "b", "deliveries": [], "terminal": true}}}`,
		`{"version": 1, "lineage": "x", "mailings": {}} trailing`,
		`{"version": 1, "lineage": "x", "mailings": {"a": {"terminal": "yes"}}}`,
	} {
		_, want := Decode([]byte(in))
		_, got := DecodeForPlan([]byte(in))
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("DecodeForPlan(%q) = %v, want %v", in, got, want)
		}
	}
}

// The local backend's plan-only load keeps no copy of the file: a detail
// needed later is read again, and refused if the file changed meanwhile.
func TestLoadForPlanRereads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	be := open(t, Config{Dir: dir})
	s := load(t, be)
	for i := range 3 {
		s.Mailings[addrOf(i)] = terminalMailing(addrOf(i), i)
	}
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadForPlan(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	m0 := ps.Mailings[addrOf(0)]
	if m0.DetailLoaded() {
		t.Fatal("not loaded lazily")
	}
	if m0.detail.src.data != nil {
		t.Fatal("the plan-only load kept the file's bytes")
	}
	if err := m0.LoadDetail(); err != nil || len(m0.Proofs) != 3 {
		t.Fatalf("LoadDetail after the bytes were dropped: %v, %d proofs", err, len(m0.Proofs))
	}

	ps, err = LoadForPlan(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	s.Mailings[addrOf(0)].Problems = []string{"written by another run"}
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	err = ps.Mailings[addrOf(1)].LoadDetail()
	if err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("LoadDetail of a file written since = %v, want a refusal", err)
	}
	if _, err := Encode(ps); err == nil {
		t.Fatal("Encode of a state whose file changed under it succeeded")
	}
}

// The streamed snapshot of a plan-only load is DecodeForPlan's state, with
// its size, and hands other layouts to the whole-file path.
func TestDecodeForPlanStream(t *testing.T) {
	st := terminalState(50)
	st.PostformVersion = "0.9.0"
	st.Mailings[addrOf(3)].Terminal = false
	st.Mailings[addrOf(4)].Problems = []string{strings.Repeat("long ", 300000)} // a line longer than the reader's buffer
	data, _ := Encode(st)
	src := &source{positioned: true, reread: func() ([]byte, error) { return data, nil }}
	res, ok := decodeForPlanStream(bytes.NewReader(data), src)
	if !ok {
		t.Fatal("a state Encode wrote was not streamed")
	}
	if res.id != idOf(data) {
		t.Error("the streamed size or hash differs from the file's")
	}
	if lazyCount(res.s) != 49 {
		t.Errorf("%d lazy mailings, want 49", lazyCount(res.s))
	}
	if got, _ := Encode(res.s); !bytes.Equal(got, data) {
		t.Fatal("Encode of the streamed state differs from the file")
	}
	full, _ := Decode(data)
	for a, m := range res.s.Mailings {
		if err := m.LoadDetail(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, full.Mailings[a]) {
			t.Fatalf("%s streamed:\n%+v\nwant\n%+v", a, m, full.Mailings[a])
		}
	}
	huge := terminalState(2)
	huge.Mailings[addrOf(1)].Problems = []string{strings.Repeat("long ", maxStreamLine/5+1)} // past the bound: the whole-file path
	hd, _ := Encode(huge)
	if _, ok := decodeForPlanStream(bytes.NewReader(hd), src); ok {
		t.Error("a line longer than maxStreamLine was streamed")
	}
	empty, _ := Encode(New("x"))
	if res, ok := decodeForPlanStream(bytes.NewReader(empty), src); !ok || len(res.s.Mailings) != 0 || res.id != idOf(empty) {
		t.Errorf("empty state: ok %v", ok)
	}
	for _, name := range []string{"full.in.json", "minimal.in.json"} {
		in, _ := os.ReadFile("testdata/roundtrip/" + name)
		if _, ok := decodeForPlanStream(bytes.NewReader(in), src); ok {
			t.Errorf("%s (another layout) was streamed", name)
		}
	}
	for _, cut := range []int{len(data) - 1, len(data) / 2, 40} {
		if _, ok := decodeForPlanStream(bytes.NewReader(data[:cut]), src); ok {
			t.Errorf("a file cut at byte %d was streamed", cut)
		}
	}
}

// The local backend's plan-only load refuses a corrupt snapshot as Load
// does, and places a corrupt detail at its line in the file.
func TestLoadForPlanCorrupt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	be := open(t, Config{Dir: dir})
	data, _ := Encode(terminalState(3))
	path := be.(*Local).Path()
	write := func(b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(bytes.Replace(data, []byte(`"terminal":true}`), []byte(`"terminal":true`), 1))
	_, want := be.Load(ctx)
	_, got := LoadForPlan(ctx, be)
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("LoadForPlan = %v, want Load's %v", got, want)
	}

	write(bytes.Replace(data, []byte(`"status_code":610`), []byte(`"status_code":61O`), 2))
	s, err := LoadForPlan(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Mailings[addrOf(1)].LoadDetail()
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 7 || !strings.Contains(err.Error(), addrOf(1)) {
		t.Fatalf("LoadDetail = %v, want a *CorruptError at line 7 naming %s", err, addrOf(1))
	}
	if _, err := be.Load(ctx); !errors.As(err, &ce) {
		t.Fatalf("Load = %v, want the *CorruptError", err)
	}
}

// A plan-only load leaves the snapshot's digest for a Persist to compute
// from the file read again: a Persist that changes nothing still writes
// nothing, one that changes a letter writes it, and a file changed in
// between is refused, not overwritten.
func TestLoadForPlanThenPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	be := open(t, Config{Dir: dir})
	s := load(t, be)
	for i := range 3 {
		s.Mailings[addrOf(i)] = terminalMailing(addrOf(i), i)
	}
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	be.Close()
	path := be.(*Local).Path()
	before, _ := os.ReadFile(path)

	be = open(t, Config{Dir: dir})
	ps, err := LoadForPlan(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	if be.(*Local).baselineLater == nil {
		t.Fatal("the plan-only load computed the digest: the test checks nothing")
	}
	if err := be.Persist(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if n := be.(*Local).BytesWritten(); n != 0 {
		t.Fatalf("a Persist of the state as loaded wrote %d bytes", n)
	}
	ps.Mailings[addrOf(1)].Problems = []string{"changed"}
	if err := be.Persist(ctx, ps); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	got, err := Decode(after)
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != s.Serial+1 || len(got.Mailings[addrOf(1)].Problems) != 1 || len(got.Mailings[addrOf(2)].Proofs) != 3 {
		t.Fatalf("after a change: serial %d (want %d), %+v", got.Serial, s.Serial+1, got.Mailings[addrOf(1)])
	}
	be.Close()

	be = open(t, Config{Dir: dir})
	if ps, err = LoadForPlan(ctx, be); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, before, 0o644); err != nil { // another writer
		t.Fatal(err)
	}
	err = be.Persist(ctx, ps)
	if err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("Persist over a file changed since the load = %v, want a refusal", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("the refused Persist wrote the file")
	}
}

// SupersededJobs reads a lazily loaded letter's replaced jobs from its JSON
// without decoding the rest, and changes nothing; a bad one is a
// *CorruptError naming the letter.
func TestSupersededJobsOfALazyLetter(t *testing.T) {
	s := terminalState(2)
	m := s.Mailings[addrOf(0)]
	m.Superseded = []SupersededJob{
		{JobID: "J-old-1", JobName: m.JobName, ContentHash: "sha256:1", SubmittedAt: m.SubmittedAt, TrackingNumbers: []string{"1A1"}, Proofs: m.Proofs[:1]},
		{JobID: "J-old-2", JobName: m.JobName, ContentHash: "sha256:2"},
	}
	data := encode(t, s)
	escaped := bytes.Replace(data, []byte(`"superseded":`), []byte(`"\u0073uperseded":`), 1)
	for name, in := range map[string][]byte{"plain": data, "escaped key": escaped} {
		lazy, err := DecodeForPlan(in)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range [][]SupersededJob{m.Superseded, nil} {
			lm := lazy.Mailings[addrOf(i)]
			if name == "plain" && lm.DetailLoaded() {
				t.Fatalf("%s: letter %d decoded in full: the test checks nothing", name, i)
			}
			got, err := lm.SupersededJobs()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: letter %d: SupersededJobs = %+v, %v; want %+v", name, i, got, err, want)
			}
			if name == "plain" && (lm.DetailLoaded() || lm.Superseded != nil) {
				t.Errorf("%s: letter %d: SupersededJobs changed the letter", name, i)
			}
		}
	}

	bad := bytes.Replace(data, []byte(`"job_id":"J-old-2"`), []byte(`"job_id":2`), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("no replaced job to spoil")
	}
	lazy, err := DecodeForPlan(bad)
	if err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if _, err := lazy.Mailings[addrOf(0)].SupersededJobs(); !errors.As(err, &ce) || !strings.Contains(err.Error(), addrOf(0)) || ce.Line == 0 {
		t.Errorf("SupersededJobs of a bad job id = %v, want a *CorruptError at a line, naming %s", err, addrOf(0))
	}
}

// A detail key spelled in another case ("Superseded", as encoding/json
// still matches it) makes the letter decode in full: left lazy, its
// replaced jobs were decoded beside a detail that should hold them, lost
// to SupersededJobs and refused when the state was written.
func TestDetailKeySpelledOtherwise(t *testing.T) {
	s := terminalState(2)
	s.Mailings[addrOf(0)].Superseded = []SupersededJob{{JobID: "J-old-1"}}
	data := encode(t, s)
	for _, spelled := range []string{`"Superseded":`, `"SUPERSEDED":`, "\"\u017fuperseded\":"} {
		in := bytes.Replace(data, []byte(`"superseded":`), []byte(spelled), 1)
		want, err := Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		lazy, err := DecodeForPlan(in)
		if err != nil {
			t.Fatal(err)
		}
		m := lazy.Mailings[addrOf(0)]
		if got, err := m.SupersededJobs(); err != nil || len(got) != 1 || got[0].JobID != "J-old-1" {
			t.Errorf("%s: SupersededJobs = %+v, %v", spelled, got, err)
		}
		if _, err := Encode(lazy); err != nil {
			t.Errorf("%s: the plan-only load cannot be written back: %v", spelled, err)
		}
		if err := m.LoadDetail(); err != nil || !reflect.DeepEqual(m, want.Mailings[addrOf(0)]) {
			t.Errorf("%s: the letter differs from Decode's (%v)", spelled, err)
		}
		if lazy.Mailings[addrOf(1)].DetailLoaded() {
			t.Errorf("%s: the other letter, spelled as Encode writes it, was decoded in full", spelled)
		}
	}
}
