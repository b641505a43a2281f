package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/termtext"
)

// sandboxJobsOptions are the arguments of postform sandbox jobs.
type sandboxJobsOptions struct {
	g   *globals
	out formatFlags
}

// newSandboxJobsCommand lists what the built-in sandbox (endpoint =
// "sandbox") was sent from this working directory, as GET /_sandbox/jobs
// does for sandbox serve: the way to see what "the platform" holds without
// trusting postform's own state.
func newSandboxJobsCommand(g *globals) *cobra.Command {
	opts := &sandboxJobsOptions{g: g}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the jobs the built-in sandbox of this working directory received",
		Long: `jobs lists every job posted to the built-in sandbox (endpoint = "sandbox")
from this working directory, oldest first, with its status now: the
platform's side, to compare with 'postform status'. For 'sandbox serve',
GET /_sandbox/jobs gives the same list.`,
		Example: `  postform sandbox jobs
  postform sandbox jobs --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSandboxJobs(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print the list as GET /_sandbox/jobs does")
	return cmd
}

// runSandboxJobs lists the jobs of the working directory's sandbox world
// in the view opts.out chooses.
func runSandboxJobs(_ context.Context, opts *sandboxJobsOptions) error {
	g := opts.g
	format, err := opts.out.format()
	if err != nil {
		return err
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, layout.Sandbox)); os.IsNotExist(err) {
		if format == formatJSON {
			fmt.Fprintln(g.stdout, "[]")
			return nil
		}
		fmt.Fprintln(g.stdout, `The built-in sandbox has no job: nothing was posted from this folder with endpoint = "sandbox".`)
		return nil
	}
	sb, err := openSandbox(dir)
	if err != nil {
		return err
	}
	jobs := sb.Jobs()
	if err := sb.Close(); err != nil {
		return fmt.Errorf("closing the sandbox: %w", err)
	}
	if format == formatJSON {
		return writeJSON(g.stdout, jobs)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(g.stdout, "The built-in sandbox has no job.")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB ID\tJOB NAME\tSERVICE\tSTATUS\tCREATED")
	e := termtext.Escape
	for _, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e(j.JobID), e(j.JobName), e(j.ServiceID), e(j.Status), j.Created.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return tw.Flush()
}
