package cli

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/safefs"
)

// fmtOptions are the arguments of postform fmt.
type fmtOptions struct {
	g         *globals
	check     bool
	diff      bool
	recursive bool
	// paths are the files and folders to format ("." when none is given).
	paths []string
}

func newFmtCommand(g *globals) *cobra.Command {
	opts := &fmtOptions{g: g}
	cmd := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Rewrite *.mail.hcl and *.vars.hcl files in the canonical layout",
		Long: `fmt rewrites configuration files in the canonical layout (hclwrite's)
and lists the files it changed. With --check or --diff it changes nothing:
--check exits 3 when a file would change, for CI; --diff shows the changes.`,
		Example: `  postform fmt
  postform fmt --recursive
  postform fmt --check --diff     # in CI: show what is off, exit 3, write nothing`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.paths = args
			return runFmt(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.check, "check", false, "change nothing; exit 3 when a file is not formatted")
	cmd.Flags().BoolVar(&opts.diff, "diff", false, "show what would change as a unified diff, and change nothing")
	cmd.Flags().BoolVar(&opts.recursive, "recursive", false, "also format files in subdirectories")
	return cmd
}

// runFmt rewrites the configuration files under opts.paths in the
// canonical layout, or with --check/--diff only says what would change.
func runFmt(_ context.Context, opts *fmtOptions) error {
	g := opts.g
	paths := opts.paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := fmtTargets(paths, opts.recursive)
	if err != nil {
		return err
	}
	changed := 0
	var diags int
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		out, d := config.Format(src, f)
		if d.HasErrors() {
			(*config.Config)(nil).WriteDiagnostics(g.stderr, d, false)
			diags++
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		changed++
		fmt.Fprintln(g.stdout, f)
		if opts.diff {
			g.stdout.Write(diff.Diff(f, src, f+" (formatted)", out))
		}
		// Only a plain fmt rewrites: --diff previews, as
		// terraform fmt -diff -check does.
		if !opts.check && !opts.diff {
			if err := writeFileKeepMode(f, out); err != nil {
				return err
			}
		}
	}
	if diags > 0 {
		return silent(ExitError)
	}
	if opts.check && changed > 0 {
		return silent(ExitFmtDiff)
	}
	return nil
}

func isConfigFile(name string) bool {
	return strings.HasSuffix(name, ".mail.hcl") || strings.HasSuffix(name, ".vars.hcl")
}

// fmtTargets lists the files to format: named files as given, and the
// configuration files in named directories.
func fmtTargets(paths []string, recursive bool) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && (!recursive || strings.HasPrefix(d.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if isConfigFile(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

func writeFileKeepMode(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return safefs.WriteFileAt(path, data, fi.Mode().Perm())
}
