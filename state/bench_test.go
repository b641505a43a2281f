package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/postform/postform/internal/pgtest"
)

func BenchmarkEncode(b *testing.B) {
	s := bigState(10000)
	data, _ := Encode(s)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data, _ := Encode(bigState(10000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTerminal decodes states of terminal letters (deliveries,
// tracking events, three proofs each, as bench/run.sh's states hold), in
// full and for a plan: the figures of issue 18.
func BenchmarkDecodeTerminal(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		data, err := Encode(terminalState(n))
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []struct {
			name   string
			decode func([]byte) (*State, error)
		}{{"full", Decode}, {"plan", DecodeForPlan}, {"plan-streamed", decodeStreamed}} {
			b.Run(fmt.Sprintf("%s/%d", mode.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := mode.decode(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRecord is one durable journal append (write + fsync) per op.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	be, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	s, _ := be.Load(ctx)
	i := 0
	for b.Loop() {
		a := addrOf(i % 1000)
		s.Mailings[a] = testMailing(a, i)
		if err := be.Record(ctx, s, a); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRecordParallel records from many goroutines: group commit shares
// the fsyncs.
func BenchmarkRecordParallel(b *testing.B) {
	ctx := context.Background()
	be, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	s, _ := be.Load(ctx)
	for i := range 1000 {
		s.Mailings[addrOf(i)] = testMailing(addrOf(i), i)
	}
	b.SetParallelism(4) // 4×GOMAXPROCS goroutines
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := be.Record(ctx, s, addrOf(i%1000)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	l := be.(*Local)
	b.ReportMetric(float64(b.N)/float64(max(l.jw.syncs.Load(), 1)), "records/fsync")
}

func BenchmarkRecordPG(b *testing.B) {
	ctx := context.Background()
	be, err := Open(Config{Type: "pg", ConnStr: pgtest.Shared(b), SchemaName: pgtest.Schema(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	s, err := be.Load(ctx)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		a := addrOf(i % 1000)
		s.Mailings[a] = testMailing(a, i)
		if err := be.Record(ctx, s, a); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestWriteAmplification records 10,000 mailings one by one, as an apply
// posting 10,000 letters does, then persists: the bytes written must stay
// within a small multiple of the final state, never 10,000 rewrites of it.
func TestWriteAmplification(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 fsyncs")
	}
	const n = 10000
	ctx := context.Background()
	be := open(t, Config{Dir: t.TempDir()})
	l := be.(*Local)
	s := load(t, be)
	start := time.Now()
	for i := range n {
		a := addrOf(i)
		m := testMailing(a, i)
		m.Phase, m.JobID, m.SubmittedAt, m.JobStatus = PhasePending, "", time.Time{}, ""
		s.Mailings[a] = m
		if err := be.Record(ctx, s, a); err != nil { // pending, before POST
			t.Fatal(err)
		}
	}
	recording := time.Since(start)
	if err := be.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	written := l.BytesWritten()
	ratio := float64(written) / float64(fi.Size())
	t.Logf("%d Records in %v (%v each); wrote %d bytes for a final state of %d bytes: ratio %.2f",
		n, recording.Round(time.Millisecond), (recording / n).Round(time.Microsecond), written, fi.Size(), ratio)
	if ratio >= 4 {
		t.Errorf("write amplification %.2f, want < 4", ratio)
	}
}

// decodeStreamed is the local backend's plan-only load of a snapshot.
func decodeStreamed(data []byte) (*State, error) {
	res, ok := decodeForPlanStream(bytes.NewReader(data), &source{positioned: true})
	if !ok {
		return nil, errors.New("not streamed")
	}
	return res.s, nil
}

// BenchmarkLoadForPlanLocal is the local backend's plan-only load of a
// snapshot of 100,000 terminal letters, as plan --refresh=false does it;
// POSTFORM_BENCH_STATE names a real state file to load instead (copied
// first: the load must not touch it).
func BenchmarkLoadForPlanLocal(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, DefaultPath)
	if real := os.Getenv("POSTFORM_BENCH_STATE"); real != "" {
		// Copied by io.Copy, not read whole: the peak RSS of a run of
		// -benchtime 1x is then the load's.
		in, err := os.Open(real)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(path)
		if err == nil {
			_, err = io.Copy(out, in)
			err = errors.Join(err, out.Close())
		}
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
	} else {
		data, err := Encode(terminalState(100000))
		if err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	runtime.GC()
	b.ReportAllocs()
	for b.Loop() {
		be, err := Open(Config{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		s, err := LoadForPlan(context.Background(), be)
		if err != nil || len(s.Mailings) == 0 {
			b.Fatalf("%d letters, %v", len(s.Mailings), err)
		}
		be.Close()
	}
}
