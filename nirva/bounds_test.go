package nirva_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
)

// hostile serves the sandbox but answers path with h instead; cancelled
// reports that h saw its request's context end (the client let go of the
// connection rather than leaving it, and h's goroutine, hanging).
type hostile struct {
	path      string
	h         func(w http.ResponseWriter, r *http.Request)
	cancelled chan struct{}
}

func (ho *hostile) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ho.path {
			next.ServeHTTP(w, r)
			return
		}
		ho.h(w, r)
		if r.Context().Err() != nil {
			select {
			case ho.cancelled <- struct{}{}:
			default:
			}
		}
	})
}

func (ho *hostile) waitCancelled(t *testing.T) {
	t.Helper()
	select {
	case <-ho.cancelled:
	case <-time.After(2 * time.Second):
		t.Fatal("the server's handler never saw its request cancelled: the connection was left open")
	}
}

// tight sets bounds small enough for tests to end in milliseconds.
func tight(c *nirva.Config) {
	c.IdleTimeout = 80 * time.Millisecond
	c.RequestTimeout = 400 * time.Millisecond
	c.UploadTimeout = 400 * time.Millisecond
	c.MaxProofSize = 4 << 10
}

func hostileEnv(t *testing.T, path string, h func(w http.ResponseWriter, r *http.Request), mods ...func(*nirva.Config)) (*env, *hostile) {
	t.Helper()
	ho := &hostile{path: path, h: h, cancelled: make(chan struct{}, 1)}
	e := newEnv(t, ho.wrap, func(c *nirva.Config) {
		tight(c)
		for _, m := range mods {
			m(c)
		}
	})
	if _, err := e.c.Authenticate(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	return e, ho
}

// slowDecode leaves time to send and decode 8 MiB, even under the race
// detector or a loaded machine (an 80 ms idle timeout fired between two
// reads at load 20): those tests are about the size limit, not time.
func slowDecode(c *nirva.Config) {
	c.RequestTimeout = 20 * time.Second
	c.IdleTimeout = 5 * time.Second
}

// endless writes until the client goes away.
func endless(w http.ResponseWriter, r *http.Request) {
	chunk := bytes.Repeat([]byte("%PDF-1.7 endless "), 256)
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// silent sends the headers, then nothing, until the client goes away.
func silent(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// trickle sends one byte every 20 ms: never idle, never done.
func trickle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	io.WriteString(w, "[")
	for r.Context().Err() == nil {
		if _, err := io.WriteString(w, " "); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond)
	}
}

// within fails the test when f takes longer than max.
func within(t *testing.T, max time.Duration, f func() error) error {
	t.Helper()
	start := time.Now()
	err := f()
	if d := time.Since(start); d > max {
		t.Fatalf("call took %s, want at most %s (err %v)", d, max, err)
	}
	return err
}

func TestEndlessProofStopsAtTheLimit(t *testing.T) {
	e, ho := hostileEnv(t, "/shipments/440192/trackingFile/CERTIF", endless)
	var buf bytes.Buffer
	var n int64
	err := within(t, time.Second, func() (err error) {
		n, err = e.c.DownloadTrackingFile(context.Background(), "440192", "CERTIF", &buf)
		return err
	})
	if !errors.Is(err, nirva.ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"CERTIF", "440192", "4 KiB", "max_proof_size_mb"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n > 4<<10 || int64(buf.Len()) != n {
		t.Fatalf("%d bytes written (buffer %d), limit 4 KiB", n, buf.Len())
	}
	ho.waitCancelled(t)
}

func TestProofOverTheLimitWithLengthWritesNothing(t *testing.T) {
	e, _ := hostileEnv(t, "/shipments/1/trackingFile/ACKN", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		w.Write(bytes.Repeat([]byte("x"), 5000))
	})
	var buf bytes.Buffer
	n, err := e.c.DownloadTrackingFile(context.Background(), "1", "ACKN", &buf)
	if !errors.Is(err, nirva.ErrTooLarge) || n != 0 || buf.Len() != 0 {
		t.Fatalf("n %d, %d bytes written, err %v", n, buf.Len(), err)
	}
}

func TestProofAtTheLimitIsKept(t *testing.T) {
	e, _ := hostileEnv(t, "/shipments/1/trackingFile/ACKN", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 4<<10)) // unknown length: chunked
	})
	var buf bytes.Buffer
	if n, err := e.c.DownloadTrackingFile(context.Background(), "1", "ACKN", &buf); err != nil || n != 4<<10 {
		t.Fatalf("n %d, err %v", n, err)
	}
}

func TestJSONAnswerOverTheLimit(t *testing.T) {
	e, _ := hostileEnv(t, "/options", func(w http.ResponseWriter, r *http.Request) {
		// A valid document, one byte too long: a truncated decode would
		// give a syntax error, not a clear one.
		io.WriteString(w, `["`+strings.Repeat("x", nirva.MaxJSONBody-3)+`"]`)
	}, slowDecode)
	_, err := e.c.Options(context.Background())
	if !errors.Is(err, nirva.ErrTooLarge) || !strings.Contains(err.Error(), "GET /options") || !strings.Contains(err.Error(), "8 MiB") {
		t.Fatalf("err %v", err)
	}
}

func TestEndlessJSONAnswer(t *testing.T) {
	e, ho := hostileEnv(t, "/options", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "[")
		chunk := strings.Repeat(`{"id":1},`, 1000)
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}, slowDecode)
	err := within(t, 10*time.Second, func() error { _, err := e.c.Options(context.Background()); return err })
	if !errors.Is(err, nirva.ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
	ho.waitCancelled(t)
}

