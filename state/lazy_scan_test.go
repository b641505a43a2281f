package state

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

const fuzzAddr = `mailing.reminder["a"]`

// scanSeeds are mailings of every shape the scanner reads, and some it
// must hand to the general path, encoded as a state file's line.
func scanSeeds(t testing.TB) [][]byte {
	var out [][]byte
	add := func(m *Mailing) {
		m.Address = fuzzAddr
		b, err := EncodeMailing(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	add(testMailing(fuzzAddr, 1))
	add(terminalMailing(fuzzAddr, 2))
	m := terminalMailing(fuzzAddr, 3)
	m.InputHash, m.Owner = "sha256:abc", "Accounts \"Ré\"\n\u2028"
	m.Options = map[string]string{"printMode": "2SIDE", "color": "yes", "é": "\t"}
	m.Recipient.Country = "FR"
	m.PackGroups = []PackGroup{{ID: "P1", Channel: "MAIL", Status: "OK", Eligible: true, Reasons: []string{"a", "b"},
		Raw: map[string]any{"n": 1.5, "s": "x", "l": []any{true, nil}, "o": map[string]any{}}}, {ID: "P2", Status: "KO"}}
	m.Superseded = []SupersededJob{{JobID: "J0", JobName: "old", ContentHash: "x", SubmittedAt: m.SubmittedAt}}
	m.Problems = []string{`,"terminal":true,`, "two"}
	add(m)
	m = terminalMailing(fuzzAddr, 4)
	m.Terminal = false // detail decoded by the general path
	add(m)
	m = testMailing(fuzzAddr, 5)
	m.Recipient = &Recipient{} // "lines":null
	m.AttemptedAt = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 3600))
	m.Documents = append(m.Documents, Document{Box: "annex", File: "b.pdf"})
	add(m)
	add(&Mailing{Phase: PhasePending})
	out = append(out,
		[]byte(`{"phase":"posted","proofs":[],"terminal":true,"deliveries":null}`),
		[]byte(`{"deliveries":[{"id":"D"}],"phase":"posted","terminal":true}`),
		[]byte(` { "address" : "mailing.reminder[\"a\"]" , "documents" : [ ] , "options" : { } , "terminal" : false } `),
		[]byte(`{"requested_proofs":[],"problems":null,"recipient":null,"pack_groups":[{"raw":null,"reasons":[]}]}`),
		[]byte(`{"documents":[{"size":-0,"pages":12},null],"job_id":"\u00e9\ud83d\ude00"}`),
		[]byte(`{"documents":[{"size":1e3}]}`),
		[]byte(`{"phase":"posted","phase":"pending"}`),
		[]byte(`{"Phase":"posted"}`),
		[]byte(`{"ContenthAsh":"x","job_iD":"y","Documents":[{"SHA256":"z","Si_ze":1}]}`), // found by the fuzzer
		[]byte("{\"service\":\"\xff\"}"),
		[]byte("{\"owner\":\"\\u00e9\xc3\"}"),
		[]byte("{\"address\":\"\xa9\\b\"}"), // found by the fuzzer: a bad byte before an escape
		[]byte("{\"service\":\"Lettre recommand\xc3\xa9e\"}"),
		[]byte(`{"attempted_at":"2026-13-01T00:00:00Z"}`),
		[]byte(`{"terminal":true,"proofs":[{"size":"x"}],"phase":"posted"}`),
		[]byte(`{"options":{"a":"1","a":"2"}}`),
		// Names compared with the ones Encode writes next: another
		// order (bench/gen's), a space before the colon, an escape, a
		// longer name with the same start, a name twice in a row.
		[]byte(`{"address":"mailing.reminder[\"a\"]","phase":"posted","job_status":"CREATED","terminal":true,"last_refreshed":"2026-01-02T03:04:05Z","deliveries":[{"id":"D"}],"proofs":[{"name":"CERTIF"}]}`),
		[]byte(`{"phase" :"posted","content_hash": "x","documents":[{"file" :"a.pdf","box":"","sha256":"s"}],"recipient":{"city":"P","lines":["a"]}}`),
		[]byte(`{"ph\u0061se":"posted","job_name\u0000":"x"}`),
		[]byte(`{"phase_x":"posted"}`),
		[]byte(`{"documents":[{"box":"","box":"a"}]}`),
		[]byte(`{"recipient":{"lines":["a"],"lines":["b"]}}`),
		[]byte(`{"pack_groups":[{"id":"P","id":"Q"}]}`),
	)
	return out
}

// FuzzPlanScanner checks the plan-only decoder against encoding/json, the
// decoder of every full load: whatever the scanner accepts, it reads as
// encoding/json does (the detail aside, which it does not decode), and
// DecodeMailingForPlan, once LoadDetail has run, is DecodeMailing, or
// refuses what it refuses (a detail that does not decode only at
// LoadDetail).
func FuzzPlanScanner(f *testing.F) {
	for _, s := range scanSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkPlanScanner(t, in)
	})
}

