package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/nirva"
)

// doctor is a read-only probe of the configured platform: it checks, one by
// one, the assumptions docs/nirva-api.md marks [inferred], and says what
// each answer means for the user. It never posts and never edits: every
// call is an authentication, a GET or a logout.

// Results of a doctor check.
const (
	checkOK      = "ok"      // ✔ the platform answered as the contract assumes
	checkFailed  = "failed"  // ✘ it did not: the consequence says what changes
	checkUnknown = "unknown" // ? not checked, or the answer proves nothing
)

// doctorCheck is one assumption and what the platform showed of it: shapes
// and counts only, never a secret, a token or personal data.
type doctorCheck struct {
	Name        string `json:"name"`
	Assumption  string `json:"assumption"`
	Result      string `json:"result"`
	Saw         string `json:"saw"`
	Consequence string `json:"consequence,omitempty"`
}

// doctorReport is doctor --json (format_version 1).
type doctorReport struct {
	FormatVersion int           `json:"format_version"`
	Endpoint      string        `json:"endpoint"`
	Checks        []doctorCheck `json:"checks"`
	Summary       struct {
		OK      int `json:"ok"`
		Failed  int `json:"failed"`
		Unknown int `json:"unknown"`
	} `json:"summary"`
}

func (r *doctorReport) add(c doctorCheck) {
	r.Checks = append(r.Checks, c)
	switch c.Result {
	case checkOK:
		r.Summary.OK++
	case checkFailed:
		r.Summary.Failed++
	default:
		r.Summary.Unknown++
	}
}

// doctorRetryDelay, when set, replaces the client's first retry delay
// (tests of a failing platform; 0 keeps the client's default).
var doctorRetryDelay time.Duration

// doctorOptions are the arguments of postform doctor.
type doctorOptions struct {
	g    *globals
	load loadFlags
	out  formatFlags
	// jobID is a job of the account to read and check too ("": none).
	jobID string
}

func newDoctorCommand(g *globals) *cobra.Command {
	opts := &doctorOptions{g: g}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check, without posting anything, that the platform answers as postform assumes",
		Long: `doctor probes the configured platform read-only: it authenticates (with and
without profile detail), resolves every configured service and its MAIN box, reads
the option types and values, asks for the jobs of a name that cannot exist (is a
job found by name? it decides whether an interrupted post recovers by itself),
reads the job given with --job, and logs out. It never posts a letter.

For each assumption docs/nirva-api.md marks inferred it prints ✔ (the platform
answered as assumed), ✘ (it did not, and what that changes) or ? (not checked),
with the shape of what it saw; secrets and personal data are left out. It exits
1 when a check fails. Run it first on a real account.`,
		Example: "  postform doctor\n  postform doctor --job=88412 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd.Context(), opts)
		},
	}
	opts.load.register(cmd)
	cmd.Flags().BoolVar(&opts.out.json, "json", false, "print the report as one JSON document")
	cmd.Flags().StringVar(&opts.jobID, "job", "", "also read the job `ID` (one of this account's) and check its shape")
	return cmd
}

// runDoctor probes the configured platform read-only and prints the report
// in the view opts.out chooses; a failed check is exit 1.
func runDoctor(ctx context.Context, opts *doctorOptions) error {
	g := opts.g
	format, err := opts.out.format()
	if err != nil {
		return err
	}
	cfg, err := g.loadConfig(opts.load, true)
	if err != nil {
		return err
	}
	rep, err := doctorChecks(ctx, g, cfg, opts.jobID)
	if err != nil {
		return err
	}
	if format == formatJSON {
		if err := writeJSON(g.stdout, rep); err != nil {
			return err
		}
	} else {
		writeDoctor(g.stdout, rep)
	}
	if rep.Summary.Failed > 0 {
		return silent(ExitError)
	}
	return nil
}

