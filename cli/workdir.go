package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// loadFlags are the flags of every command that evaluates the configuration.
type loadFlags struct {
	// args holds --var and --var-file in command-line order: a later one
	// wins, whatever its kind.
	args []config.VarArg
	// offline: the command makes no API call, so the variables only the
	// provider's credentials read need no value (config.LoadOptions.Offline).
	offline bool
}

func (f *loadFlags) register(cmd *cobra.Command) {
	cmd.Flags().Var(varArgs{&f.args, false}, "var", "set a variable: --var 'name=value' (repeatable)")
	cmd.Flags().Var(varArgs{&f.args, true}, "var-file", "read variable values from an HCL or JSON `FILE` (repeatable)")
}

// varArgs is a repeatable flag appending to one ordered list.
type varArgs struct {
	list *[]config.VarArg
	file bool
}

func (v varArgs) String() string { return "" }
func (v varArgs) Type() string {
	if v.file {
		return "file"
	}
	return "name=value"
}
func (v varArgs) Set(s string) error {
	*v.list = append(*v.list, config.VarArg{File: v.file, Value: s})
	return nil
}

// runFlags are the flags of every command that talks to the platform.
type runFlags struct {
	parallelism int
	lockTimeout time.Duration
}

func (f *runFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.parallelism, "parallelism", 10, "at most this many API calls at once")
	cmd.Flags().DurationVar(&f.lockTimeout, "lock-timeout", 0, "wait this long for the state lock (0: fail at once when it is held)")
}

// loadConfig evaluates the working directory and prints its diagnostics.
// Errors end the command with exit 1; warnings are shown and it goes on.
func (g *globals) loadConfig(f loadFlags, skipPreflight bool) (*config.Config, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	cache, recipients := openHashCache(dir), openRecipientCache(dir)
	cfg, diags := config.Load(dir, config.LoadOptions{
		VarArgs: f.args, Env: os.Environ(),
		HashCache: cache, SkipPreflight: skipPreflight, Version: Version,
		PDF: processPDF(), Recipients: recipients, CacheDir: layout.UserCache(), Offline: f.offline,
		Prompt: g.variablePrompt(),
	})
	// The caches' reads end here whatever Load found: no file of the
	// command stays open behind it.
	cache.loading.Wait()
	recipients.loading.Wait()
	if len(diags) > 0 {
		g.writeDiagnostics(cfg, diags)
	}
	if diags.HasErrors() {
		return nil, silent(ExitError)
	}
	cache.save()
	recipients.save()
	return cfg, nil
}

// readOnlySession opens the state without the lock and without the network.
func (g *globals) readOnlySession(ctx context.Context, lf loadFlags) (*session, error) {
	lf.offline = true
	return g.openSession(ctx, lf, true, "read", false, runFlags{})
}

// lockedSession opens the state under its lock for a state edit.
func (g *globals) lockedSession(ctx context.Context, lf loadFlags, rf runFlags, operation string) (*session, error) {
	return g.openSession(ctx, lf, true, operation, true, rf)
}

// withReadOnlySession runs fn on the state opened without the lock and
// without the network, and closes it after.
func (g *globals) withReadOnlySession(ctx context.Context, lf loadFlags, fn func(*session) error) error {
	sess, err := g.readOnlySession(ctx, lf)
	if err != nil {
		return err
	}
	defer sess.close()
	return fn(sess)
}

// withLockedSession runs fn on the state opened under its lock for
// operation, and closes (logs out, unlocks) after.
func (g *globals) withLockedSession(ctx context.Context, lf loadFlags, rf runFlags, operation string, fn func(*session) error) error {
	sess, err := g.lockedSession(ctx, lf, rf, operation)
	if err != nil {
		return err
	}
	defer sess.close()
	return fn(sess)
}

// session is one command's connection to the state and the platform.
type session struct {
	g       *globals
	cfg     *config.Config
	backend state.Backend
	unlock  state.Unlocker
	engine  *reconcile.Engine
	client  *nirva.Client
	sandbox *sandbox.Sandbox
	// loaded is each letter's job and attempt as the state said when the
	// session opened, before any refresh adopted a job: the audit trail
	// compares against it. Only a locked session, which may change the
	// state, keeps it (nil otherwise: at 100,000 letters it was 12 MB of
	// a read-only plan's peak heap, never read).
	loaded map[string]jobSeen
	// readEarly says the state was read beside the configuration's
	// evaluation (earlyBackend).
	readEarly bool
}

