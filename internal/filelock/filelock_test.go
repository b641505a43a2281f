package filelock_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/postform/postform/internal/filelock"
)

// Two open files on one path: the second cannot lock while the first
// holds the lock, and can once it is released.
func TestTryLockExcludesAnotherOpenFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	open := func() *os.File {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	if ok, err := filelock.TryLock(a); !ok || err != nil {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if ok, err := filelock.TryLock(b); ok || err != nil {
		t.Fatalf("second lock while the first is held: %v %v, want false, nil", ok, err)
	}
	// The holder can still write its information where waiters read it.
	if _, err := a.WriteAt([]byte("holder"), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "holder" {
		t.Fatalf("reading the locked file: %q %v", got, err)
	}
	if err := filelock.Unlock(a); err != nil {
		t.Fatal(err)
	}
	if ok, err := filelock.TryLock(b); !ok || err != nil {
		t.Fatalf("lock after release: %v %v", ok, err)
	}
}