func TestHeadersThenNothing(t *testing.T) {
	e, ho := hostileEnv(t, "/deliveries", silent)
	err := within(t, 300*time.Millisecond, func() error { _, err := e.c.Deliveries(context.Background(), "1"); return err })
	if !errors.Is(err, nirva.ErrStalled) || !strings.Contains(err.Error(), "nothing sent or received for 80ms") || !strings.Contains(err.Error(), "GET /deliveries") {
		t.Fatalf("err %v", err)
	}
	ho.waitCancelled(t)
}

func TestNoHeadersAtAll(t *testing.T) {
	e, ho := hostileEnv(t, "/jobs/7", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	before := e.c.RequestCount()
	err := within(t, 300*time.Millisecond, func() error { _, err := e.c.Job(context.Background(), "7"); return err })
	if !errors.Is(err, nirva.ErrStalled) {
		t.Fatalf("err %v", err)
	}
	if got := e.c.RequestCount() - before; got != 1 {
		t.Fatalf("%d attempts: a stalled platform is not retried", got)
	}
	ho.waitCancelled(t)
}

func TestTrickleEndsAtTheDeadline(t *testing.T) {
	// Idle far above the trickle's 20 ms gaps, so a loaded machine's pause
	// is not taken for a stall: only the deadline can end this call.
	e, ho := hostileEnv(t, "/jobs/7/packGroups", trickle, func(c *nirva.Config) { c.IdleTimeout = 300 * time.Millisecond })
	err := within(t, 2*time.Second, func() error { _, err := e.c.PackGroups(context.Background(), "7"); return err })
	if !errors.Is(err, nirva.ErrStalled) || !strings.Contains(err.Error(), "did not finish within 400ms") {
		t.Fatalf("err %v", err)
	}
	ho.waitCancelled(t)
}

func TestTrickledProofEndsAtTheDeadline(t *testing.T) {
	e, ho := hostileEnv(t, "/shipments/9/trackingFile/CERTIF", trickle, func(c *nirva.Config) { c.IdleTimeout = 300 * time.Millisecond })
	err := within(t, 2*time.Second, func() error {
		_, err := e.c.DownloadTrackingFile(context.Background(), "9", "CERTIF", io.Discard)
		return err
	})
	if !errors.Is(err, nirva.ErrStalled) || !strings.Contains(err.Error(), "CERTIF of shipment 9") {
		t.Fatalf("err %v", err)
	}
	ho.waitCancelled(t)
}

func TestStalledErrorBody(t *testing.T) {
	e, _ := hostileEnv(t, "/options", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"code":"BAD",`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	err := within(t, 300*time.Millisecond, func() error { _, err := e.c.Options(context.Background()); return err })
	var ae *nirva.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Fatalf("err %v", err)
	}
}

// TestStalledUploadIsUncertain: the job was created, then the platform
// went silent; the client gives up on its own deadline and says the
// outcome is unknown, never that nothing was posted.
func TestStalledUploadIsUncertain(t *testing.T) {
	e := newEnv(t, nil, tight)
	ctx := context.Background()
	if _, err := e.c.Authenticate(ctx, true); err != nil {
		t.Fatal(err)
	}
	e.sb.SetFaults(sandbox.Faults{HangAfterCreate: true})
	before := e.c.RequestCount()
	err := within(t, 300*time.Millisecond, func() error {
		_, err := e.c.CreateJob(ctx, nirva.JobRequest{JobName: "hung", ServiceID: "311", Files: []nirva.FilePart{pdfPart(t, "2201", "A")}})
		return err
	})
	if !errors.Is(err, nirva.ErrUncertain) || !errors.Is(err, nirva.ErrStalled) {
		t.Fatalf("err %v", err)
	}
	if e.c.RequestCount()-before != 1 || e.sb.JobCount("hung") != 1 {
		t.Fatalf("%d requests, %d jobs", e.c.RequestCount()-before, e.sb.JobCount("hung"))
	}
}

// TestSlowButSteadyAnswerPasses: a body that keeps moving within the idle
// timeout and ends before the deadline is read whole.
func TestSlowButSteadyAnswerPasses(t *testing.T) {
	// Three gaps of 120 ms: each well within the 300 ms idle timeout (a
	// loaded machine delays a wake-up by tens of ms), together longer.
	e, _ := hostileEnv(t, "/options/type", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		for _, part := range []string{`[{"id":"12",`, `"name":"printMode"}`, `]`} {
			io.WriteString(w, part)
			w.(http.Flusher).Flush()
			time.Sleep(120 * time.Millisecond)
		}
	}, func(c *nirva.Config) {
		c.IdleTimeout = 300 * time.Millisecond
		c.RequestTimeout = 3 * time.Second
	})
	types, err := e.c.OptionTypes(context.Background())
	if err != nil || len(types) != 1 || types[0].Name != "printMode" {
		t.Fatalf("%+v %v", types, err)
	}
}

// slowWriter takes longer than the idle timeout for every write.
type slowWriter struct{ n int }

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(120 * time.Millisecond)
	w.n += len(p)
	return len(p), nil
}

// TestSlowCallerIsNotAStall: time the caller spends between reads (a slow
// disk under a proof) is not the platform's silence.
func TestSlowCallerIsNotAStall(t *testing.T) {
	e, _ := hostileEnv(t, "/shipments/1/trackingFile/ACKN", func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			w.Write(bytes.Repeat([]byte("x"), 1<<10))
			w.(http.Flusher).Flush()
			time.Sleep(10 * time.Millisecond) // separate reads
		}
	})
	var w slowWriter
	if n, err := e.c.DownloadTrackingFile(context.Background(), "1", "ACKN", &w); err != nil || n != 3<<10 || w.n != 3<<10 {
		t.Fatalf("n %d, written %d, err %v", n, w.n, err)
	}
}
