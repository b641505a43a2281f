package nirva

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestSizedBodyReadAfterClose: once the transport closed a form, its
// buffer may be another letter's; a late read must fail, not read it.
func TestSizedBodyReadAfterClose(t *testing.T) {
	buf := bytes.NewBufferString("the form of letter A")
	b := newSizedBody(buf)
	p := make([]byte, 4)
	if n, err := b.Read(p); n != 4 || err != nil || string(p) != "the " {
		t.Fatalf("read %q, %v", p[:n], err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if n, err := b.Read(p); n != 0 || !errors.Is(err, errBodyClosed) {
		t.Fatalf("read after close: %d bytes, %v", n, err)
	}
	if _, err := io.ReadAll(b); !errors.Is(err, errBodyClosed) {
		t.Fatalf("ReadAll after close: %v", err)
	}
}
