package reconcile

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/postform/postform/config"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
)

// plannedDoc writes content and returns the document as a plan saw it.
func plannedDoc(t *testing.T, content []byte) *config.Document {
	t.Helper()
	p := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return &config.Document{File: "letter.pdf", Path: p, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}
}

// rewrite changes the file in place (same inode, as an editor saving over
// it does), so an already open descriptor sees the new bytes.
func rewrite(t *testing.T, d *config.Document, content []byte) {
	t.Helper()
	f, err := os.OpenFile(d.Path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
}

func TestOpenVerifiedStreamsThePlannedBytes(t *testing.T) {
	for _, size := range []int{0, 1, 2, 100, 1 << 20} {
		content := bytes.Repeat([]byte("%PDF"), size/4+1)[:size]
		d := plannedDoc(t, content)
		rc, err := openVerified(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%d bytes: read %d bytes, err %v", size, len(got), err)
		}
	}
}

// A document is streamed: opening and reading 20 MiB allocates a few
// buffers, not the file.
func TestOpenVerifiedDoesNotReadTheFileWhole(t *testing.T) {
	d := plannedDoc(t, bytes.Repeat([]byte("%PDF-1.7 "), 20<<20/9))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rc, err := openVerified(d)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{rc}, make([]byte, 32<<10))
	rc.Close()
	runtime.ReadMemStats(&after)
	if err != nil || n != d.Size {
		t.Fatalf("read %d of %d bytes: %v", n, d.Size, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("opening and reading a %d MiB document allocated %d KiB: it was read into memory", d.Size>>20, alloc>>10)
	}
}

func TestOpenVerifiedRefusesAFileChangedBeforeTheUpload(t *testing.T) {
	d := plannedDoc(t, []byte("%PDF-1.7 planned"))
	rewrite(t, d, []byte("%PDF-1.7 edited!"))
	if _, err := openVerified(d); !errors.Is(err, ErrFileChanged) {
		t.Fatalf("openVerified on an edited file: %v, want ErrFileChanged", err)
	}
}

// A file changed after its first pass: the upload's read fails before the
// last byte, so the platform never receives the document whole.
func TestOpenVerifiedCutsAnUploadShortWhenTheFileChanges(t *testing.T) {
	planned := bytes.Repeat([]byte("0123456789"), 10000)
	for name, edited := range map[string][]byte{
		"last byte":  append(bytes.Clone(planned[:len(planned)-1]), 'X'),
		"first byte": append([]byte("X"), planned[1:]...),
		"shorter":    planned[:len(planned)-1],
		"longer":     append(bytes.Clone(planned), '!'),
		"empty":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			d := plannedDoc(t, planned)
			rc, err := openVerified(d)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			rewrite(t, d, edited)
			got, err := io.ReadAll(rc)
			if !errors.Is(err, ErrFileChanged) {
				t.Fatalf("reading a file changed mid-upload: %d bytes, err %v; want ErrFileChanged", len(got), err)
			}
			if len(got) >= len(planned) {
				t.Errorf("handed out %d bytes of a %d-byte document before failing: the platform could have it whole", len(got), len(planned))
			}
			if _, err := rc.Read(make([]byte, 10)); !errors.Is(err, ErrFileChanged) {
				t.Errorf("a read after the failure: %v, want the failure again", err)
			}
		})
	}
}

// BenchmarkUpload16x20MiB posts 16 jobs of one 20 MiB document each, at
// once, through the real client and openVerified, over real HTTP to a
// server that drains the form (the sandbox answers everything else), and
// reports the process's peak RSS during the uploads. Run it alone:
//
//	go test -run '^$' -bench Upload16x20MiB -benchtime 1x ./reconcile/
func BenchmarkUpload16x20MiB(b *testing.B) {
	const uploads, size = 16, 20 << 20
	sb, err := sandbox.Open(sandbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	api := sb.Handler()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/jobs" {
			api.ServeHTTP(w, r)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"jobId":"J-%d","status":"RECEIVED"}`, n.Add(1))
	}))
	defer srv.Close()
	c, err := nirva.New(nirva.Config{Endpoint: srv.URL, Login: "demo@example.com", Password: "demo"})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	docs := make([]*config.Document, uploads)
	chunk := make([]byte, 1<<20)
	for i := range docs {
		p := filepath.Join(dir, fmt.Sprintf("l%02d.pdf", i))
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		for range size / len(chunk) {
			rand.Read(chunk)
			h.Write(chunk)
			f.Write(chunk)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		docs[i] = &config.Document{File: filepath.Base(p), Path: p, SHA256: hex.EncodeToString(h.Sum(nil)), Size: size}
	}
	chunk = nil
	runtime.GC()
	peak := int64(0)
	for b.Loop() {
		resetPeakRSS(b)
		var wg sync.WaitGroup
		for i, d := range docs {
			wg.Go(func() {
				req := nirva.JobRequest{JobName: fmt.Sprintf("big-%d", i), ServiceID: "LS",
					Files: []nirva.FilePart{{BoxID: "main", FileName: d.File, Open: func() (io.ReadCloser, error) { return openVerified(d) }}}}
				if _, err := c.CreateJob(context.Background(), req); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		peak = max(peak, peakRSS(b))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
}

// resetPeakRSS sets the kernel's high-water mark of the process's resident
// memory back to its current size (Linux: clear_refs 5).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS here: %v", err)
	}
}

// peakRSS reads VmHWM, in bytes.
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n << 10
		}
	}
	b.Skip("no VmHWM in /proc/self/status")
	return 0
}

// TestOpenVerifiedAllocatesNoCopyBuffer: the first pass hashes through a
// reused buffer; a fresh 32 KiB one per letter was a fifth of what an apply
// of 100,000 letters allocated.
func TestOpenVerifiedAllocatesNoCopyBuffer(t *testing.T) {
	d := plannedDoc(t, bytes.Repeat([]byte("%PDF-1.4 letter "), 50))
	read := func() {
		rc, err := openVerified(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	read() // the pool's first buffer
	const runs = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		read()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 16<<10 {
		t.Fatalf("opening, reading and closing a document allocates %d bytes", per)
	}
}
