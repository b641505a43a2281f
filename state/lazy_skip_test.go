package state

import (
	"bytes"
	"testing"
)

// skipSeeds are values skipComposite must read as skipValueBytes does:
// brackets and quotes at every offset of a word, strings across words,
// escapes (its fallback), unterminated and unbalanced values, a real
// letter's detail.
func skipSeeds(t testing.TB) [][]byte {
	out := [][]byte{
		[]byte(`{}`), []byte(`[]`), []byte(`[[[[[[[[]]]]]]]]`), []byte(`{"a":[1,2,{"b":"}"}],"c":"]]]]"}, "after"`),
		[]byte(`["a","bb","ccc","dddd","eeeee","ffffff","ggggggg","hhhhhhhh","iiiiiiiii"],1`),
		[]byte(`[{"id":"132011","channel":"MAIL","status":"OUTPUTTED"}],"proofs":[{"name":"CERTIF"}]`),
		[]byte(`["a\"]", "\\", "x"] tail tail tail`), []byte(`["unterminated]]]]]]]]]]]]]]]]]]`),
		[]byte(`[1,2]]]]]]]]]]]]]]]`), []byte(`{"a":1}}}}}}}}}}}}}}}}`), []byte(`[{]}          `), []byte(`[       "`),
		[]byte("[\"Distribu\xc3\xa9\",\"\xff\xfe\",{\"\x7b\x7d\":\"\x5b\"}]        "), []byte(`[                                   ]`),
		[]byte(`{"x":"` + string(bytes.Repeat([]byte("]}"), 20)) + `"}        `),
	}
	m := terminalMailing(fuzzAddr, 1)
	m.Superseded = []SupersededJob{{JobID: "J0", JobName: "old", ContentHash: "x", TrackingNumbers: []string{"T1"}}}
	line, err := EncodeMailing(m)
	if err != nil {
		t.Fatal(err)
	}
	if at := bytes.Index(line, []byte(`"deliveries":`)); at >= 0 {
		out = append(out, line[at+len(`"deliveries":`):])
	}
	return out
}

// FuzzSkipValue compares skipValue, whose objects and arrays go through
// skipComposite's words, with skipValueBytes, at every start in the input.
func FuzzSkipValue(f *testing.F) {
	for _, s := range skipSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkSkipValue(t, in)
	})
}

func checkSkipValue(t *testing.T, in []byte) {
	t.Helper()
	for i := range in {
		if got, want := skipValue(in, i), skipValueBytes(in, i); got != want {
			t.Fatalf("skipValue(%q, %d) = %d; skipValueBytes: %d", in, i, got, want)
		}
	}
}

// The seeds run by every go test, and skipComposite must take most of
// them itself: a fast path that always fell back would compare nothing.
func TestSkipValueSeeds(t *testing.T) {
	taken := 0
	for _, in := range skipSeeds(t) {
		checkSkipValue(t, in)
		if _, ok := skipComposite(in, 0); ok {
			taken++
		}
	}
	if taken < 8 {
		t.Fatalf("skipComposite read only %d seeds itself", taken)
	}
}

func TestCountHigh(t *testing.T) {
	for bitsSet := range 256 {
		var m uint64
		want := 0
		for k := range 8 {
			if bitsSet>>k&1 != 0 {
				m |= 0x80 << (8 * k)
				want++
			}
		}
		if got := countHigh(m); got != want {
			t.Fatalf("countHigh(%#x) = %d, want %d", m, got, want)
		}
	}
}

func TestBytesEqual(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			x := uint64(c) << (8 * pos)
			for _, fill := range []uint64{0, lows * 0x01, lows * 0x80, lows * 0xff} {
				w := x | fill&^(0xff<<(8*pos))
				for _, want := range []byte{0, 1, 0x22, 0x7b, 0x80, 0xff} {
					got := bytesEqual(w, want)
					var exp uint64
					for k := range 8 {
						if byte(w>>(8*k)) == want {
							exp |= 0x80 << (8 * k)
						}
					}
					if got != exp {
						t.Fatalf("bytesEqual(%#x, %#x) = %#x, want %#x", w, want, got, exp)
					}
				}
			}
		}
	}
}

// BenchmarkSkipDetail skips the detail of bench/run.sh's terminal letters
// (deliveries with tracking events, three proofs), as a plan does.
func BenchmarkSkipDetail(b *testing.B) {
	m := terminalMailing(fuzzAddr, 1)
	line, err := EncodeMailing(m)
	if err != nil {
		b.Fatal(err)
	}
	at := bytes.Index(line, []byte(`"deliveries":`)) + len(`"deliveries":`)
	for _, fn := range []struct {
		name string
		skip func([]byte, int) int
	}{{"words", skipValue}, {"bytes", skipValueBytes}} {
		b.Run(fn.name, func(b *testing.B) {
			b.SetBytes(int64(skipValueBytes(line, at) - at))
			for b.Loop() {
				if fn.skip(line, at) < 0 {
					b.Fatal("not skipped")
				}
			}
		})
	}
}
