package cli

import (
	"bytes"
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

func newFmtCommand(g *globals) *cobra.Command {
	var check, showDiff, recursive bool
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
			if len(args) == 0 {
				args = []string{"."}
			}
			files, err := fmtTargets(args, recursive)
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
				if showDiff {
					g.stdout.Write(diff.Diff(f, src, f+" (formatted)", out))
				}
				// Only a plain fmt rewrites: --diff previews, as
				// terraform fmt -diff -check does.
				if !check && !showDiff {
					if err := writeFileKeepMode(f, out); err != nil {
						return err
					}
				}
			}
			if diags > 0 {
				return silent(ExitError)
			}
			if check && changed > 0 {
				return silent(ExitFmtDiff)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "change nothing; exit 3 when a file is not formatted")
	cmd.Flags().BoolVar(&showDiff, "diff", false, "show what would change as a unified diff, and change nothing")
	cmd.Flags().BoolVar(&recursive, "recursive", false, "also format files in subdirectories")
	return cmd
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
