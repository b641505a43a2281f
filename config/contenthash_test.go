package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// contentHashJSON is contentHash as encoding/json computes it, the form in
// which every hash in a state was recorded.
func contentHashJSON(m *Mailing) string {
	type doc struct {
		Box    string `json:"box"`
		SHA256 string `json:"sha256"`
	}
	canon := struct {
		V         int               `json:"v"`
		Service   string            `json:"service"`
		Documents []doc             `json:"documents"`
		Options   map[string]string `json:"options"`
		Owner     string            `json:"owner"`
	}{V: 1, Service: m.Service, Documents: []doc{}, Options: m.Options, Owner: m.Owner}
	if canon.Options == nil {
		canon.Options = map[string]string{}
	}
	for _, d := range m.Documents {
		canon.Documents = append(canon.Documents, doc{Box: d.Box, SHA256: d.SHA256})
	}
	b, err := json.Marshal(canon)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var contentHashStrings = []string{
	"", "Lettre verte", "Lettre recommandée", `quote " and \ backslash`, "<b>&amp;</b>",
	"tab\tnew\nline\r", "\x00\x01\x1f\x7f", "\u2028\u2029", "caf\u00e9 \u20ac \U0001F600", "bad \xff\xfe utf8",
	"e\u0301", "printMode", "1SIDE", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
}

func TestContentHashMatchesJSON(t *testing.T) {
	// A hash recorded by earlier versions, pinned: the letter of
	// TestContentHash's base.
	pinned := &Mailing{Service: "Lettre verte", Documents: []*Document{{SHA256: "aa"}, {Box: "annex", SHA256: "bb"}}, Options: map[string]string{"printMode": "1SIDE", "color": "BW"}}
	if got, want := contentHash(pinned), contentHashJSON(pinned); got != want {
		t.Fatalf("pinned letter: %s, encoding/json gives %s", got, want)
	}
	for _, m := range []*Mailing{
		{},
		{Options: map[string]string{}},
		{Documents: []*Document{}},
	} {
		if got, want := contentHash(m), contentHashJSON(m); got != want {
			t.Errorf("%+v: %s, encoding/json gives %s", m, got, want)
		}
	}
	for i, s := range contentHashStrings {
		o := contentHashStrings[(i+3)%len(contentHashStrings)]
		m := &Mailing{
			Service:   s,
			Owner:     o,
			Documents: []*Document{{Box: o, SHA256: s}, {Box: s}},
			Options:   map[string]string{s: o, o: s, "z" + s: "", "a": s},
		}
		if got, want := contentHash(m), contentHashJSON(m); got != want {
			t.Errorf("%q/%q: %s, encoding/json gives %s", s, o, got, want)
		}
	}
}

func FuzzContentHash(f *testing.F) {
	for i, s := range contentHashStrings {
		f.Add(s, contentHashStrings[(i+1)%len(contentHashStrings)], "main", "aa", "k", s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, service, owner, box, sha, key, value string, shape uint8) {
		m := &Mailing{Service: service, Owner: owner}
		for i := 0; i < int(shape%4); i++ {
			m.Documents = append(m.Documents, &Document{Box: box, SHA256: sha})
		}
		if shape&4 != 0 {
			m.Options = map[string]string{key: value, value: key, box: sha}
		}
		if got, want := contentHash(m), contentHashJSON(m); got != want {
			t.Fatalf("%+v: %s, encoding/json gives %s", m, got, want)
		}
	})
}

// Load hashes its letters one after the other in one buffer: each hash is
// still its letter's own.
func TestLoadContentHashes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.mail.hcl": simple(`for_each = {
    a = { color = "<red>", long = "a much longer value than the others, to grow the buffer" }
    b = {}
    c = { x = "é" }
  }
  options = each.value
  owner   = each.key
` + doc),
		"a.pdf": string(a4()),
	})
	cfg, diags := Load(dir, LoadOptions{})
	if diags.HasErrors() || len(cfg.Mailings) != 3 {
		t.Fatal(diags)
	}
	for _, m := range cfg.Mailings {
		if want := contentHashJSON(m); m.ContentHash != want {
			t.Errorf("%s: %s, encoding/json gives %s", m.Address, m.ContentHash, want)
		}
	}
}