// openedState is a backend opened, possibly locked, and read.
type openedState struct {
	backend state.Backend
	unlock  state.Unlocker
	state   *state.State
	err     error
}

func (o openedState) release() {
	if o.unlock != nil {
		o.unlock.Unlock()
	}
	if o.backend != nil {
		o.backend.Close()
	}
}

// openSession evaluates the configuration and opens its state, locked for
// operation when lock is set. The state the working directory's backend
// record names (earlyBackend) is opened and read while the configuration
// is evaluated: on two cores a plan of thousands of letters then takes the
// longer of the two, not their sum. The record is only trusted once the
// evaluated configuration asks for exactly that backend; otherwise what
// was read early is released unused.
func (g *globals) openSession(ctx context.Context, lf loadFlags, skipPreflight bool, operation string, lock bool, rf runFlags) (*session, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	// The state is read while the configuration is evaluated (at 100,000
	// letters each takes a second of its own): from the backend the last
	// init recorded, used only if it is exactly the one configured.
	var early chan openedState
	var earlyConfig state.Config
	// A read that will be thrown away (the configuration has errors or
	// asks for another backend) is cancelled rather than waited for: at
	// 100,000 letters a full load is seconds, and with lock it holds the
	// state lock all that time. A read that is used keeps its context: the
	// backend it opened may go on using it.
	cancelEarly := func() {}
	if rec, _ := readBackendRecord(dir); rec != nil {
		if bc, ok := earlyBackend(dir, rec); ok {
			earlyCtx, cancel := context.WithCancel(ctx)
			early, earlyConfig, cancelEarly = make(chan openedState, 1), bc, cancel
			go func() { early <- openBackend(earlyCtx, bc, operation, lock, rf) }()
		}
	}
	discard := func() {
		if early != nil {
			cancelEarly()
			(<-early).release()
		}
	}
	cfg, err := g.loadConfig(lf, skipPreflight)
	if err != nil {
		discard()
		return nil, err
	}
	if err := checkBackend(cfg); err != nil {
		discard()
		return nil, err
	}
	var o openedState
	want := backendConfig(cfg, state.CurrentWorkspace(cfg.Dir))
	if want.Type == "" {
		want.Type = "local"
	}
	readEarly := early != nil && want == earlyConfig
	if readEarly {
		o = <-early
	} else {
		discard()
		o = openBackend(ctx, want, operation, lock, rf)
	}
	if o.err != nil {
		o.release()
		return nil, o.err
	}
	if w, ok := o.backend.(state.Warner); ok {
		for _, msg := range w.Warnings() {
			writeMessage(g.stderr, "Warning: ", msg)
		}
	}
	proofs := cfg.Provider.ProofsDir
	if proofs == "" {
		proofs = "proofs"
	}
	if !filepath.IsAbs(proofs) {
		proofs = filepath.Join(cfg.Dir, proofs)
	}
	sess := &session{g: g, cfg: cfg, backend: o.backend, unlock: o.unlock,
		engine:    &reconcile.Engine{Backend: o.backend, State: o.state, ProofsDir: proofs, WorkDir: cfg.Dir, Parallelism: rf.parallelism},
		readEarly: readEarly}
	if lock {
		sess.loaded = snapshotJobs(o.state)
	}
	if sess.engine.Lookup, err = lookupPolicyFromEnv(); err != nil {
		sess.close()
		return nil, err
	}
	// A run that may post or refresh must be able to keep the proofs: a
	// proofs folder it may not write in is found before anything is posted.
	if lock {
		if _, err := sess.engine.ProofsFS(); err != nil {
			sess.close()
			return nil, err
		}
	}
	return sess, nil
}

