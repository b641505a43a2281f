package sandbox

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	postpdf "github.com/postform/postform/pdf"
)

// cpuTime is the process's user + system CPU so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// createBody is a POST /jobs body for one letter, as postform sends it.
func createBody(tb testing.TB, name string, letter []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("parameters", `{"jobName":"`+name+`","serviceId":"311","autocreateDeliveryCommand":true}`)
	w, _ := mw.CreateFormFile("file__file_2201_0", "letter.pdf")
	w.Write(letter)
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// BenchmarkCreateJob is the sandbox's cost of one POST /jobs (in process,
// no network), 16 at once as an apply's workers send them; cpu-ns/op is the
// process's CPU per job, the figure that decides how many jobs a second
// the sandbox can take on a small machine.
func BenchmarkCreateJob(b *testing.B) {
	letter, err := postpdf.MakePDF("ACME SAS", "12 rue de la Paix", "75002 PARIS")
	if err != nil {
		b.Fatal(err)
	}
	if err := WarmPDF(); err != nil {
		b.Fatal(err)
	}
	for _, persisted := range []bool{false, true} {
		label := "memory"
		opts := Options{Now: newClock().Now}
		if persisted {
			label, opts.Dir = "dir", b.TempDir()
		}
		b.Run(label, func(b *testing.B) {
			sb, err := Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			tok := benchLogin(b, sb)
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var next atomic.Int64
			b.SetParallelism(8) // 16 goroutines on 2 cores
			b.ReportAllocs()
			cpu := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body, ctype := createBody(b, fmt.Sprintf("postform-%06d", next.Add(1)), letter)
					req := httptest.NewRequest("POST", "/jobs", body)
					req.Header.Set("X-Auth-Token", tok)
					req.Header.Set("Content-Type", ctype)
					w := httptest.NewRecorder()
					sb.Handler().ServeHTTP(w, req)
					if w.Code != http.StatusCreated {
						b.Fatalf("POST /jobs: %d %s", w.Code, w.Body)
					}
				}
			})
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
			b.StopTimer()
			// What the world keeps per job accepted and not processed yet
			// (the record and its upload; the request log's ring of 10,000
			// records included).
			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "heap-B/job")
			if err := sb.Close(); err != nil { // processes what is pending, untimed
				b.Fatal(err)
			}
		})
	}
}
