package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/postform/postform/config"
)

// referenceConfigHash is ConfigHash as it was first written, json.Marshal
// of the whole canonical struct: the bytes every saved plan's config_hash
// was made from. ConfigHash must give the same hash for every
// configuration.
func referenceConfigHash(cfg *config.Config) string {
	type doc struct {
		Box    string `json:"box"`
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
	type mailing struct {
		Address     string            `json:"address"`
		JobName     string            `json:"job_name"`
		Service     string            `json:"service"`
		Owner       string            `json:"owner"`
		Options     map[string]string `json:"options"`
		Proofs      []string          `json:"proofs"`
		Fix         map[string]any    `json:"fix"`
		ContentHash string            `json:"content_hash"`
		Documents   []doc             `json:"documents"`
	}
	canon := struct {
		V        int       `json:"v"`
		Mailings []mailing `json:"mailings"`
	}{V: 1, Mailings: []mailing{}}
	for _, m := range cfg.Mailings {
		cm := mailing{Address: m.Address, JobName: m.JobName, Service: m.Service, Owner: m.Owner, Options: m.Options,
			Proofs: m.Proofs, Fix: m.Fix, ContentHash: m.ContentHash, Documents: []doc{}}
		for _, d := range m.Documents {
			cm.Documents = append(cm.Documents, doc{Box: d.Box, File: d.File, SHA256: d.SHA256, Size: d.Size})
		}
		canon.Mailings = append(canon.Mailings, cm)
	}
	b, err := json.Marshal(canon)
	if err != nil {
		b = []byte(fmt.Sprintf("unencodable configuration: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// awkward are strings encoding/json escapes, each its own way.
var awkward = []string{"", "plain", `mailing.letter["<a&b>"]`, `"quoted" \back\slash`, "line\u2028sep\u2029para",
	"tab\tnl\ncr\rbs\bff\f", "\x00\x01\x1f\x7f", "Zoë Œuvre — 日本語 🙂", "bad \xff\xfe utf8 \xe2\x80", "\xe2\x80\xa8", "</script>"}

func TestConfigHashMatchesTheReference(t *testing.T) {
	empty := &config.Config{}
	many := &config.Config{}
	for i, s := range awkward {
		m := &config.Mailing{Address: fmt.Sprintf("mailing.m[%q]", s), JobName: s, Service: "Lettre " + s, Owner: s,
			ContentHash: fmt.Sprintf("%064x", i)}
		switch i % 4 {
		case 0: // nil options, proofs and fix
		case 1:
			m.Options, m.Proofs, m.Fix = map[string]string{}, []string{}, map[string]any{}
		case 2:
			m.Options = map[string]string{s: s, "z": "1", "a": s + "<", "ä": ""}
			m.Proofs = []string{s, "deposit"}
			m.Fix = map[string]any{"address": []any{s, "75001 Paris"}, "n": 3.5, "ok": true, "none": nil, s: map[string]any{"k": s}}
		case 3:
			m.Options = map[string]string{"color": "true"}
			m.Proofs = config.DefaultProofs
		}
		for j := range i % 5 {
			m.Documents = append(m.Documents, &config.Document{Box: []string{"", "MAIN", s}[j%3], File: s + fmt.Sprint(j) + ".pdf",
				SHA256: strings.Repeat("ab", 32), Size: int64(j) * 1 << 33, Pages: j, RealPath: "/elsewhere"})
		}
		many.Mailings = append(many.Mailings, m)
	}
	unencodable := &config.Config{Mailings: []*config.Mailing{{Address: "mailing.a"}, {Address: "mailing.b", Fix: map[string]any{"x": math.NaN()}}}}
	for name, cfg := range map[string]*config.Config{"empty": empty, "many": many, "unencodable fix": unencodable} {
		if got, want := ConfigHash(cfg), referenceConfigHash(cfg); got != want {
			t.Errorf("%s: ConfigHash %s, the reference gives %s", name, got, want)
		}
	}
}

// FuzzConfigHash compares ConfigHash with the reference on mailings made
// of arbitrary strings.
func FuzzConfigHash(f *testing.F) {
	for i, s := range awkward {
		f.Add(s, awkward[(i+1)%len(awkward)], int64(i)*1000, uint8(i))
	}
	f.Fuzz(func(t *testing.T, a, b string, size int64, shape uint8) {
		m := &config.Mailing{Address: a, JobName: b, Service: a + b, Owner: b, ContentHash: a}
		if shape&1 != 0 {
			m.Options = map[string]string{a: b, b: a, a + b: ""}
		} else if shape&2 != 0 {
			m.Options = map[string]string{}
		}
		if shape&4 != 0 {
			m.Proofs = []string{a, b}
		} else if shape&8 != 0 {
			m.Proofs = []string{}
		}
		if shape&16 != 0 {
			m.Fix = map[string]any{a: []any{b, float64(size)}, b: a}
		}
		for j := range int(shape >> 5) {
			m.Documents = append(m.Documents, &config.Document{Box: a, File: b, SHA256: a, Size: size + int64(j)})
		}
		cfg := &config.Config{Mailings: []*config.Mailing{m, {Address: b, JobName: a}}}
		if got, want := ConfigHash(cfg), referenceConfigHash(cfg); got != want {
			t.Fatalf("ConfigHash %s, the reference gives %s", got, want)
		}
	})
}

// BenchmarkReferenceConfigHash10000 is BenchmarkConfigHash10000 with the
// whole-struct json.Marshal ConfigHash replaced, for comparison.
func BenchmarkReferenceConfigHash10000(b *testing.B) {
	cfg := &config.Config{}
	for i := range 10000 {
		cfg.Mailings = append(cfg.Mailings, &config.Mailing{Address: fmt.Sprintf("mailing.letter[%q]", fmt.Sprintf("c%06d", i)),
			Service: "Lettre simple", JobName: fmt.Sprintf("bench-c%06d", i), Proofs: config.DefaultProofs, ContentHash: fmt.Sprintf("%064x", i),
			Documents: []*config.Document{{File: fmt.Sprintf("letters/c%06d.pdf", i), SHA256: fmt.Sprintf("%064x", i), Size: 900}}})
	}
	b.ReportAllocs()
	for b.Loop() {
		referenceConfigHash(cfg)
	}
}
