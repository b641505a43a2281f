package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/safefs"
)

// DefaultWorkspace is the workspace used when none is selected.
const DefaultWorkspace = "default"

// WorkspaceEnv, when set, overrides the selected workspace (like
// Terraform's TF_WORKSPACE).
const WorkspaceEnv = "POSTFORM_WORKSPACE"

// Workspaces lists and deletes the workspaces of a backend. Both backends
// implement it, whatever workspace they were opened with.
type Workspaces interface {
	List(ctx context.Context) ([]string, error)
	// Delete removes a workspace's state. It refuses "default", a locked
	// workspace, and a workspace whose state still tracks mailings (the
	// state is the only record that they were posted).
	Delete(ctx context.Context, name string) error
}

var workspaceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,89}$`)

// ValidateWorkspaceName refuses names that are not safe as a directory name.
func ValidateWorkspaceName(name string) error {
	if !workspaceName.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("invalid workspace name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
	}
	return nil
}

// CurrentWorkspace returns the workspace selected in dir: $POSTFORM_WORKSPACE
// when set, else the one saved by SelectWorkspace, else "default".
func CurrentWorkspace(dir string) string {
	if ws := os.Getenv(WorkspaceEnv); ws != "" {
		return ws
	}
	fsys, err := safefs.Open(dir)
	if err != nil {
		return DefaultWorkspace
	}
	defer fsys.Close()
	data, err := fsys.ReadFile(layout.Environment)
	if err != nil {
		return DefaultWorkspace
	}
	if ws := strings.TrimSpace(string(data)); ws != "" {
		return ws
	}
	return DefaultWorkspace
}

// SelectWorkspace saves name as dir's selected workspace.
func SelectWorkspace(dir, name string) error {
	if err := ValidateWorkspaceName(name); err != nil {
		return err
	}
	fsys, err := safefs.OpenCreate(dir)
	if err != nil {
		return err
	}
	defer fsys.Close()
	return fsys.WriteFile(layout.Environment, []byte(name+"\n"), 0o644)
}

// List returns "default" and every workspace with a directory under
// postform.state.d, sorted.
func (b *Local) List(ctx context.Context) ([]string, error) {
	names := []string{DefaultWorkspace}
	entries, err := os.ReadDir(filepath.Join(b.root, WorkspaceDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != DefaultWorkspace && ValidateWorkspaceName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names[1:])
	return names, nil
}

// Delete removes postform.state.d/<name> once its state is empty.
func (b *Local) Delete(ctx context.Context, name string) error {
	if err := ValidateWorkspaceName(name); err != nil {
		return err
	}
	if name == DefaultWorkspace {
		return errors.New(`the "default" workspace cannot be deleted`)
	}
	dir := filepath.Join(WorkspaceDir, name)
	if _, err := b.fs.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("workspace %q does not exist", name)
	}
	other, err := openLocal(Config{Dir: b.root, Path: b.base, Workspace: name})
	if err != nil {
		return err
	}
	defer other.Close()
	unlock, err := lockEmptyWorkspace(ctx, other, name)
	if err != nil {
		return err
	}
	defer unlock.Unlock()
	return b.fs.RemoveAll(dir)
}

// emptyState says whether s tracks nothing.
func emptyState(s *State) bool {
	return len(s.Mailings) == 0
}

// lockEmptyWorkspace locks another workspace's backend for its deletion and
// refuses when its state still tracks letters: that state is the only
// record that they were posted.
func lockEmptyWorkspace(ctx context.Context, other Backend, name string) (Unlocker, error) {
	unlock, err := other.Lock(context.WithoutCancel(ctx), LockInfo{Operation: "workspace delete"})
	if err != nil {
		return nil, err
	}
	s, err := other.Load(ctx)
	if err == nil && len(s.Mailings) > 0 {
		err = fmt.Errorf("workspace %q still tracks %d mailings; its state is the only record that they were posted — forget them with `postform state rm` first", name, len(s.Mailings))
	}
	if err != nil {
		unlock.Unlock()
		return nil, err
	}
	return unlock, nil
}
