package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"
)

// refJournalEncoder is the journal writer's encode as it was before
// lineEncoder: json.Marshal of every mailing and line, fieldsPatch through
// maps. The fast one must write the same bytes.
type refJournalEncoder struct{ bases map[string][]byte }

func (w *refJournalEncoder) encode(lineage string, serial uint64, recs []journalRecord) ([]byte, error) {
	l := rawLine{Lineage: lineage, Serial: serial, Records: []rawRecord{}}
	var fresh map[string][]byte
	for _, r := range recs {
		if r.Mailing == nil {
			delete(w.bases, r.Address)
			l.Records = append(l.Records, rawRecord{Address: r.Address, Mailing: json.RawMessage("null")})
			continue
		}
		next, err := json.Marshal(r.Mailing)
		if err != nil {
			return nil, err
		}
		if prev, ok := w.bases[r.Address]; ok && r.Mailing.Address == r.Address {
			if f := fieldsPatch(prev, next); f != nil {
				l.Patches = append(l.Patches, journalPatch{Address: r.Address, Fields: f})
				delete(w.bases, r.Address)
				continue
			}
		}
		l.Records = append(l.Records, rawRecord{Address: r.Address, Mailing: next})
		if fresh == nil {
			fresh = map[string][]byte{}
		}
		fresh[r.Address] = next
	}
	line, err := encodeLine(l)
	if err != nil {
		return nil, err
	}
	maps.Copy(w.bases, fresh)
	return line, nil
}

// fieldsPatch is the journal writer's patch as it was before patchFields:
// the top-level fields of next that differ from prev, both encoded mailings
// (nil when they cannot be compared), through maps.
func fieldsPatch(prev, next []byte) map[string]json.RawMessage {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(prev, &a) != nil || json.Unmarshal(next, &b) != nil {
		return nil
	}
	out := map[string]json.RawMessage{}
	for k, v := range b {
		if !bytes.Equal(a[k], v) {
			out[k] = v
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out[k] = json.RawMessage("null")
		}
	}
	return out
}

// hostileStrings are what a configuration or an API answer may put in a
// field: HTML escapes, JSON escapes, line separators, invalid UTF-8.
var hostileStrings = []string{
	"", "a", "Lettre recommandée avec AR", "<b>&amp;</b>", "a&b", ">", `"quoted"`, `back\slash`,
	"tab\there", "nl\nx", "\x00\x01\x1f", "\u2028\u2029", "日本語", "\xff\xfe", "😀", "</script>",
	`{"a":1}`, "customer-000001", "  spaced  ",
}

// randomMailing makes a mailing at addr with each field, at random, empty,
// nil or filled with hostile strings.
func randomMailing(r *rand.Rand, addr string) *Mailing {
	str := func() string { return hostileStrings[r.IntN(len(hostileStrings))] }
	strs := func() []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		out := make([]string, 1+r.IntN(3))
		for i := range out {
			out[i] = str()
		}
		return out
	}
	at := func() time.Time {
		if r.IntN(3) == 0 {
			return time.Time{}
		}
		return time.Date(2026, 11, 1, 9, 0, 0, r.IntN(1e9), time.FixedZone("x", 3600*r.IntN(3)))
	}
	m := &Mailing{
		Address: addr, Phase: []Phase{PhasePending, PhasePosted}[r.IntN(2)],
		ContentHash: str(), InputHash: str(), JobName: str(), Service: str(), ServiceID: str(),
		Owner: str(), RequestedProofs: strs(), AttemptedAt: at(), JobID: str(), SubmittedAt: at(),
		JobStatus: str(), LastRefreshed: at(), Terminal: r.IntN(2) == 0, Problems: strs(),
	}
	if r.IntN(2) == 0 {
		m.Documents = []Document{{Box: str(), File: str(), SHA256: str(), Size: r.Int64N(1e6), Pages: r.IntN(3)}}
	}
	if r.IntN(2) == 0 {
		m.Options = map[string]string{str(): str(), str(): str()}
	}
	if r.IntN(2) == 0 {
		m.Recipient = &Recipient{Lines: strs(), Postcode: str(), City: str()}
	}
	if r.IntN(2) == 0 {
		m.PackGroups = []PackGroup{{ID: str(), Status: str(), Eligible: r.IntN(2) == 0, Reasons: strs(),
			Raw: map[string]any{str(): str(), "n": r.Float64() * 1e6, "big": 1e21, "nested": []any{str(), nil, true}}}}
	}
	if r.IntN(3) == 0 {
		m.Deliveries = []Delivery{{ID: str(), Status: str(), Shipments: []Shipment{{ID: str(), StatusCode: r.IntN(100), TrackingNumber: str()}}}}
		m.Proofs = []Proof{{Name: str(), ShipmentID: str(), Path: str(), SHA256: str(), Size: 7, FetchedAt: at()}}
	}
	if r.IntN(4) == 0 {
		m.Superseded = []SupersededJob{{JobID: str(), JobName: str(), TrackingNumbers: strs()}}
	}
	return m
}

