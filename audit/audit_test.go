package audit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// memStore keeps lines in memory, as a backend keeps them.
type memStore struct{ lines [][]byte }

func (m *memStore) AppendAudit(_ context.Context, seq uint64, line []byte) error {
	if seq != uint64(len(m.lines)+1) {
		return errors.New("out of order")
	}
	m.lines = append(m.lines, append([]byte(nil), line...))
	return nil
}

func (m *memStore) ReadAudit(context.Context) ([][]byte, error) { return m.lines, nil }

func trail(t *testing.T, n int) *memStore {
	t.Helper()
	s := &memStore{}
	for i := range n {
		_, err := Append(context.Background(), s, Entry{
			Time: time.Date(2026, 12, 1, 9, 0, i, 0, time.FixedZone("CET", 3600)), Action: "apply", User: "alice",
			Git: Git{Commit: "abc", Dirty: i%2 == 0}, PostformVersion: "0.1.0",
			Letters: []Letter{{Address: `mailing.a["<x>&"]`, JobID: "J1", ContentHash: "sha256:00", Status: "posted"}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestChainHoldsAndEveryByteCounts(t *testing.T) {
	s := trail(t, 3)
	entries, err := Decode(s.lines)
	if err != nil || len(entries) != 3 {
		t.Fatalf("Decode = %d entries, %v", len(entries), err)
	}
	if entries[0].Prev != "" || entries[1].Prev != entries[0].Hash || entries[2].Seq != 3 {
		t.Fatalf("chain = %+v", entries)
	}
	if !entries[0].Time.Equal(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)) || entries[0].Time.Location() != time.UTC {
		t.Fatalf("time not kept in UTC: %v", entries[0].Time)
	}
	// Changing any one byte of any entry is caught, at that entry.
	for i := range s.lines {
		for j := range s.lines[i] {
			lines := make([][]byte, len(s.lines))
			copy(lines, s.lines)
			lines[i] = bytes.Clone(s.lines[i])
			lines[i][j] ^= 0x01
			_, err := Decode(lines)
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("entry %d byte %d changed: Decode = %v", i+1, j, err)
			}
			if ce.Line != i+1 {
				t.Fatalf("entry %d byte %d changed: blamed line %d (%v)", i+1, j, ce.Line, err)
			}
		}
	}
}

func TestRemovedOrReorderedEntriesAreNamed(t *testing.T) {
	s := trail(t, 3)
	_, err := Decode([][]byte{s.lines[0], s.lines[2]})
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "removed or inserted") {
		t.Fatalf("an entry removed: %v", err)
	}
	_, err = Decode(s.lines[1:])
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("the first entry removed: %v", err)
	}
}

// A torn line does not stop the trail: the next entry chains to the last
// one that reads, and the torn line is what verification names.
func TestAppendAfterATornLine(t *testing.T) {
	s := trail(t, 2)
	s.lines = append(s.lines, []byte(`{"v":1,"seq":3,"pr`))
	_, err := Append(context.Background(), &tornStore{s}, Entry{Action: "state rm", Addresses: []string{"mailing.a"}})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := Decode(s.lines)
	if len(entries) != 3 || entries[2].Seq != 3 || entries[2].Prev != entries[1].Hash {
		t.Fatalf("entries after a torn line = %+v", entries)
	}
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Line != 3 {
		t.Fatalf("Decode = %v, want line 3 named", err)
	}
}

type tornStore struct{ *memStore }

func (t *tornStore) AppendAudit(_ context.Context, _ uint64, line []byte) error {
	t.lines = append(t.lines, line)
	return nil
}

func TestCIOf(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	gh := CIOf(env(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_REPOSITORY": "acme/mail", "GITHUB_RUN_ID": "42", "GITHUB_TOKEN": "ghs_secret"}))
	if *gh != (CI{System: "github-actions", Actor: "octocat", RunURL: "https://github.com/acme/mail/actions/runs/42"}) {
		t.Errorf("GitHub Actions: %+v", gh)
	}
	gl := CIOf(env(map[string]string{"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "bob", "CI_JOB_URL": "https://gitlab.example/acme/mail/-/jobs/7", "CI_JOB_TOKEN": "glcbt-secret"}))
	if *gl != (CI{System: "gitlab-ci", Actor: "bob", RunURL: "https://gitlab.example/acme/mail/-/jobs/7"}) {
		t.Errorf("GitLab CI: %+v", gl)
	}
	if c := CIOf(env(nil)); c != nil {
		t.Errorf("no CI: %+v", c)
	}
}

func TestGitOfOutsideARepository(t *testing.T) {
	g := GitOf(context.Background(), t.TempDir())
	if g.Commit != "" || g.Unknown == "" {
		t.Fatalf("GitOf(not a repository) = %+v", g)
	}
}

// A repository's configuration does not make GitOf run a program: git
// status would start the core.fsmonitor hook it names.
func TestGitOfRunsNoFsmonitorHook(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil || runtime.GOOS == "windows" {
		t.Skip("needs git and a shell script for the hook")
	}
	dir := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	hook := filepath.Join(t.TempDir(), "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "x"},
		{"config", "core.fsmonitor", hook},
	} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	if g := GitOf(context.Background(), dir); g.Commit == "" {
		t.Fatalf("GitOf = %+v", g)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("git status ran the repository's core.fsmonitor program")
	}
}