// doctorClient builds a client for the provider block as session.connect
// does, without a state or a lock: doctor reads nothing of them.
func doctorClient(g *globals, cfg *config.Config) (*nirva.Client, func(), error) {
	p := cfg.Provider
	nc := nirva.Config{Endpoint: p.Endpoint, Login: p.Login, Password: p.Password, MaxRequestsPerSecond: p.MaxRequestsPerSecond,
		MaxProofSize: p.MaxProofSize, Insecure: p.Insecure, IdleTimeout: p.IdleTimeout, RequestTimeout: p.RequestTimeout,
		RetryBaseDelay: doctorRetryDelay}
	if g.debug {
		nc.Debug = g.stderr
	}
	done := func() {}
	if p.Endpoint == "sandbox" {
		sb, err := openSandbox(cfg.Dir)
		if err != nil {
			return nil, nil, err
		}
		done = func() {
			if err := sb.Close(); err != nil {
				fmt.Fprintf(g.stderr, "Warning: saving the sandbox world: %v\n", err)
			}
		}
		nc.Endpoint, nc.HTTPClient = "http://sandbox.invalid", sb.HTTPClient()
		if nc.Login == "" && nc.Password == "" {
			nc.Login, nc.Password = "sandbox", "sandbox"
		}
	}
	if nc.Login == "" || nc.Password == "" {
		done()
		return nil, nil, errors.New("no credentials for the nirva provider: set login and password in the provider block (from variables), or POSTFORM_LOGIN and POSTFORM_PASSWORD")
	}
	c, err := nirva.New(nc)
	if err != nil {
		done()
		return nil, nil, err
	}
	return c, done, nil
}

// doctorChecks runs every check in order. Each session it opens is logged out
// once, on every path.
func doctorChecks(ctx context.Context, g *globals, cfg *config.Config, jobID string) (*doctorReport, error) {
	c, done, err := doctorClient(g, cfg)
	if err != nil {
		return nil, err
	}
	defer done()
	rep := &doctorReport{FormatVersion: 1, Endpoint: safeEndpoint(cfg.Provider.Endpoint)}
	logout := func(name string) {
		lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Logout(lctx); err != nil {
			rep.add(doctorCheck{Name: name, Assumption: "POST /authentication/logout ends the session (method inferred)", Result: checkFailed,
				Saw: errText(err), Consequence: "postform cannot end its sessions: they stay open until the platform expires them"})
			return
		}
		rep.add(doctorCheck{Name: name, Assumption: "POST /authentication/logout ends the session (method inferred)", Result: checkOK, Saw: "the session was closed"})
	}

	// Tracking alone needs no profile detail [doc]; the shape is inferred.
	const authAssumption = `POST /authentication/authenticate takes {"login", "password", "withProfileDetail"} and answers a token (names and shape inferred)`
	if _, err := c.Authenticate(ctx, false); err != nil {
		rep.add(doctorCheck{Name: "authenticate without profile detail", Assumption: authAssumption, Result: checkFailed, Saw: errText(err),
			Consequence: "postform cannot open a session: check the endpoint, the login and the password; nothing else can be checked"})
		return rep, nil
	}
	rep.add(doctorCheck{Name: "authenticate without profile detail", Assumption: authAssumption, Result: checkOK, Saw: "a token"})
	logout("logout (session without profile detail)")

	p, err := c.Authenticate(ctx, true)
	if err != nil {
		rep.add(doctorCheck{Name: "authenticate with profile detail", Assumption: authAssumption, Result: checkFailed, Saw: errText(err),
			Consequence: "postform cannot post: creating a job needs the services of the profile"})
		return rep, nil
	}
	defer logout("logout")
	checkProfile(rep, p)
	checkServices(rep, cfg, p)
	checkOptions(ctx, rep, c, cfg)
	checkLookup(ctx, rep, c)
	checkUnknownJob(ctx, rep, c)
	checkJob(ctx, rep, c, jobID)
	rep.add(doctorCheck{Name: "indexing delay", Assumption: "a job created is listed by name within 2 minutes (inferred)", Result: checkUnknown,
		Saw:         "not measured: it would take posting a letter",
		Consequence: "if the platform is slower, raise POSTFORM_INDEXING_DELAY so that an interrupted post is never taken for not posted"})
	return rep, nil
}

