package nirva

import (
	"bytes"
	"strings"
	"testing"
)

// A --debug line quotes errors, whose text may come from the platform or
// the network: it reaches the terminal escaped, one line per request.
func TestDebugLinesAreEscaped(t *testing.T) {
	var out bytes.Buffer
	c := &Client{cfg: Config{Debug: &out}}
	c.debugf("GET %s -> error: %s", "/jobs/1", "reset\x1b[2J\r\nnirva: GET /forged -> 200")
	got := out.String()
	if strings.ContainsAny(got, "\x1b\r") || strings.Count(got, "\n") != 1 {
		t.Fatalf("debug line %q: a control character or a second line reached the terminal", got)
	}
	if !strings.HasPrefix(got, "nirva: GET /jobs/1 -> error: reset") {
		t.Fatalf("debug line %q", got)
	}
}