func checkPlanScanner(t *testing.T, in []byte) {
	t.Helper()
	var full Mailing
	fullErr := json.Unmarshal(in, &full)

	p := newPlanScanner()
	p.b = in
	var m Mailing
	end, hasDetail, ds, de, contiguous := p.mailing(skipSpace(in, 0), &m)
	if end >= 0 && skipSpace(in, end) == len(in) {
		want, wantErr := full, fullErr
		if hasDetail {
			if !contiguous {
				goto whole // the general path decodes it all
			}
			// What encoding/json reads without the detail members.
			light := append(bytes.Clone(in[:ds]), in[de:]...)
			want = Mailing{}
			wantErr = json.Unmarshal(light, &want)
		}
		if wantErr != nil {
			t.Fatalf("the scanner accepted %q, which encoding/json refuses: %v", in, wantErr)
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("the scanner read %q as\n%#v\nencoding/json as\n%#v", in, m, want)
		}
	}
whole:
	pm, err := DecodeMailingForPlan(fuzzAddr, in)
	fm, fullErr := DecodeMailing(fuzzAddr, in)
	if fullErr == nil && err != nil {
		t.Fatalf("DecodeMailingForPlan(%q) = %v; DecodeMailing accepts it", in, err)
	}
	if err != nil {
		return
	}
	lazy := !pm.DetailLoaded()
	var again []byte
	if lazy {
		if again, err = EncodeMailing(pm); err != nil {
			t.Fatalf("EncodeMailing of the plan-only %q: %v", in, err)
		}
	}
	if err := pm.LoadDetail(); err != nil {
		if fullErr == nil {
			t.Fatalf("LoadDetail of %q: %v; DecodeMailing accepts it", in, err)
		}
		return
	}
	if fullErr != nil {
		t.Fatalf("DecodeMailingForPlan and LoadDetail accepted %q; DecodeMailing refuses it: %v", in, fullErr)
	}
	if !reflect.DeepEqual(pm, fm) {
		t.Fatalf("DecodeMailingForPlan(%q) then LoadDetail:\n%#v\nDecodeMailing:\n%#v", in, pm, fm)
	}
	if canonical, _ := EncodeMailing(fm); lazy && bytes.Equal(canonical, in) && !bytes.Equal(again, in) {
		t.Fatalf("a plan-only %q encodes as\n%s", in, again)
	}
}

// The seeds, run by every go test: each of the scanner's cases, and the
// fallbacks (a name in another case, twice, a bad literal, a detail that
// does not decode).
func TestPlanScannerSeeds(t *testing.T) {
	accepted := 0
	for _, in := range scanSeeds(t) {
		checkPlanScanner(t, in)
		p := newPlanScanner()
		p.b = in
		if end, _, _, _, _ := p.mailing(skipSpace(in, 0), new(Mailing)); end >= 0 {
			accepted++
		}
	}
	if accepted < 10 {
		t.Fatalf("the scanner took only %d seeds: the comparison checks little", accepted)
	}
}

// Letters share the strings that repeat (statuses, services, proof
// names), and a letter's slices cannot be grown over its neighbour's.
func TestPlanScannerSharing(t *testing.T) {
	data, err := Encode(terminalState(3))
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeForPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Mailings[addrOf(0)], s.Mailings[addrOf(1)]
	if a.Service != b.Service || a.JobID == b.JobID {
		t.Fatalf("decoded wrong: %q %q %q %q", a.Service, b.Service, a.JobID, b.JobID)
	}
	if len(a.RequestedProofs) == 0 || &a.RequestedProofs[0] != &b.RequestedProofs[0] || cap(a.RequestedProofs) != len(a.RequestedProofs) {
		t.Fatalf("equal requested proofs not shared, or shared with room to grow: %p %p", a.RequestedProofs, b.RequestedProofs)
	}
	a.RequestedProofs = append(a.RequestedProofs, "EXTRA")
	a.Recipient.Lines = append(a.Recipient.Lines, "EXTRA")
	a.Documents = append(a.Documents, Document{File: "EXTRA"})
	want := terminalMailing(addrOf(1), 1)
	if !reflect.DeepEqual(b.RequestedProofs, want.RequestedProofs) || !reflect.DeepEqual(b.Recipient, want.Recipient) || !reflect.DeepEqual(b.Documents, want.Documents) {
		t.Fatalf("appending to one letter changed the next one: %+v", b)
	}
}