func checkProfile(rep *doctorReport, p *nirva.Profile) {
	const a = `the profile lists "services", each with "serviceId", "name", "channels" and "boxes" of {"boxId", "name", "type"} (shape inferred)`
	if len(p.Services) == 0 {
		rep.add(doctorCheck{Name: "profile services", Assumption: a, Result: checkFailed, Saw: "no service in the answer",
			Consequence: "no letter can be posted: the account offers no service, or the platform spells the services otherwise (nirva/wire.go)"})
		return
	}
	var noID, noBoxes, main int
	for _, s := range p.Services {
		if s.ID == "" {
			noID++
		}
		if len(s.Boxes) == 0 {
			noBoxes++
		}
		for _, b := range s.Boxes {
			if b.Type == "MAIN" {
				main++
			}
		}
	}
	saw := fmt.Sprintf("%d service(s), %d MAIN box(es)", len(p.Services), main)
	if noID+noBoxes > 0 {
		rep.add(doctorCheck{Name: "profile services", Assumption: a, Result: checkFailed,
			Saw:         saw + fmt.Sprintf(", %d without an id, %d without boxes", noID, noBoxes),
			Consequence: "letters of those services cannot be posted: the platform spells the service fields otherwise (nirva/wire.go)"})
		return
	}
	rep.add(doctorCheck{Name: "profile services", Assumption: a, Result: checkOK, Saw: saw + ", each with an id and boxes"})
}

func checkServices(rep *doctorReport, cfg *config.Config, p *nirva.Profile) {
	boxes := map[string]map[string]bool{}
	for _, m := range cfg.Mailings {
		if boxes[m.Service] == nil {
			boxes[m.Service] = map[string]bool{}
		}
		for _, d := range m.Documents {
			boxes[m.Service][d.Box] = true
		}
	}
	names := make([]string, 0, len(boxes))
	for n := range boxes {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		rep.add(doctorCheck{Name: "configured services", Assumption: "every configured service is in the profile, with a MAIN box", Result: checkUnknown,
			Saw: "the configuration has no mailing"})
	}
	for _, n := range names {
		name := fmt.Sprintf("service %q", n)
		const a = "the service is in the profile, with a MAIN box for the letter's PDF"
		s, ok := p.FindService(n)
		if !ok {
			rep.add(doctorCheck{Name: name, Assumption: a, Result: checkFailed, Saw: fmt.Sprintf("not in the profile (%d service(s) offered)", len(p.Services)),
				Consequence: "its letters cannot be posted (PF202): use a service name `postform plan` lists as available"})
			continue
		}
		var missing []string
		for _, box := range sortedKeys(boxes[n]) {
			if _, ok := s.FindBox(box); !ok {
				if box == "" {
					box = "MAIN"
				}
				missing = append(missing, box)
			}
		}
		if len(missing) > 0 {
			rep.add(doctorCheck{Name: name, Assumption: a, Result: checkFailed, Saw: fmt.Sprintf("found, with %d box(es), none for %s", len(s.Boxes), strings.Join(missing, ", ")),
				Consequence: "its letters cannot be uploaded: a document goes into a box of its service"})
			continue
		}
		rep.add(doctorCheck{Name: name, Assumption: a, Result: checkOK, Saw: fmt.Sprintf("found, with %d box(es), the documents' boxes among them", len(s.Boxes))})
	}
}

