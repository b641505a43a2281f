package config_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

const postedLetterHCL = `
provider "nirva" {
  endpoint = %q
  login    = "demo@example.com"
  password = "demo"
}
mailing "notice" {
  service  = "Lettre simple"
  job_name = "notice-1"
  letter {
    from    = ["Exemple SAS", "10 rue de Rivoli", "75004 Paris"]
    to      = { name = "Mme Hélène Dupré", lines = ["12 rue de la Paix"], postcode = "75002", city = "Paris" }
    date    = "2026-12-01"
    subject = "Relance"
    body    = %q
  }
}
`

// postedLetter is a rendered letter posted once through the real client
// to the sandbox over HTTP, with a local state.
type postedLetter struct {
	t       *testing.T
	dir     string
	url     string
	sb      *sandbox.Sandbox
	backend state.Backend
}

func newPostedLetter(t *testing.T) *postedLetter {
	t.Helper()
	sb, err := sandbox.Open(sandbox.Options{TimeScale: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	w := &postedLetter{t: t, dir: t.TempDir(), url: srv.URL, sb: sb}
	w.write("Bonjour,\n\nVotre facture reste *impayée*.\n")
	b, err := state.Open(state.Config{Type: "local", Dir: w.dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	w.backend = b
	ctx := context.Background()
	e := w.engine()
	res := e.Apply(ctx, w.plan(e))
	if res.Posted != 1 || len(res.Errors) > 0 {
		t.Fatalf("first apply: posted %d, %v", res.Posted, res.Err())
	}
	if err := e.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *postedLetter) write(body string) {
	w.t.Helper()
	// %q quotes as HCL reads it: printable Unicode kept, \n escaped.
	src := fmt.Sprintf(postedLetterHCL, w.url, body)
	if err := os.WriteFile(filepath.Join(w.dir, "main.mail.hcl"), []byte(src), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *postedLetter) engine() *reconcile.Engine {
	w.t.Helper()
	ctx := context.Background()
	st, err := w.backend.Load(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := nirva.New(nirva.Config{Endpoint: w.url, Login: "demo@example.com", Password: "demo",
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 10 * time.Millisecond})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := c.Authenticate(ctx, true); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Logout(context.Background()) })
	return &reconcile.Engine{Client: c, Backend: w.backend, State: st, ProofsDir: filepath.Join(w.dir, "proofs"), Parallelism: 2,
		Lookup: &reconcile.LookupPolicy{Tries: 3, Window: 20 * time.Millisecond}}
}

func (w *postedLetter) plan(e *reconcile.Engine) *reconcile.Plan {
	w.t.Helper()
	cfg, diags := config.Load(w.dir, config.LoadOptions{})
	if diags.HasErrors() {
		w.t.Fatal(diags.Error())
	}
	return reconcile.MakePlan(cfg, e.State, reconcile.PlanOptions{})
}

// renderedElsewhere makes the state's record of the letter what an older
// postform, rendering the same inputs into other bytes, would have left:
// another PDF sha256, so another content hash. keepInput false also drops
// the input hash, as a state written before it was kept.
func (w *postedLetter) renderedElsewhere(keepInput bool) {
	w.t.Helper()
	ctx := context.Background()
	st, err := w.backend.Load(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	const addr = "mailing.notice"
	m := st.Mailings[addr]
	if m == nil || m.Phase != state.PhasePosted {
		w.t.Fatalf("state after the apply: %+v", m)
	}
	if m.InputHash == "" {
		w.t.Fatal("the posted letter's record has no input hash")
	}
	m.ContentHash = strings.Repeat("0", 64)
	m.Documents[0].SHA256 = strings.Repeat("1", 64)
	if !keepInput {
		m.InputHash = ""
	}
	if err := w.backend.Record(ctx, st, addr); err != nil {
		w.t.Fatal(err)
	}
}

func blockedCode(p *reconcile.Plan) bool {
	for _, d := range p.Diagnostics {
		if diag.Code(d) == diag.CodeBlockedChange {
			return true
		}
	}
	return false
}

// A letter posted by a postform that rendered its unchanged inputs into
// other bytes is the same letter: nothing to post, nothing blocked.
func TestRenderedLetterSameInputsIsUnchanged(t *testing.T) {
	w := newPostedLetter(t)
	w.renderedElsewhere(true)
	e := w.engine()
	p := w.plan(e)
	if p.HasChanges() || p.Diagnostics.HasErrors() || blockedCode(p) {
		t.Fatalf("plan: %+v, %v", p.Counts(), p.Diagnostics)
	}
	if c := p.Counts(); c.NoOp != 1 {
		t.Fatalf("plan counts %+v, want one unchanged letter", c)
	}
	res := e.Apply(context.Background(), p)
	if res.Posted != 0 || len(res.Errors) > 0 || w.sb.JobCount("notice-1") != 1 {
		t.Fatalf("apply posted %d (jobs named notice-1: %d), %v", res.Posted, w.sb.JobCount("notice-1"), res.Err())
	}
}

// A changed body is a changed letter, input hash or not: PF201.
func TestRenderedLetterChangedBodyIsBlocked(t *testing.T) {
	w := newPostedLetter(t)
	w.renderedElsewhere(true)
	w.write("Bonjour,\n\nVotre facture reste impayée depuis longtemps.\n")
	e := w.engine()
	p := w.plan(e)
	if c := p.Counts(); c.Blocked != 1 || !blockedCode(p) {
		t.Fatalf("plan %+v, %v: want one letter blocked by %s", c, p.Diagnostics, diag.CodeBlockedChange)
	}
}

// A state written before input hashes were kept: the content hash alone
// decides, as before.
func TestRenderedLetterOldStateKeepsContentHash(t *testing.T) {
	w := newPostedLetter(t)
	w.renderedElsewhere(false)
	e := w.engine()
	p := w.plan(e)
	if c := p.Counts(); c.Blocked != 1 || !blockedCode(p) {
		t.Fatalf("plan %+v, %v: want the letter blocked as before", c, p.Diagnostics)
	}
}

// A renamed mailing whose letter an older postform rendered into other
// bytes is still the same letter: refused as a rename (PF206), not posted
// again under its new address.
func TestRenderedLetterRenamedIsNotPostedAgain(t *testing.T) {
	w := newPostedLetter(t)
	w.renderedElsewhere(true)
	src, err := os.ReadFile(filepath.Join(w.dir, "main.mail.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(w.dir, "main.mail.hcl"), []byte(strings.Replace(string(src), `mailing "notice"`, `mailing "relance"`, 1)), 0o644)
	e := w.engine()
	p := w.plan(e)
	moved := false
	for _, d := range p.Diagnostics {
		moved = moved || diag.Code(d) == diag.CodeMovedLetter
	}
	if c := p.Counts(); c.Post != 0 || !moved {
		t.Fatalf("plan %+v, %v: want the renamed letter refused as a move", c, p.Diagnostics)
	}
	if res := e.Apply(context.Background(), p); res.Posted != 0 || w.sb.JobCount("notice-1") != 1 {
		t.Fatalf("apply posted %d", res.Posted)
	}
}