// compareJournalEncoders records a random sequence of letters (pending,
// posted, changed, removed, several per line, some loaded for a plan)
// through both encoders and fails at the first line that differs.
func compareJournalEncoders(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := newJournalWriter(nil, "", "")
	ref := &refJournalEncoder{bases: map[string][]byte{}}
	addrs := []string{"a", `mailing.x["<&>"]`, "mailing.r[\"é\"]", "b\u2028", "c"}
	for step := range steps {
		recs := make([]journalRecord, 0, 3)
		for _, a := range r.Perm(len(addrs))[:1+r.IntN(3)] {
			addr := addrs[a]
			var m *Mailing
			switch r.IntN(8) {
			case 0: // removed
			case 1: // stored under another address than its own
				m = randomMailing(r, addr+"-other")
			case 2: // as a plan-only load leaves it: detail undecoded
				m = randomMailing(r, addr)
				m.Terminal = true
				b, err := EncodeMailing(m)
				if err != nil {
					t.Fatal(err)
				}
				if m, err = DecodeMailingForPlan(addr, b); err != nil {
					t.Fatal(err)
				}
			default:
				m = randomMailing(r, addr)
			}
			recs = append(recs, journalRecord{Address: addr, Mailing: m})
		}
		want, werr := ref.encode("L<&>", uint64(step), recs)
		got, gerr := w.encode("L<&>", uint64(step), recs)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("seed %d step %d: error %v, the reference's %v", seed, step, gerr, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d step %d: line\n%s\nthe reference's\n%s", seed, step, got, want)
		}
		if _, err := decodeJournalLine(bytes.TrimSuffix(got, []byte("\n"))); err != nil {
			t.Fatalf("seed %d step %d: the line does not decode: %v", seed, step, err)
		}
	}
}

func TestJournalEncodeMatchesReference(t *testing.T) {
	for seed := range uint64(200) {
		compareJournalEncoders(t, seed, 40)
	}
}

// A pending record then its posted one, as an apply writes: the patch
// must hold the same fields, in the same order, as the reference's.
func TestJournalEncodePatchMatchesReference(t *testing.T) {
	w := newJournalWriter(nil, "", "")
	ref := &refJournalEncoder{bases: map[string][]byte{}}
	pending := testMailing("a<&>", 1)
	pending.Phase, pending.JobID, pending.SubmittedAt, pending.JobStatus = PhasePending, "", time.Time{}, ""
	pending.Problems = []string{"<gone>"}
	posted := testMailing("a<&>", 1)
	posted.Recipient = &Recipient{Lines: []string{"M. Dupont & fils", "1 rue <Haute>"}}
	for i, m := range []*Mailing{pending, posted} {
		recs := []journalRecord{{Address: m.Address, Mailing: m}}
		want, _ := ref.encode("L", uint64(i), recs)
		got, err := w.encode("L", uint64(i), recs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("line %d\n%s\nthe reference's\n%s", i, got, want)
		}
		if i == 1 && !bytes.Contains(got, []byte(`"patches":[{"address":"a\u003c\u0026\u003e","fields":{"job_id":`)) {
			t.Fatalf("the posted record is not a patch: %s", got)
		}
	}
}