func checkOptions(ctx context.Context, rep *doctorReport, c *nirva.Client, cfg *config.Config) {
	const a = `GET /options/type answers [{"id", "name"}] and GET /options [{"id", "optionTypeId", "value"}] (shapes inferred)`
	types, err := c.OptionTypes(ctx)
	if err != nil {
		rep.add(doctorCheck{Name: "option types", Assumption: a, Result: checkFailed, Saw: errText(err),
			Consequence: "letters with options cannot be posted: their ids cannot be resolved"})
		return
	}
	values, err := c.Options(ctx)
	if err != nil {
		rep.add(doctorCheck{Name: "option values", Assumption: a, Result: checkFailed, Saw: errText(err),
			Consequence: "letters with options cannot be posted: their ids cannot be resolved"})
		return
	}
	orphans := 0
	known := map[string]bool{}
	for _, t := range types {
		known[t.ID] = true
	}
	for _, v := range values {
		if !known[v.OptionTypeID] {
			orphans++
		}
	}
	saw := fmt.Sprintf("%d option type(s), %d value(s)", len(types), len(values))
	if orphans > 0 || len(types) == 0 {
		rep.add(doctorCheck{Name: "options", Assumption: a, Result: checkFailed, Saw: saw + fmt.Sprintf(", %d value(s) of no listed type", orphans),
			Consequence: "options may not resolve: the platform spells the option fields otherwise (nirva/wire.go)"})
	} else {
		rep.add(doctorCheck{Name: "options", Assumption: a, Result: checkOK, Saw: saw + ", each value of a listed type"})
	}
	// Every option the configuration writes, resolved as posting would.
	seen := map[string]bool{}
	for _, m := range cfg.Mailings {
		for k, v := range m.Options {
			kv := k + "=" + v
			if seen[kv] {
				continue
			}
			seen[kv] = true
			if _, err := c.ResolveOptions(ctx, map[string]string{k: v}); err != nil {
				rep.add(doctorCheck{Name: "option " + kv, Assumption: "the platform offers every option the configuration writes", Result: checkFailed, Saw: errText(err),
					Consequence: "letters with it cannot be posted (PF207)"})
				continue
			}
			rep.add(doctorCheck{Name: "option " + kv, Assumption: "the platform offers every option the configuration writes", Result: checkOK, Saw: "resolved to ids"})
		}
	}
}

// randomJobName is a name no job can have: postform's own names come from
// the configuration, and this one is 128 random bits.
func randomJobName() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "postform-doctor-" + hex.EncodeToString(b)
}

// randomJobID is a numeric id (as the platform's are) of 18 random
// digits, which no job of the account has.
func randomJobID() string {
	b := make([]byte, 18)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	b[0] = '9'
	return string(b)
}

func checkLookup(ctx context.Context, rep *doctorReport, c *nirva.Client) {
	const a = "GET /jobs?jobName=NAME lists the jobs of exactly that name (inferred: not in the public guide)"
	jobs, err := c.JobsByName(ctx, randomJobName())
	switch {
	case errors.Is(err, nirva.ErrLookupUnavailable):
		rep.add(doctorCheck{Name: "job lookup by name", Assumption: a, Result: checkFailed, Saw: errText(err),
			Consequence: "an interrupted post does not recover by itself: the letter stays pending until you run `postform import ADDRESS JOB_ID` (it was posted) or `postform state resolve ADDRESS --not-posted` (it was not); postform never posts it again on its own"})
	case err != nil:
		rep.add(doctorCheck{Name: "job lookup by name", Assumption: a, Result: checkUnknown, Saw: errText(err),
			Consequence: "not known whether an interrupted post recovers by itself: run doctor again"})
	case len(jobs) > 0:
		rep.add(doctorCheck{Name: "job lookup by name", Assumption: a, Result: checkFailed, Saw: fmt.Sprintf("%d job(s) for a name no job has", len(jobs)),
			Consequence: "the lookup cannot be trusted: an interrupted post needs `postform import` or `postform state resolve`"})
	default:
		rep.add(doctorCheck{Name: "job lookup by name", Assumption: a, Result: checkOK, Saw: "an empty list for a name no job has",
			Consequence: "an interrupted post is found by its job name and recovers by itself"})
	}
}

func checkUnknownJob(ctx context.Context, rep *doctorReport, c *nirva.Client) {
	const a = `an error is a non-2xx answer with {"code", "message"}; an unknown job is 404 (inferred)`
	_, err := c.Job(ctx, randomJobID())
	var ae *nirva.APIError
	switch {
	case err == nil:
		rep.add(doctorCheck{Name: "unknown job", Assumption: a, Result: checkFailed, Saw: "a job for an id no job has",
			Consequence: "job answers cannot be trusted to name the job asked for"})
	case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
		var fields []string
		if ae.Code != "" {
			fields = append(fields, "code")
		}
		if ae.Message != "" {
			fields = append(fields, "message")
		}
		if len(fields) < 2 {
			rep.add(doctorCheck{Name: "unknown job", Assumption: a, Result: checkFailed, Saw: fmt.Sprintf("404, with an error body holding %s", orNone(fields)),
				Consequence: "postform's errors will quote less of the platform's reasons (nirva/wire.go spells the error fields)"})
			return
		}
		rep.add(doctorCheck{Name: "unknown job", Assumption: a, Result: checkOK, Saw: "404, with an error body holding code and message"})
	default:
		rep.add(doctorCheck{Name: "unknown job", Assumption: a, Result: checkUnknown, Saw: errText(err)})
	}
}

