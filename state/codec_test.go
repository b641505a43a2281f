package state

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/roundtrip/*.out.json")

// TestRoundTrip decodes each testdata/roundtrip/*.in.json, encodes it, and
// compares with the matching .out.json; the output must itself round-trip
// unchanged.
func TestRoundTrip(t *testing.T) {
	ins, err := filepath.Glob("testdata/roundtrip/*.in.json")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Decode(src)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got, err := Encode(s)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			outPath := strings.TrimSuffix(in, ".in.json") + ".out.json"
			if *update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run go test -run TestRoundTrip -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Encode(Decode(%s)) differs from %s:\n--- got\n%s\n--- want\n%s", in, outPath, got, want)
			}
			s2, err := Decode(want)
			if err != nil {
				t.Fatalf("Decode(out): %v", err)
			}
			again, _ := Encode(s2)
			if !bytes.Equal(again, want) {
				t.Errorf("%s does not round-trip unchanged", outPath)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		newer    bool
	}{
		{"empty", "", []string{"corrupt"}, false},
		{"truncated", "{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"mail", []string{"corrupt", "line 4"}, false},
		{"garbage", "{\"version\": 1, \"lineage\": \"x\" ]", []string{"corrupt", "invalid JSON", "line 1, column 31"}, false},
		{"wrong type", `{"version": 1, "lineage": "x", "serial": "three"}`, []string{"corrupt", "serial"}, false},
		{"newer", `{"version": 2, "lineage": "x", "serial": 1, "mailings": {"a": "a format we do not know"}}`,
			[]string{"format version 2", "understands up to 1", "upgrade postform", "the state was not changed"}, true},
		{"no lineage", `{"version": 1, "serial": 1, "mailings": {}}`, []string{"corrupt", "lineage"}, false},
		{"no version", `{"lineage": "x"}`, []string{"corrupt", "version"}, false},
		{"address mismatch", `{"version": 1, "lineage": "x", "mailings": {"a": {"address": "b"}}}`, []string{"corrupt", `"a"`, `"b"`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			if err == nil {
				t.Fatal("Decode accepted it")
			}
			if errors.Is(err, ErrNewerVersion) != tc.newer {
				t.Errorf("errors.Is(err, ErrNewerVersion) = %v, want %v", !tc.newer, tc.newer)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestEncodeDeterministic(t *testing.T) {
	s := bigState(500)
	a, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, _ := Encode(s)
		if !bytes.Equal(a, b) {
			t.Fatal("two encodings of one state differ")
		}
	}
	if a[len(a)-1] != '\n' {
		t.Error("no trailing newline")
	}
}

// The digest Persist compares is of the encoding with serial 0, whether it
// is computed from the state (streamed) or from the file (fileDigest),
// even with a lineage that looks like a serial line.
func TestBaselineMatchesFileDigest(t *testing.T) {
	s := bigState(300)
	s.Lineage = "a\n  \"serial\": 0,\n"
	s.PostformVersion = "v<&>"
	s.Mailings[addrOf(7)].Problems = []string{strings.Repeat("x", flushAt)} // a line longer than a flush
	zero, _ := encodeWithSerial(s, 0)
	sum, err := baselineOf(s)
	if err != nil {
		t.Fatal(err)
	}
	if sum != digest(zero) {
		t.Error("baselineOf differs from the digest of the encoding")
	}
	file, _ := encodeWithSerial(s, 123456789)
	if fileDigest(file) != sum {
		t.Error("fileDigest of the file with its serial differs from baselineOf")
	}
}
