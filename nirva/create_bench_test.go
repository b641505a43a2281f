package nirva_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/postform/postform/nirva"
)

// BenchmarkCreateJob is postform's side of posting one small letter: the
// form built and sent, the answer read. The platform's side is one real
// sandbox answer replayed, so that B/op and allocs/op are the client's.
func BenchmarkCreateJob(b *testing.B) {
	var once sync.Once
	var answer []byte
	var status int
	e := newEnv(b, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != "POST" || r.URL.Path != "/jobs" {
				h.ServeHTTP(w, r)
				return
			}
			served := false
			once.Do(func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				answer, status, served = rec.Body.Bytes(), rec.Code, true
			})
			if !served {
				io.Copy(io.Discard, r.Body)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(answer)
		})
	}, nil)
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		b.Fatal(err)
	}
	part := pdfPart(b, "2201", "Jeanne Martin", "12 rue de la Paix")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: fmt.Sprintf("bench-%d", i), ServiceID: "311", Files: []nirva.FilePart{part}}); err != nil {
			b.Fatal(err)
		}
	}
}
