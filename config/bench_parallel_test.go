//go:build unix

package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/pdf"
)

// BenchmarkLoadJSONOnly100000 is BenchmarkLoad100000/json without the
// memory figures, whose loads (one of them with the collector at 1%)
// would be most of a CPU profile: go test -bench LoadJSONOnly100000
// -cpuprofile shows the timed loads alone.
func BenchmarkLoadJSONOnly100000(b *testing.B) {
	const n = 100000
	dir, jsonHCL, _ := scaleDir(b, n)
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(jsonHCL), 0o644); err != nil {
		b.Fatal(err)
	}
	hashes, recipients := warmCaches(b, dir, n)
	e := pdf.Open(pdf.Options{CacheDir: benchPDFCache})
	defer e.Close()
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		cfg, diags := config.Load(dir, config.LoadOptions{HashCache: hashes, PDF: e, Recipients: recipients})
		if diags.HasErrors() || len(cfg.Mailings) != n {
			b.Fatalf("%d mailings: %v", len(cfg.Mailings), diags)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}
