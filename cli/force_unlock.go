package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// forceUnlockOptions are the arguments of postform force-unlock.
type forceUnlockOptions struct {
	g      *globals
	load   loadFlags
	force  bool
	lockID string
}

func newForceUnlockCommand(g *globals) *cobra.Command {
	opts := &forceUnlockOptions{g: g}
	cmd := &cobra.Command{
		Use:     "force-unlock LOCK_ID",
		Short:   "Remove a state lock left by a process that is gone",
		Example: `  postform force-unlock 6f1c2a9e-8d41-4c6b-9a57-2f0e3b1d7c55`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.lockID = args[0]
			return runForceUnlock(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.force, "force", false, "do not ask for confirmation")
	return cmd
}

// runForceUnlock removes the lock opts.lockID, after a "yes" on a terminal
// unless --force.
func runForceUnlock(ctx context.Context, opts *forceUnlockOptions) error {
	g := opts.g
	if !opts.force {
		const warning = "force-unlock removes another run's lock; if that run is still posting, two runs could post the same letters. Make sure it is gone"
		if !isTerminal(g.stdin) {
			return fmt.Errorf("%s, then run with --force", warning)
		}
		fmt.Fprintf(g.stdout, "%s.\n  Only 'yes' will be accepted to remove lock %s.\n\n  Enter a value: ", warning, opts.lockID)
		line, _ := bufio.NewReader(g.stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			return errors.New("force-unlock cancelled: the lock is still held")
		}
	}
	sess, err := g.openSession(ctx, opts.load, true, "force-unlock", false, runFlags{})
	if err != nil {
		return err
	}
	defer sess.close()
	if err := g.auditEdit(sess, "force-unlock", nil, "lock "+opts.lockID, sess.backend.ForceUnlock(ctx, opts.lockID)); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "The state lock %s was removed.\n", opts.lockID)
	return nil
}