// earlyBackend is the backend a working directory's record names, when it
// can be opened before the configuration is evaluated: a local one, or a pg
// one reached through PG_CONN_STR or the libpq variables (a recorded
// connection string has lost its password). openSession uses it only if
// the evaluated configuration asks for exactly it.
func earlyBackend(dir string, rec *backendRecord) (state.Config, bool) {
	ws := state.CurrentWorkspace(dir)
	switch {
	case rec.Type == "local":
		return state.Config{Type: "local", Dir: dir, Workspace: ws, Path: rec.Path}, true
	case rec.Type == "pg" && rec.ConnStr == "":
		return state.Config{Type: "pg", Dir: dir, Workspace: ws, SchemaName: rec.SchemaName}, true
	}
	return state.Config{}, false
}

// openBackend opens a backend and, when lock is set, takes the state lock
// for operation before reading the state.
func openBackend(ctx context.Context, bc state.Config, operation string, lock bool, rf runFlags) openedState {
	b, err := state.Open(bc)
	if err != nil {
		return openedState{err: fmt.Errorf("opening the %s backend: %w", bc.Type, err)}
	}
	o := openedState{backend: b}
	if lock {
		lctx, cancel := context.WithTimeout(ctx, rf.lockTimeout)
		defer cancel()
		if o.unlock, o.err = b.Lock(lctx, lockInfo(operation)); o.err != nil {
			return o
		}
	}
	load := b.Load
	if operation == "plan" || operation == "refresh" || operation == "apply" {
		// A plan reads no letter's deliveries or proofs, and its refresh
		// (or postform refresh) only those of unfinished letters, always
		// decoded: the terminal letters keep theirs undecoded, and a
		// refresh writes them back as they were. Of a terminal letter's
		// detail, a refresh reads only the jobs it replaced, when a job is
		// claimed (Mailing.SupersededJobs); an apply also reads a letter's
		// proofs when it replaces it (LoadDetail), and every letter's
		// shipments when it waits (stageCounts). At 100,000 letters the
		// full decoding was two thirds of a refresh of 1,000 (issue 18).
		load = func(ctx context.Context) (*state.State, error) { return state.LoadForPlan(ctx, b) }
	}
	if o.state, o.err = load(ctx); o.err != nil {
		o.err = fmt.Errorf("reading the state from %s: %w", b.Describe(), o.err)
	}
	return o
}

func lockInfo(operation string) state.LockInfo {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	return state.LockInfo{ID: uuid.NewString(), Operation: operation, Who: who, Host: host, PID: os.Getpid(), Created: time.Now().UTC()}
}

// connect makes the API client (and the in-process sandbox when the
// endpoint is "sandbox") and authenticates once for the run.
func (s *session) connect(ctx context.Context, withProfile bool) error {
	p := s.cfg.Provider
	nc := nirva.Config{Endpoint: p.Endpoint, Login: p.Login, Password: p.Password, MaxRequestsPerSecond: p.MaxRequestsPerSecond,
		MaxProofSize: p.MaxProofSize, Insecure: p.Insecure,
		IdleTimeout: p.IdleTimeout, RequestTimeout: p.RequestTimeout}
	if s.g.debug {
		nc.Debug = s.g.stderr
	}
	if p.Endpoint == "sandbox" {
		sb, err := openSandbox(s.cfg.Dir)
		if err != nil {
			return err
		}
		s.sandbox = sb
		nc.Endpoint = "http://sandbox.invalid"
		nc.HTTPClient = sb.HTTPClient()
	}
	if p.Endpoint == "sandbox" && nc.Login == "" && nc.Password == "" {
		// The simulator takes any credentials; a scaffold needs none.
		nc.Login, nc.Password = "sandbox", "sandbox"
	}
	if len(p.Deferred) > 0 {
		return fmt.Errorf("this run calls the platform, but the provider's %s reads variables that have no value: give them with --var, a *.auto.vars.hcl file or POSTFORM_VAR_name", p.DeferredNames())
	}
	if nc.Login == "" || nc.Password == "" {
		return errors.New("no credentials for the nirva provider: set login and password in the provider block (from variables), or POSTFORM_LOGIN and POSTFORM_PASSWORD")
	}
	c, err := nirva.New(nc)
	if err != nil {
		return err
	}
	s.client = c
	s.engine.Client = c
	if _, err := c.Authenticate(ctx, withProfile); err != nil {
		return fmt.Errorf("authenticating to %s: %w", safeEndpoint(p.Endpoint), err)
	}
	return nil
}

