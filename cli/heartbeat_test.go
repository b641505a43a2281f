package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHeartbeat: a line after each silent interval, none while lines keep
// coming, the text as last set.
func TestHeartbeat(t *testing.T) {
	t.Setenv("POSTFORM_PROGRESS_EVERY", "300ms")
	var out lockedBuffer
	h := startHeartbeat(&out, "Waiting for 2 letters")
	for range 6 { // 1.2 s of lines every 200 ms: never silent for 300 ms
		time.Sleep(200 * time.Millisecond)
		h.println("mailing.a: printing")
	}
	if strings.Contains(out.String(), "Waiting") {
		t.Fatalf("a heartbeat while lines kept coming:\n%s", out.String())
	}
	h.set("Waiting for 1 letter")
	time.Sleep(1500 * time.Millisecond)
	h.stop()
	got := out.String()
	if !strings.Contains(got, "Waiting for 1 letter (") || strings.Contains(got, "Waiting for 2") {
		t.Fatalf("no heartbeat with the last text after a silence:\n%s", got)
	}
}

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int
		want        string
	}{{0, 1000, "[----------]"}, {412, 1000, "[####------]"}, {1000, 1000, "[##########]"}, {0, 0, "[----------]"}} {
		if got := bar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("bar(%d, %d) = %s, want %s", tc.done, tc.total, got, tc.want)
		}
	}
}
