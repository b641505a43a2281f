//go:build unix

package config_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/pdf"
)

// scaleHCL is bench/gen's main.mail.hcl (issue 18): for_each, the document
// and the preflight check are filled in per key shape.
const scaleHCL = `postform {
  max_posts = 100000
  backend "local" {
    path = "postform.state.json"
  }
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:1"
}

provider "nirva" {
  endpoint = var.endpoint
  login    = "bench@example.com"
  password = "bench"
}

mailing "letter" {
  for_each = %s

  service  = "Lettre simple"
  job_name = "bench-${each.key}"

  document {
    file = %s
  }
  preflight = { address = %s }
}
`

// scaleDir writes n letters the way bench/gen does (letters/cNNNNNN.pdf and
// letters.json of {file, check}) and returns the directory and the two
// configurations: keys from jsondecode(file("letters.json")), and keys from
// a literal toset([...]).
//
// Writing 100,000 PDFs takes a minute, so the letters are kept in the
// system's temporary folder between runs, once complete.
func scaleDir(b *testing.B, n int) (dir, jsonHCL, literalHCL string) {
	b.Helper()
	dir = filepath.Join(os.TempDir(), fmt.Sprintf("postform-config-scale-%d", n))
	done := filepath.Join(dir, "complete")
	_, err := os.Stat(done)
	fresh := err != nil
	if fresh {
		os.RemoveAll(dir)
		if err := os.MkdirAll(filepath.Join(dir, "letters"), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	type letter struct {
		File  string `json:"file"`
		Check bool   `json:"check"`
	}
	letters := make(map[string]letter, n)
	var keys strings.Builder
	keys.WriteString("toset([\n")
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("c%06d", i)
		file := "letters/" + key + ".pdf"
		if fresh {
			p, err := pdf.MakePDF(fmt.Sprintf("Customer %06d", i), "1 rue de la Paix", "75002 PARIS")
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, file), p, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		letters[key] = letter{File: file, Check: true}
		fmt.Fprintf(&keys, "    %q,\n", key)
	}
	keys.WriteString("  ])")
	js, _ := json.MarshalIndent(letters, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "letters.json"), js, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	jsonHCL = fmt.Sprintf(scaleHCL, `jsondecode(file("letters.json"))`, "each.value.file", "each.value.check")
	literalHCL = fmt.Sprintf(scaleHCL, keys.String(), `"letters/${each.key}.pdf"`, "true")
	return dir, jsonHCL, literalHCL
}

// warmCaches fills a hash cache (every file preflighted, one page) and a
// recipient cache for dir's letters without running pdfcpu or PDFium on
// 100,000 files: the state of an unchanged directory that plan has seen
// before, which is what plan --refresh=false costs.
func warmCaches(b *testing.B, dir string, n int) (*benchCache, *benchRecipients) {
	b.Helper()
	hashes := &benchCache{m: map[string]benchEntry{}}
	cfg, diags := config.Load(dir, config.LoadOptions{HashCache: hashes, SkipPreflight: true})
	if diags.HasErrors() || len(cfg.Mailings) != n {
		b.Fatalf("%d mailings: %v", len(cfg.Mailings), diags)
	}
	recipients := &benchRecipients{m: map[benchRecipientKey]*pdf.Recipient{}}
	for _, m := range cfg.Mailings {
		d := m.Documents[0]
		st, err := os.Stat(d.Path)
		if err != nil {
			b.Fatal(err)
		}
		hashes.Store(d.Path, st.Size(), st.ModTime(), d.SHA256, 1)
		recipients.StoreRecipient(d.SHA256, m.Window, &pdf.Recipient{Lines: []string{m.Key, "1 rue de la Paix", "75002 PARIS"}, Postcode: "75002", City: "PARIS", Page: 1})
	}
	return hashes, recipients
}

// liveHeap is the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// peakLive is the most live heap seen while f runs, collecting after
// every 1% of growth so that the live heap is measured often: what a
// process's memory follows.
func peakLive(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	f()
	runtime.GC()
	close(done)
	<-stopped
	return peak
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoad100000 is config.Load's part of issue 18's plan
// --refresh=false at 100,000 letters, hashes and recipients cached, keys
// from jsondecode (bench/out/we100000) and from a literal toset.
func BenchmarkLoad100000(b *testing.B) { benchScale(b, 100000) }

// BenchmarkLoadScale10000 is the same at 10,000, quick enough to iterate on.
func BenchmarkLoadScale10000(b *testing.B) { benchScale(b, 10000) }

func benchScale(b *testing.B, n int) {
	dir, jsonHCL, literalHCL := scaleDir(b, n)
	main := filepath.Join(dir, "main.mail.hcl")
	if err := os.WriteFile(main, []byte(jsonHCL), 0o644); err != nil {
		b.Fatal(err)
	}
	hashes, recipients := warmCaches(b, dir, n)
	e := pdf.Open(pdf.Options{CacheDir: benchPDFCache})
	defer e.Close()
	for _, c := range []struct{ name, hcl string }{{"json", jsonHCL}, {"literal", literalHCL}} {
		b.Run(c.name, func(b *testing.B) {
			if err := os.WriteFile(main, []byte(c.hcl), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			load := func() *config.Config {
				cfg, diags := config.Load(dir, config.LoadOptions{HashCache: hashes, PDF: e, Recipients: recipients})
				if diags.HasErrors() || len(cfg.Mailings) != n {
					b.Fatalf("%d mailings: %v", len(cfg.Mailings), diags)
				}
				return cfg
			}
			cpu := cpuTime(b)
			for b.Loop() {
				cfg := load()
				if m := cfg.Mailings[n-1]; m.Documents[0].Recipient == nil || m.Documents[0].Pages != 1 || len(m.AddressProblems) != 0 {
					b.Fatal("a letter was read again")
				}
			}
			// Wall time on a shared machine is noise; CPU time (GC
			// included) is what the work costs.
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
			// Memory, outside the timed loop: what a plan holds of the
			// configuration while it loads the state and plans, and the
			// most Load holds at once.
			b.StopTimer()
			before := liveHeap()
			cfg := load()
			b.ReportMetric(float64(liveHeap()-before)/float64(n), "retained-B/letter")
			runtime.KeepAlive(cfg)
			cfg = nil
			before = liveHeap()
			b.ReportMetric(float64(peakLive(func() { load() })-before)/float64(n), "peak-live-B/letter")
		})
	}
}
