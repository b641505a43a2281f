package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// outputOptions are the arguments of postform output.
type outputOptions struct {
	g    *globals
	load loadFlags
	out  formatFlags
	// name is the one output asked for, when named is set.
	name  string
	named bool
}

func newOutputCommand(g *globals) *cobra.Command {
	opts := &outputOptions{g: g}
	cmd := &cobra.Command{
		Use:   "output [NAME]",
		Short: "Show the outputs, evaluated against the state",
		Example: `  postform output
  postform output tracking
  postform output --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.name, opts.named = args[0], true
			}
			return runOutput(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print as JSON")
	return cmd
}

// runOutput evaluates the outputs against the state and prints them, or
// the one opts.name, in the view opts.out chooses.
func runOutput(ctx context.Context, opts *outputOptions) error {
	g := opts.g
	format, err := opts.out.format()
	if err != nil {
		return err
	}
	return g.withReadOnlySession(ctx, opts.load, func(sess *session) error {
		st := sess.engine.State
		values, diags := sess.cfg.EvalOutputs(func(addr string) (cty.Value, bool) {
			m, ok := st.Mailings[addr]
			if !ok {
				return cty.NilVal, false
			}
			return mailingValue(m), true
		})
		if len(diags) > 0 {
			g.writeDiagnostics(sess.cfg, diags)
			if diags.HasErrors() {
				return silent(ExitError)
			}
		}
		sensitive := map[string]bool{}
		for _, o := range sess.cfg.Outputs {
			sensitive[o.Name] = o.Sensitive
		}
		names := sortedKeys(values)
		if opts.named {
			v, ok := values[opts.name]
			if !ok && len(names) == 0 {
				return fmt.Errorf("no output named %q: the configuration declares no output (%s)", opts.name, declareOutput)
			}
			if !ok {
				return fmt.Errorf("no output named %q (outputs: %s)", opts.name, strings.Join(names, ", "))
			}
			// Asking for one output by name prints it even if sensitive,
			// as Terraform does: the user asked for that value.
			if format == formatJSON {
				return writeCtyJSON(g, v)
			}
			fmt.Fprintln(g.stdout, formatValue(v))
			return nil
		}
		if format == formatJSON {
			doc := map[string]json.RawMessage{}
			for _, n := range names {
				b, err := ctyjson.Marshal(values[n], values[n].Type())
				if err != nil {
					return err
				}
				doc[n] = json.RawMessage(fmt.Sprintf(`{"sensitive":%t,"value":%s}`, sensitive[n], redactJSON(b, sensitive[n])))
			}
			return writeJSON(g.stdout, doc)
		}
		if len(names) == 0 {
			fmt.Fprintf(g.stdout, "No outputs: the configuration declares none (%s).\n", declareOutput)
			return nil
		}
		for _, n := range names {
			if sensitive[n] {
				fmt.Fprintf(g.stdout, "%s = (sensitive value)\n", n)
				continue
			}
			fmt.Fprintf(g.stdout, "%s = %s\n", n, formatValue(values[n]))
		}
		return nil
	})
}

// declareOutput shows how to declare an output, for the messages that
// find none.
const declareOutput = `declare one in a *.mail.hcl file, e.g. output "tracking" { value = mailing.notice.tracking_numbers }`

func redactJSON(b []byte, sensitive bool) []byte {
	if sensitive {
		return []byte("null")
	}
	return b
}

func writeCtyJSON(g *globals, v cty.Value) error {
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, string(b))
	return nil
}

// formatValue renders a value compactly as JSON, which reads well for the
// lists and maps outputs usually hold.
func formatValue(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	if v.Type() == cty.String && v.IsKnown() {
		return fmt.Sprintf("%q", v.AsString())
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	// JSON leaves DEL and the C1 controls raw; the values hold what the
	// platform said (job_status, tracking_numbers).
	var pretty any
	if json.Unmarshal(b, &pretty) == nil {
		if out, err := json.MarshalIndent(pretty, "", "  "); err == nil {
			return escapeLines(string(out))
		}
	}
	return termtext.Escape(string(b))
}

// mailingValue is a mailing's state-backed attributes as outputs see them.
func mailingValue(m *state.Mailing) cty.Value {
	str := func(s string) cty.Value {
		if s == "" {
			return cty.NullVal(cty.String)
		}
		return cty.StringVal(s)
	}
	tracking := cty.ListValEmpty(cty.String)
	if tn := m.TrackingNumbers(); len(tn) > 0 {
		vals := make([]cty.Value, len(tn))
		for i, t := range tn {
			vals[i] = cty.StringVal(t)
		}
		tracking = cty.ListVal(vals)
	}
	proofs := cty.MapValEmpty(cty.String)
	if len(m.Proofs) > 0 {
		pm := map[string]cty.Value{}
		for _, p := range m.Proofs {
			pm[p.Name] = cty.StringVal(p.Path)
		}
		proofs = cty.MapVal(pm)
	}
	submitted := ""
	if !m.SubmittedAt.IsZero() {
		submitted = m.SubmittedAt.Format("2006-01-02T15:04:05Z07:00")
	}
	return cty.ObjectVal(map[string]cty.Value{
		"job_id":           str(m.JobID),
		"status":           cty.StringVal(string(reconcile.StageOf(m))),
		"job_status":       str(m.JobStatus),
		"submitted_at":     str(submitted),
		"tracking_numbers": tracking,
		"proofs":           proofs,
	})
}
