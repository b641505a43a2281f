package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/pdf"
	"github.com/postform/postform/state"
)

type backendRecord struct {
	Type       string `json:"type"`
	Path       string `json:"path,omitempty"`
	SchemaName string `json:"schema_name,omitempty"`
	// ConnStr is kept without its password (a changed password is not a
	// changed backend).
	ConnStr string `json:"conn_str,omitempty"`
}

func recordOf(cfg *config.Config) backendRecord {
	r := backendRecord{Type: cfg.Backend.Type, Path: cfg.Backend.Attrs["path"], SchemaName: cfg.Backend.Attrs["schema_name"]}
	if r.Type == "" {
		r.Type = "local"
	}
	if cs := cfg.Backend.Attrs["conn_str"]; cs != "" {
		r.ConnStr = stripPassword(cs)
	}
	return r
}

// stripPassword removes the password of a PostgreSQL connection string,
// in URL or key=value form: what is recorded can reconnect with the
// password from PGPASSWORD or ~/.pgpass, and reveals nothing.
func stripPassword(cs string) string {
	if u, err := url.Parse(cs); err == nil && u.Scheme != "" {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		if q.Has("password") {
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return strings.TrimSpace(kvPassword.ReplaceAllString(cs, ""))
}

// kvPassword matches password=… in a key=value connection string, quoted
// ('a b', with \' escapes) or not.
var kvPassword = regexp.MustCompile(`\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`)

func readBackendRecord(dir string) (*backendRecord, error) {
	b, err := readInWorkDir(dir, layout.Backend)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r backendRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is corrupt (%v): run postform init", layout.Backend, err)
	}
	return &r, nil
}

func writeBackendRecord(dir string, r backendRecord) error {
	b, _ := json.MarshalIndent(r, "", "  ")
	// Atomic: two runs starting together must never read half a file.
	return writeInWorkDir(dir, layout.Backend, append(b, '\n'))
}

// checkBackend refuses to run against a backend other than the recorded
// one: the letters posted so far are tracked in the old one.
func checkBackend(cfg *config.Config) error {
	rec, err := readBackendRecord(cfg.Dir)
	if err != nil {
		return err
	}
	cur := recordOf(cfg)
	if rec == nil {
		return writeBackendRecord(cfg.Dir, cur)
	}
	if *rec != cur {
		return fmt.Errorf("the backend changed (was %s, now %s): the state of the letters posted so far is in the old one. Run `postform init --migrate-state` to move it, or `postform init --reconfigure` to start from the new backend's state", describeRecord(*rec), describeRecord(cur))
	}
	return nil
}

func describeRecord(r backendRecord) string {
	switch r.Type {
	case "pg":
		return fmt.Sprintf("pg %s schema %s", r.ConnStr, r.SchemaName)
	default:
		p := r.Path
		if p == "" {
			p = "postform.state.json"
		}
		return "local " + p
	}
}

// initOptions are the arguments of postform init.
type initOptions struct {
	g           *globals
	load        loadFlags
	migrate     bool
	reconfigure bool
	force       bool
}

func newInitCommand(g *globals) *cobra.Command {
	opts := &initOptions{g: g}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Scaffold a working directory, or set up (and migrate) its backend",
		Example: `  postform init
  postform init --migrate-state`,
		Long: `In an empty directory, init writes a first main.mail.hcl (one letter on the
sandbox), its PDF and a .gitignore. In a configured directory it checks the
backend; when the backend block changed, --migrate-state copies every
workspace's state from the old backend to the new one, and --reconfigure
switches without copying.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.migrate, "migrate-state", false, "copy the state from the previously used backend into the configured one")
	cmd.Flags().BoolVar(&opts.reconfigure, "reconfigure", false, "use the configured backend without copying the previous state")
	cmd.Flags().BoolVar(&opts.force, "force-copy", false, "overwrite a different state in the new backend")
	return cmd
}

// runInit scaffolds an empty working directory, or checks its backend and
// with --migrate-state copies the state from the one recorded before.
func runInit(ctx context.Context, opts *initOptions) error {
	g := opts.g
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	existing, _ := filepath.Glob(filepath.Join(dir, "*.mail.hcl"))
	if len(existing) == 0 {
		return scaffold(g, dir)
	}
	cfg, err := g.loadConfig(opts.load, true)
	if err != nil {
		return err
	}
	rec, err := readBackendRecord(cfg.Dir)
	if err != nil {
		return err
	}
	cur := recordOf(cfg)
	switch {
	case rec == nil || *rec == cur || opts.reconfigure:
		if err := writeBackendRecord(cfg.Dir, cur); err != nil {
			return err
		}
		b, err := state.Open(backendConfig(cfg, state.CurrentWorkspace(cfg.Dir)))
		if err != nil {
			return err
		}
		defer b.Close()
		if _, err := b.Load(ctx); err != nil {
			return fmt.Errorf("the backend %s: %w", b.Describe(), err)
		}
		fmt.Fprintf(g.stdout, "postform is initialized: state in %s.\n", b.Describe())
		return nil
	case !opts.migrate:
		return fmt.Errorf("the backend changed (was %s, now %s): run `postform init --migrate-state` to copy the state, or `postform init --reconfigure` to start from the new backend's state", describeRecord(*rec), describeRecord(cur))
	}
	// The previous backend as recorded; a pg password is not recorded
	// and comes from PGPASSWORD or ~/.pgpass.
	from := *cfg
	from.Backend = config.Backend{Type: rec.Type, Attrs: map[string]string{"path": rec.Path, "conn_str": rec.ConnStr, "schema_name": rec.SchemaName}}
	n, err := migrateState(ctx, &from, cfg, opts.force)
	if err != nil {
		return err
	}
	if err := writeBackendRecord(cfg.Dir, cur); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Copied %d workspace state(s) from %s to %s. The old state was left in place.\n", n, describeRecord(*rec), describeRecord(cur))
	return nil
}

// migrateState copies every workspace from one backend to another, each
// under both backends' locks.
func migrateState(ctx context.Context, from, to *config.Config, force bool) (int, error) {
	src, err := state.Open(backendConfig(from, state.DefaultWorkspace))
	if err != nil {
		return 0, err
	}
	// Listed before src is closed (List on a closed backend worked only
	// because both backends happen to reopen); closed before each
	// workspace is opened again under its lock.
	names := []string{state.DefaultWorkspace}
	if ws, ok := src.(state.Workspaces); ok {
		names, err = ws.List(ctx)
	}
	src.Close()
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := copyWorkspace(ctx, from, to, name, force); err != nil {
			return 0, fmt.Errorf("workspace %q: %w", name, err)
		}
	}
	return len(names), nil
}

func copyWorkspace(ctx context.Context, from, to *config.Config, name string, force bool) error {
	src, err := state.Open(backendConfig(from, name))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := state.Open(backendConfig(to, name))
	if err != nil {
		return err
	}
	defer dst.Close()
	for _, b := range []state.Backend{src, dst} {
		u, err := b.Lock(ctx, lockInfo("init --migrate-state"))
		if err != nil {
			return err
		}
		defer u.Unlock()
	}
	data, err := state.Pull(ctx, src)
	if err != nil {
		return err
	}
	return state.Push(ctx, dst, data, force)
}

// scaffold writes a first working directory: one letter on the sandbox.
func scaffold(g *globals, dir string) error {
	files := config.InitFiles()
	pdf, err := pdf.MakeLetter([]string{"Ada Lovelace", "12 rue de la Paix", "75002 PARIS"}, "Welcome to postform!")
	if err != nil {
		return err
	}
	files["letter.pdf"] = pdf
	wd, err := safefs.OpenCreate(dir)
	if err != nil {
		return err
	}
	defer wd.Close()
	names := make([]string, 0, len(files))
	for n := range files {
		if wd.Exists(n) {
			return fmt.Errorf("%s already exists: init only scaffolds an empty directory", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := wd.WriteFile(n, files[n], 0o644); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Created %s\n", n)
	}
	fmt.Fprintln(g.stdout, "\nNext: `postform plan` shows the letter that `postform apply` would post on the sandbox.")
	return nil
}
