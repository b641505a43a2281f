package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/internal/safefs"
)

// A checkout can commit symlinks where the local backend writes. Each must
// be refused with an error naming it, and nothing outside the working
// directory may change.
func TestLocalRefusesPlantedLinks(t *testing.T) {
	for _, planted := range []string{
		"postform.state.json.lock",
		"postform.state.json.journal",
		"postform.state.json",
		"postform.state.json.backup",
	} {
		for _, dangling := range []bool{false, true} {
			name := planted
			if dangling {
				name += " (dangling)"
			}
			t.Run(name, func(t *testing.T) {
				base := t.TempDir()
				work, outside := filepath.Join(base, "work"), filepath.Join(base, "outside")
				os.MkdirAll(work, 0o755)
				os.MkdirAll(outside, 0o755)
				victim := filepath.Join(outside, "victim")
				if !dangling {
					os.WriteFile(victim, []byte("precious"), 0o644)
				}
				if err := os.Symlink(victim, filepath.Join(work, planted)); err != nil {
					t.Fatal(err)
				}
				err := writeTwoSnapshots(t, work)
				if err == nil {
					t.Fatalf("a state was written with %s planted as a link", planted)
				}
				if !errors.Is(err, safefs.ErrSymlink) || !strings.Contains(err.Error(), planted) {
					t.Errorf("the error does not name the planted link: %v", err)
				}
				b, rerr := os.ReadFile(victim)
				switch {
				case dangling && rerr == nil:
					t.Errorf("the dangling link's target was created, holding %q", b)
				case !dangling && string(b) != "precious":
					t.Errorf("the link's target was changed to %q", b)
				}
			})
		}
	}
}

// writeTwoSnapshots locks, records, persists twice (so a backup is kept)
// and unlocks: every file the backend writes is touched.
func writeTwoSnapshots(t *testing.T, work string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := Open(Config{Dir: work})
	if err != nil {
		return err
	}
	defer b.Close()
	s, err := b.Load(ctx)
	if err != nil {
		return err
	}
	un, err := b.Lock(ctx, LockInfo{Operation: "test"})
	if err != nil {
		return err
	}
	defer un.Unlock()
	for i := range 2 {
		s.Mailings["mailing.a"] = &Mailing{Address: "mailing.a", JobName: "job-$(touch /tmp/pwned)", Phase: PhasePending, ContentHash: string(rune('a' + i))}
		if err := b.Record(ctx, s, "mailing.a"); err != nil {
			return err
		}
		if err := b.Persist(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func TestLocalStatePathMustStayInside(t *testing.T) {
	work := t.TempDir()
	for _, p := range []string{"../elsewhere.json", filepath.Join(t.TempDir(), "abs.json")} {
		_, err := Open(Config{Dir: work, Path: p})
		if err == nil || !strings.Contains(err.Error(), "outside the working directory") {
			t.Errorf("path %q: %v", p, err)
		}
	}
	if _, err := Open(Config{Dir: work, Path: "state/inner.json"}); err != nil {
		t.Errorf("a path inside is refused: %v", err)
	}
}

// A folder on the way to the state that is a link out of the working
// directory is refused too.
func TestLocalRefusesLinkedStateFolder(t *testing.T) {
	base := t.TempDir()
	work, outside := filepath.Join(base, "work"), filepath.Join(base, "outside")
	os.MkdirAll(work, 0o755)
	os.MkdirAll(outside, 0o755)
	os.Symlink(outside, filepath.Join(work, WorkspaceDir))
	b, err := Open(Config{Dir: work, Workspace: "staging"})
	if err == nil {
		ctx := context.Background()
		var s *State
		if s, err = b.Load(ctx); err == nil {
			s.Mailings["mailing.a"] = &Mailing{Address: "mailing.a"}
			err = b.Record(ctx, s, "mailing.a")
		}
	}
	if err == nil {
		t.Fatal("wrote the state through a linked folder")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("files written outside: %v", entries)
	}
}