// openSandbox opens the built-in simulator with its world kept under
// .postform/sandbox/ so letters progress across runs.
// POSTFORM_SANDBOX_TIME_SCALE speeds its clock up and POSTFORM_SANDBOX_LATENCY
// slows every request down (tests use them).
func openSandbox(dir string) (*sandbox.Sandbox, error) {
	opts := sandbox.Options{Dir: filepath.Join(dir, layout.Sandbox), PDF: processPDF()}
	if v := os.Getenv("POSTFORM_SANDBOX_TIME_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return nil, fmt.Errorf("POSTFORM_SANDBOX_TIME_SCALE=%q: want a positive number", v)
		}
		opts.TimeScale = f
	}
	if v := os.Getenv("POSTFORM_SANDBOX_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("POSTFORM_SANDBOX_LATENCY=%q: want a duration such as 50ms", v)
		}
		opts.Faults.Latency = d
	}
	if v := os.Getenv("POSTFORM_SANDBOX_HOSTILE"); v != "" {
		h, err := sandbox.ParseHostile(v)
		if err != nil {
			return nil, fmt.Errorf("POSTFORM_SANDBOX_HOSTILE: %w", err)
		}
		opts.Faults.Hostile = h
	}
	// The world folder is made inside the working directory, refusing a
	// .postform a checkout committed as a link to elsewhere.
	wd, err := safefs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer wd.Close()
	worldDir, err := wd.Sub(layout.Sandbox)
	if err != nil {
		return nil, fmt.Errorf("opening the sandbox: %w", err)
	}
	worldDir.Close()
	sb, err := sandbox.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("opening the sandbox in %s: %w", opts.Dir, err)
	}
	return sb, nil
}

// close logs out, persists nothing, releases the lock and the backend.
// It runs on every path out of a command: success, error and interrupt.
func (s *session) close() {
	if s.client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.client.Logout(ctx); err != nil {
			writeMessage(s.g.stderr, "Warning: logging out of the platform failed: ", err.Error())
		}
		cancel()
	}
	if s.sandbox != nil {
		if err := s.sandbox.Close(); err != nil {
			fmt.Fprintf(s.g.stderr, "Warning: saving the sandbox world: %v\n", err)
		}
	}
	if s.unlock != nil {
		if err := s.unlock.Unlock(); err != nil {
			fmt.Fprintf(s.g.stderr, "Warning: releasing the state lock: %v\n", err)
		}
	}
	s.backend.Close()
}

// persist writes the state snapshot and reports a failure loudly: the
// journal still holds every record, so nothing is lost.
func (s *session) persist() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.engine.Persist(ctx); err != nil {
		return fmt.Errorf("writing the state to %s (the records made during the run are in its journal; a job id not yet recorded is found by name by the next run): %w", s.backend.Describe(), err)
	}
	return nil
}

// safeEndpoint drops any user:password@ from an endpoint for messages.
func safeEndpoint(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return endpoint
}

// readInWorkDir reads rel inside the working directory dir, never through
// a link a checkout planted.
func readInWorkDir(dir, rel string) ([]byte, error) {
	wd, err := safefs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer wd.Close()
	return wd.ReadFile(rel)
}

// openInWorkDir opens rel inside the folder dir for reading, never through
// a link a checkout planted, as readInWorkDir reads it.
func openInWorkDir(dir, rel string) (*os.File, error) {
	wd, err := safefs.Open(dir)
	if err != nil {
		return nil, err
	}
	// The file stays open once its folder's root is closed.
	defer wd.Close()
	return wd.Open(rel)
}

// writeInWorkDir replaces rel inside the working directory dir atomically,
// never through a link a checkout planted.
func writeInWorkDir(dir, rel string, data []byte) error {
	wd, err := safefs.OpenCreate(dir)
	if err != nil {
		return err
	}
	defer wd.Close()
	return wd.WriteFile(rel, data, 0o644)
}
