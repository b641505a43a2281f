package nirva

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzFlexString: a string read by the plain path is what json.Unmarshal
// reads, for any input, valid JSON or not.
func FuzzFlexString(f *testing.F) {
	for _, s := range []string{`"abc"`, `""`, `"a\"b"`, `"\u00e9t\u00e9"`, `"été"`, "\"\xff\"", "\"a\tb\"", `"a"b"`, `"`, `"abc`, `123`, `null`, `"\\"`, `"€ 12,00"`, "\"\x7f\"", `"a\/b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := plainJSONString(b)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: read as plain %q, but json.Unmarshal fails: %v", b, got, err)
		}
		if got != want {
			t.Fatalf("%q: plain %q, json.Unmarshal %q", b, got, want)
		}
		var fs flexString
		if err := fs.UnmarshalJSON(b); err != nil || string(fs) != want {
			t.Fatalf("%q: flexString %q, %v; want %q", b, fs, err, want)
		}
	})
}

// TestPlainJSONStringServesPlainStrings: the fast path is taken for the
// strings an answer is made of, so the fuzz comparison compares something.
func TestPlainJSONStringServesPlainStrings(t *testing.T) {
	for _, s := range []string{`"88412"`, `"bench-c000001"`, `"2026-11-25T10:00:00Z"`, `"été"`, `""`} {
		if _, ok := plainJSONString([]byte(s)); !ok {
			t.Errorf("%s: not read as plain", s)
		}
	}
	for _, s := range []string{`"a\"b"`, `"\u00e9"`, "\"\xff\"", "\"a\tb\"", `"a"b"`, `"`} {
		if _, ok := plainJSONString([]byte(s)); ok {
			t.Errorf("%q: read as plain", s)
		}
	}
}

// BenchmarkDecodeJob is reading one answer to POST /jobs.
func BenchmarkDecodeJob(b *testing.B) {
	answer := []byte(`{"jobId":"88412","jobName":"bench-c000001","serviceId":"311","status":"RECEIVED","creationDate":"2026-11-25T10:00:00.123Z","documentCount":1,"packGroupCountPerStates":{"RECEIVED":1}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeAs(bytes.NewReader(answer), wireJob.one); err != nil {
			b.Fatal(err)
		}
	}
}
