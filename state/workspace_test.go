package state

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSelectWorkspace(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(WorkspaceEnv, "")
	if ws := CurrentWorkspace(dir); ws != "default" {
		t.Errorf("CurrentWorkspace of a new dir = %q", ws)
	}
	if err := SelectWorkspace(dir, "prod"); err != nil {
		t.Fatal(err)
	}
	if ws := CurrentWorkspace(dir); ws != "prod" {
		t.Errorf("CurrentWorkspace after selecting prod = %q", ws)
	}
	if _, err := os.Stat(filepath.Join(dir, ".postform", "environment")); err != nil {
		t.Error(err)
	}
	if err := SelectWorkspace(dir, "a/b"); err == nil {
		t.Error("SelectWorkspace accepted a/b")
	}
	t.Setenv(WorkspaceEnv, "ci")
	if ws := CurrentWorkspace(dir); ws != "ci" {
		t.Errorf("with %s=ci, CurrentWorkspace = %q", WorkspaceEnv, ws)
	}
	// Local workspaces other than default live under postform.state.d.
	b := open(t, Config{Dir: dir, Workspace: "prod"})
	if p := b.(*Local).Path(); p != filepath.Join(dir, "postform.state.d", "prod", "postform.state.json") {
		t.Errorf("prod's state file = %s", p)
	}
}