// FuzzDecodeForPlan compares the plan-only loads of a whole state file,
// DecodeForPlan and the local backend's streamed one, with Decode: what
// Decode reads they read the same (once LoadDetail has run), what it
// refuses they refuse (a detail that does not decode: at LoadDetail).
func FuzzDecodeForPlan(f *testing.F) {
	st := terminalState(3)
	st.Mailings[addrOf(1)].Terminal = false
	st.Mailings["mailing.x[\"é\"]"] = testMailing("mailing.x[\"é\"]", 9)
	data, err := Encode(st)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	empty, _ := Encode(New("x"))
	f.Add(empty)
	for _, s := range scanSeeds(f) {
		f.Add([]byte("{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": 1,\n  \"mailings\": {\n    \"mailing.reminder[\\\"a\\\"]\": " + string(s) + "\n  }\n}\n"))
	}
	// Members encoding/json takes for the state's in another case.
	f.Add([]byte("{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"Lineage\": \"y\",\n  \"serial\": 1,\n  \"mailings\": {}\n}\n"))
	f.Add([]byte("{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": 1,\n  \"Mailings\": {\"b\": {\"phase\": \"posted\"}},\n  \"mailings\": {\n    \"a\": {\"phase\":\"posted\"}\n  }\n}\n"))
	for _, key := range []string{`a\tb`, "a\tb", "a\xffb"} { // an escape, a raw tab, a bad byte
		f.Add([]byte("{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": 1,\n  \"mailings\": {\n    \"" + key + "\": {\"phase\":\"posted\"}\n  }\n}\n"))
	}
	// A letter named twice: the last one is kept, whatever the first says.
	for _, first := range []string{`{"phase":"pending"}`, `{"address":"b","phase":"pending"}`} {
		f.Add([]byte("{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": 1,\n  \"mailings\": {\n    \"a\": " + first + ",\n    \"a\": {\"phase\":\"posted\"}\n  }\n}\n"))
	}
	// An address member of the key's bytes is the key; one written
	// otherwise is read as a string.
	for _, addr := range [][2]string{{`m[\"a\"]`, `m[\"a\"]`}, {`m[\"a\"]`, `m[\u0022a\u0022]`}, {"a\xffb", "a\xffb"}, {"a\xffb", "a\xfeb"}, {`a\tb`, "a\tb"}, {`ab`, `abc`}, {`m[\"a\"]`, `m[\"b\"]`}} {
		f.Add([]byte("{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": 1,\n  \"mailings\": {\n    \"" + addr[0] + "\": {\"address\":\"" + addr[1] + "\",\"phase\":\"posted\"}\n  }\n}\n"))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := Decode(in)
		got, err := DecodeForPlan(in)
		compareLoads(t, "DecodeForPlan", in, want, wantErr, got, err)
		res, ok := decodeForPlanStream(bytes.NewReader(in), &source{positioned: true, reread: func() ([]byte, error) { return in, nil }})
		if ok {
			compareLoads(t, "the streamed load", in, want, wantErr, res.s, nil)
		}
	})
}

func compareLoads(t *testing.T, what string, in []byte, want *State, wantErr error, got *State, err error) {
	t.Helper()
	if wantErr != nil {
		if err != nil {
			if err.Error() != wantErr.Error() {
				t.Fatalf("%s of %q: %v; Decode: %v", what, in, err, wantErr)
			}
			return
		}
		for _, m := range got.Mailings {
			if m.LoadDetail() != nil {
				return // the detail's error, reported when it is loaded
			}
		}
		t.Fatalf("%s accepted %q, which Decode refuses: %v", what, in, wantErr)
	}
	if err != nil {
		t.Fatalf("%s of %q: %v; Decode accepts it", what, in, err)
	}
	for a, m := range got.Mailings {
		if err := m.LoadDetail(); err != nil {
			t.Fatalf("%s of %q: LoadDetail of %s: %v; Decode accepts it", what, in, a, err)
		}
	}
	if got.Version != want.Version || got.Lineage != want.Lineage || got.Serial != want.Serial || got.PostformVersion != want.PostformVersion ||
		!reflect.DeepEqual(got.Mailings, want.Mailings) {
		t.Fatalf("%s of %q:\n%#v\nDecode:\n%#v", what, in, got.Mailings, want.Mailings)
	}
}

// plainLen is the byte-wise count of plainByte, whatever byte stops it
// and wherever in a word it stands, after any byte below it.
func TestPlainLen(t *testing.T) {
	want := func(b []byte) int {
		n := 0
		for n < len(b) && plainByte[b[n]] {
			n++
		}
		return n
	}
	for c := range 256 {
		for _, before := range []byte{'a', 0x00, 0x01, 0x1f, 0x20, 0x21, '"', '\\', 0x7f, 0x80, 0xff} {
			for pos := range 17 {
				b := bytes.Repeat([]byte("x"), 17)
				b[pos] = byte(c)
				if pos > 0 {
					b[pos-1] = before
				}
				for end := pos; end <= len(b); end++ {
					if got, w := plainLen(b[:end]), want(b[:end]); got != w {
						t.Fatalf("plainLen(%q) = %d, want %d", b[:end], got, w)
					}
				}
			}
		}
	}
}
