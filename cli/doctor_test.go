package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/pdf"
)

const doctorPassword = "doctor-Secret-pw"

// doctorPlatform is the sandbox over real HTTP, counting every request by
// method and path, optionally answering 404 to the job lookup by name
// (with a hostile message).
type doctorPlatform struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
	mu  sync.Mutex
	n   map[string]int
}

func newDoctorPlatform(t *testing.T, faults sandbox.Faults, lookup404 bool) *doctorPlatform {
	t.Helper()
	sb, err := sandbox.Open(sandbox.Options{TimeScale: 2000, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	d := &doctorPlatform{sb: sb, n: map[string]int{}}
	h := sb.Handler()
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.n[r.Method+" "+r.URL.Path]++
		d.mu.Unlock()
		if lookup404 && r.Method == "GET" && r.URL.Path == "/jobs" && r.URL.Query().Has("jobName") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			// A hostile message: terminal escapes, a forged line, the password.
			json.NewEncoder(w).Encode(map[string]string{"code": "NOT_FOUND", "message": "no such route" + hostile + " pw=" + doctorPassword})
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *doctorPlatform) count(route string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[route]
}

func (d *doctorPlatform) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n = map[string]int{}
}

// postOne creates a job directly, before doctor runs, for --job.
func (d *doctorPlatform) postOne(t *testing.T) string {
	t.Helper()
	c, err := nirva.New(nirva.Config{Endpoint: d.srv.URL, Login: "demo@example.com", Password: doctorPassword})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := c.Authenticate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := p.FindService("Lettre simple")
	box, _ := svc.FindBox("")
	pdf, err := pdf.MakePDF("ACME SAS", "12 rue de la Paix", "75002 PARIS")
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.CreateJob(ctx, nirva.JobRequest{JobName: "doctor-probe", ServiceID: svc.ID, Files: []nirva.FilePart{{BoxID: box.ID, FileName: "a.pdf",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(pdf)), nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	c.Logout(ctx)
	return j.ID
}

func doctorDir(t *testing.T, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	cfg := `
provider "nirva" {
  endpoint = "` + endpoint + `"
  login    = "demo@example.com"
  password = "` + doctorPassword + `"
}
mailing "a" {
  service = "Lettre simple"
  options = { printMode = "2SIDE" }
  document {
    file = "a.pdf"
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.mail.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.pdf"), []byte("%PDF-1.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func doctorResults(t *testing.T, stdout string) map[string]doctorCheck {
	t.Helper()
	var rep doctorReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, stdout)
	}
	out := map[string]doctorCheck{}
	for _, c := range rep.Checks {
		out[c.Name] = c
	}
	return out
}

// TestDoctor runs doctor against the sandbox with each fault it can
// simulate: it never posts, logs out every session it opened exactly once,
// and reports the job lookup as the platform really behaves.
func TestDoctor(t *testing.T) {
	doctorRetryDelay = time.Millisecond
	t.Cleanup(func() { doctorRetryDelay = 0 })
	for _, tc := range []struct {
		name      string
		faults    sandbox.Faults
		lookup404 bool
		withJob   bool
		code      int
		want      map[string]string // check name → result
		sessions  int
	}{
		{name: "lookup supported", withJob: true, code: 0, sessions: 2,
			want: map[string]string{"job lookup by name": checkOK, "service \"Lettre simple\"": checkOK, "option printMode=2SIDE": checkOK, "unknown job": checkOK, "job status": checkOK, "logout": checkOK}},
		{name: "lookup answers 405", faults: sandbox.Faults{NoJobLookup: true}, code: 1, sessions: 2,
			want: map[string]string{"job lookup by name": checkFailed, "job status": checkUnknown, "logout": checkOK}},
		{name: "lookup answers 404", lookup404: true, code: 1, sessions: 2,
			want: map[string]string{"job lookup by name": checkFailed, "logout": checkOK}},
		{name: "some 5xx, retried", faults: sandbox.Faults{FailRate: 0.3, Seed: 7}, code: 0, sessions: 2,
			want: map[string]string{"job lookup by name": checkOK, "logout": checkOK}},
		{name: "every answer 5xx", faults: sandbox.Faults{FailRate: 1}, code: 1, sessions: 0,
			want: map[string]string{"authenticate without profile detail": checkFailed}},
		{name: "hostile text and echoed secrets", faults: sandbox.Faults{Hostile: sandbox.Hostile{ControlText: true, EchoSecrets: true}}, withJob: true, code: 0, sessions: 2,
			want: map[string]string{"job lookup by name": checkOK}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			faults := tc.faults
			hostile := faults.Hostile
			faults.Hostile = sandbox.Hostile{}
			p := newDoctorPlatform(t, sandbox.Faults{}, tc.lookup404)
			args := []string{"doctor", "--json"}
			if tc.withJob {
				args = append(args, "--job="+p.postOne(t))
			}
			faults.Hostile = hostile
			p.sb.SetFaults(faults)
			p.reset()
			doctorDir(t, p.srv.URL)
			stdout, stderr, code := runCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			got := doctorResults(t, stdout)
			for name, want := range tc.want {
				if got[name].Result != want {
					t.Errorf("%s: %s (%s), want %s", name, got[name].Result, got[name].Saw, want)
				}
			}
			if n := p.count("POST /jobs"); n != 0 {
				t.Errorf("doctor posted %d job(s)", n)
			}
			for route, n := range p.n {
				if strings.HasPrefix(route, "POST ") && route != "POST /authentication/authenticate" && route != "POST /authentication/logout" {
					t.Errorf("doctor sent %s %d time(s): it only reads", route, n)
				}
			}
			if n := p.count("POST /authentication/logout"); n != tc.sessions {
				t.Errorf("%d logout(s), want %d: one per session opened", n, tc.sessions)
			}
			if strings.Contains(stdout+stderr, doctorPassword) {
				t.Errorf("the password reached the output:\n%s", stdout)
			}
			if strings.Contains(tc.name, "lookup answers") && !strings.Contains(got["job lookup by name"].Consequence, "postform import") {
				t.Errorf("the consequence of no lookup: %q", got["job lookup by name"].Consequence)
			}
		})
	}
}

// TestDoctorHumanViewEscapes: platform text in the human report is shown
// escaped, never as raw control characters.
func TestDoctorHumanViewEscapes(t *testing.T) {
	p := newDoctorPlatform(t, sandbox.Faults{Hostile: sandbox.Hostile{ControlText: true, EchoSecrets: true}}, true)
	doctorDir(t, p.srv.URL)
	stdout, stderr, _ := runCLI(t, "doctor", "--job=987654321")
	if r, ok := rawControl(stdout + stderr); ok {
		t.Errorf("raw %U in the report:\n%q", r, stdout)
	}
	if !strings.Contains(stdout, `no such route\x1b]0;pwned\x07\x1b[2J`) {
		t.Errorf("the platform's message is not shown escaped:\n%s", stdout)
	}
	if !strings.Contains(stdout, "✘ job status") || !strings.Contains(stdout, "→ ") {
		t.Errorf("an unknown --job is a ✘ with its consequence:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, doctorPassword) {
		t.Errorf("the password reached the output:\n%s", stdout)
	}
}