func FuzzJournalEncodeMatchesReference(f *testing.F) {
	f.Add(uint64(1), uint8(10))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint8) {
		compareJournalEncoders(t, seed, int(steps%64))
	})
}

// patchFields against fieldsPatch on encodings that are not Mailings':
// objects of any members, missing, added, equal, escaped names.
func TestPatchFieldsMatchesFieldsPatch(t *testing.T) {
	objs := []string{`{}`, `{"a":1}`, `{"a":2}`, `{"a":1,"b":"x"}`, `{"b":"x","a":1}`, `{"a":{"b":[1,{"c":"}"}]}}`,
		`{"a":"\"}"}`, `{"a\u0026":1}`, `{"a":null}`, `{"a":[]}`, `{"z":true,"a":false}`, `[1]`, `{"a":1,"a":2}`}
	e := newLineEncoder()
	for _, p := range objs {
		for _, n := range objs {
			want := fieldsPatch([]byte(p), []byte(n))
			got, ok := e.patchFields([]byte(p), []byte(n))
			if !ok {
				continue // written whole: never wrong, only larger
			}
			if want == nil {
				t.Errorf("patchFields(%s, %s) made a patch where fieldsPatch could not", p, n)
				continue
			}
			wb, _ := json.Marshal(want)
			gb := []byte("{")
			for i, f := range got {
				if i > 0 {
					gb = append(gb, ',')
				}
				gb = fmt.Appendf(gb, "%q:%s", f.name, f.value)
			}
			gb = append(gb, '}')
			if !bytes.Equal(gb, wb) {
				t.Errorf("patchFields(%s, %s) = %s, fieldsPatch %s", p, n, gb, wb)
			}
		}
	}
}

// BenchmarkJournalEncode encodes an apply's journal of n letters: each one
// pending, then posted (a patch), one letter per line as postAll's workers
// record them; the reference is the json.Marshal encoder it replaced.
func BenchmarkJournalEncode(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		pending := make([]*Mailing, n)
		posted := make([]*Mailing, n)
		for i := range n {
			posted[i] = testMailing(addrOf(i), i)
			posted[i].Recipient = &Recipient{Lines: []string{"M. Jean Dupont & fils", "12 rue de la Paix", "75002 PARIS"}, Postcode: "75002", City: "PARIS"}
			p := *posted[i]
			p.Phase, p.JobID, p.SubmittedAt, p.JobStatus = PhasePending, "", time.Time{}, ""
			pending[i] = &p
		}
		for _, impl := range []struct {
			name   string
			encode func() func(string, uint64, []journalRecord) ([]byte, error)
		}{
			{"reference", func() func(string, uint64, []journalRecord) ([]byte, error) {
				return (&refJournalEncoder{bases: map[string][]byte{}}).encode
			}},
			{"lineEncoder", func() func(string, uint64, []journalRecord) ([]byte, error) {
				return newJournalWriter(nil, "", "").encode
			}},
		} {
			b.Run(fmt.Sprintf("%s/%d", impl.name, n), func(b *testing.B) {
				b.ReportAllocs()
				var bytes int64
				for b.Loop() {
					encode := impl.encode()
					bytes = 0
					serial := uint64(0)
					for _, ms := range [][]*Mailing{pending, posted} {
						for _, m := range ms {
							serial++
							line, err := encode("7f1c2a9e-0b4d-4e5f-8a6b-1c2d3e4f5a6b", serial, []journalRecord{{Address: m.Address, Mailing: m}})
							if err != nil {
								b.Fatal(err)
							}
							bytes += int64(len(line))
						}
					}
				}
				b.SetBytes(bytes)
			})
		}
	}
}
