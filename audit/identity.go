package audit

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"time"
)

// CIOf is the CI identity the environment describes (GitHub Actions,
// GitLab CI), or nil. Only names and URLs are read, never a token.
func CIOf(getenv func(string) string) *CI {
	switch {
	case getenv("GITHUB_ACTIONS") == "true" || getenv("GITHUB_RUN_ID") != "":
		ci := &CI{System: "github-actions", Actor: getenv("GITHUB_ACTOR")}
		if server, repo, run := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"); server != "" && repo != "" && run != "" {
			ci.RunURL = strings.TrimSuffix(server, "/") + "/" + repo + "/actions/runs/" + run
		}
		return ci
	case getenv("GITLAB_CI") == "true" || getenv("CI_JOB_URL") != "":
		return &CI{System: "gitlab-ci", Actor: getenv("GITLAB_USER_LOGIN"), RunURL: getenv("CI_JOB_URL")}
	}
	return nil
}

// UserName is the operating-system user running postform.
func UserName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, v := range []string{"USER", "USERNAME", "LOGNAME"} {
		if s := os.Getenv(v); s != "" {
			return s
		}
	}
	return "unknown"
}

// GitOf is the commit checked out in dir and whether the work tree has
// changes (tracked or untracked, ignored files aside), asked of git.
func GitOf(ctx context.Context, dir string) Git {
	bin, err := exec.LookPath("git")
	if err != nil {
		return Git{Unknown: "git is not installed"}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	run := func(args ...string) (string, error) {
		// core.fsmonitor off: a repository's own configuration could name
		// a program that `git status` runs (a checkout unpacked from
		// elsewhere, .git included).
		cmd := exec.CommandContext(ctx, bin, append([]string{"-C", dir, "-c", "core.fsmonitor=false"}, args...)...)
		// Never prompt, never page; the user's configuration is kept.
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
		out, err := cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := strings.TrimSpace(string(ee.Stderr))
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			return "", errors.New(msg)
		}
		return strings.TrimSpace(string(out)), err
	}
	if inside, err := run("rev-parse", "--is-inside-work-tree"); err != nil || inside != "true" {
		return Git{Unknown: "the working directory is not in a git repository"}
	}
	commit, err := run("rev-parse", "--verify", "HEAD")
	if err != nil {
		return Git{Unknown: "git has no commit checked out: " + err.Error()}
	}
	status, err := run("status", "--porcelain")
	if err != nil {
		return Git{Commit: commit, Unknown: "git status failed: " + err.Error()}
	}
	return Git{Commit: commit, Dirty: status != ""}
}
