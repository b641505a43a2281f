package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/state"
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

// An apply loads terminal letters lazily: its wait still counts each as
// done or failed from its shipments, and decodes it once, not every round.
func TestStageCountsOfALazyState(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	full := state.New("5b3f6c1e-8d2a-4f7b-9c0e-1a2b3c4d5e6f")
	for addr, code := range map[string]int{"mailing.a": 610, "mailing.b": 710, "mailing.c": -1} {
		full.Mailings[addr] = &state.Mailing{Address: addr, Phase: state.PhasePosted, JobID: "J-" + addr, JobStatus: "CREATED", SubmittedAt: at,
			Deliveries: []state.Delivery{{ID: "D", Status: "OUTPUTTED", Shipments: []state.Shipment{{ID: "S-" + addr, StatusCode: code}}}},
			Terminal:   true}
	}
	full.Mailings["mailing.d"] = &state.Mailing{Address: "mailing.d", Phase: state.PhasePosted, JobID: "J-d", JobStatus: "IN_PROGRESS", SubmittedAt: at}
	data, err := state.Encode(full)
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := state.DecodeForPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	if lazy.Mailings["mailing.a"].DetailLoaded() {
		t.Fatal("the terminal letter was decoded in full: the test checks nothing")
	}
	for round := range 2 {
		text, done, total := stageCounts(lazy)
		if text != "1 received, 2 done, 1 failed" || done != 3 || total != 4 {
			t.Fatalf("round %d: %q, %d of %d done", round, text, done, total)
		}
		if !lazy.Mailings["mailing.a"].DetailLoaded() {
			t.Fatalf("round %d: the letter is decoded again at every round", round)
		}
	}
}
