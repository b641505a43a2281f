package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postform/postform/nirva/sandbox"
)

// sandboxServeOptions are the arguments of postform sandbox serve.
type sandboxServeOptions struct {
	g       *globals
	addr    string
	hostile string
	sandbox sandbox.Options
}

func newSandboxServeCommand(g *globals) *cobra.Command {
	opts := &sandboxServeOptions{g: g}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the simulator over HTTP on a loopback address",
		Example: `  postform sandbox serve --addr 127.0.0.1:8080 --time-scale 60
  postform sandbox serve --dir world --fail-rate 0.1 --drop-after-create 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSandboxServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	so := &opts.sandbox
	f.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "listen address (loopback)")
	f.StringVar(&so.Dir, "dir", "", "keep the world in this folder across restarts (default: memory only)")
	f.Float64Var(&so.TimeScale, "time-scale", 1, "run the letters' clock this many times faster")
	f.DurationVar(&so.Faults.Latency, "latency", 0, "answer every API request no sooner than this after it arrives (the sandbox's own work runs inside it)")
	f.Float64Var(&so.Faults.FailRate, "fail-rate", 0, "answer this fraction of requests with 503")
	f.IntVar(&so.Faults.Burst429Every, "burst-429-every", 0, "every Nth request starts a burst of 429s")
	f.IntVar(&so.Faults.Burst429Len, "burst-429-len", 3, "length of each 429 burst")
	f.IntVar(&so.Faults.RetryAfter, "retry-after", 1, "Retry-After seconds on 429")
	f.IntVar(&so.Faults.DropAfterCreate, "drop-after-create", 0, "drop the response of the next N job creations (the jobs exist)")
	f.BoolVar(&so.Faults.HangAfterCreate, "hang-after-create", false, "never answer job creations (the jobs exist)")
	f.BoolVar(&so.Faults.NoJobLookup, "no-job-lookup", false, "answer 405 to job lookup by name")
	f.DurationVar(&so.TokenIdle, "token-idle", 0, "tokens expire after this idle time (default 30m)")
	f.Int64Var(&so.Faults.Seed, "seed", 1, "random seed for injected faults")
	f.StringVar(&opts.hostile, "hostile", "", "misbehave on purpose, to test a client against a hostile platform: a comma-separated list of "+strings.Join(sandbox.HostileModes, ", "))
	return cmd
}

// runSandboxServe serves the simulator until the first interrupt.
func runSandboxServe(_ context.Context, opts *sandboxServeOptions) error {
	g := opts.g
	h, err := sandbox.ParseHostile(opts.hostile)
	if err != nil {
		return fmt.Errorf("--hostile: %w", err)
	}
	so := opts.sandbox
	so.Faults.Hostile = h
	so.PDF = processPDF()
	return sandbox.Serve(g.interrupt, opts.addr, so, func(a string) {
		fmt.Fprintf(g.stdout, "sandbox listening on http://%s\n", a)
	})
}