func orNone(v []string) string {
	if len(v) == 0 {
		return "neither code nor message"
	}
	return strings.Join(v, " and ")
}

func checkJob(ctx context.Context, rep *doctorReport, c *nirva.Client, id string) {
	const a = `GET /jobs/{id} answers {"jobId", "jobName", "serviceId", "status", "creationDate", "documentCount", "packGroupCountPerStates"} (status values partly inferred)`
	if id == "" {
		rep.add(doctorCheck{Name: "job status", Assumption: a, Result: checkUnknown, Saw: "not checked: no --job given",
			Consequence: "give --job=ID with a job of this account to check the fields postform tracks letters by"})
		return
	}
	j, err := c.Job(ctx, id)
	if err != nil {
		rep.add(doctorCheck{Name: "job status", Assumption: a, Result: checkFailed, Saw: errText(err),
			Consequence: "postform cannot follow its letters: check that the job id is one of this account"})
		return
	}
	var have, missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"jobId", j.ID != ""}, {"jobName", j.Name != ""}, {"serviceId", j.ServiceID != ""}, {"status", j.Status != ""},
		{"creationDate", !j.Created.IsZero()}, {"documentCount", j.DocumentCount > 0}, {"packGroupCountPerStates", len(j.PackGroupCountPerStates) > 0}} {
		if f.ok {
			have = append(have, f.name)
		} else {
			missing = append(missing, f.name)
		}
	}
	saw := "fields " + strings.Join(have, ", ")
	if len(missing) > 0 {
		saw += "; missing " + strings.Join(missing, ", ")
	}
	switch {
	case j.ID != id || j.Status == "" || j.Name == "":
		rep.add(doctorCheck{Name: "job status", Assumption: a, Result: checkFailed, Saw: saw,
			Consequence: "postform cannot tell a letter's progress: the platform spells the job fields otherwise (nirva/wire.go)"})
	case !nirva.KnownJobStatus(j.Status):
		rep.add(doctorCheck{Name: "job status", Assumption: a, Result: checkUnknown, Saw: saw + fmt.Sprintf("; status %q is not one the contract lists", j.Status),
			Consequence: "postform keeps the status verbatim and reports it; a letter in it is followed, not judged"})
	default:
		rep.add(doctorCheck{Name: "job status", Assumption: a, Result: checkOK, Saw: saw + fmt.Sprintf("; status %s is one the contract lists", j.Status)})
	}
}

// errText is an error on one line, for a report: the client has already
// redacted the credentials from it; writeDoctor escapes it.
func errText(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// writeDoctor prints the report for a person, every line escaped: the
// platform's answers reach it through the error texts.
func writeDoctor(w io.Writer, rep *doctorReport) {
	fmt.Fprintf(w, "postform doctor: %s (read-only: nothing is posted)\n\n", termtext.Escape(rep.Endpoint))
	for _, c := range rep.Checks {
		mark := map[string]string{checkOK: "✔", checkFailed: "✘"}[c.Result]
		if mark == "" {
			mark = "?"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, termtext.Escape(c.Name), termtext.Escape(c.Saw))
		fmt.Fprintf(w, "      assumed: %s\n", termtext.Escape(c.Assumption))
		if c.Consequence != "" {
			fmt.Fprintf(w, "      → %s\n", termtext.Escape(c.Consequence))
		}
	}
	s := rep.Summary
	fmt.Fprintf(w, "\n%d ✔, %d ✘, %d ?", s.OK, s.Failed, s.Unknown)
	if s.Failed > 0 {
		fmt.Fprint(w, ": the platform differs from what postform assumes; read each ✘ before posting")
	}
	fmt.Fprintln(w, ".")
}
