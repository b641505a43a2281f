package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/nirva/sandbox"
	"github.com/postform/postform/pdf"
)

// TestServe: Serve listens on an ephemeral port, hands its address to
// ready, answers the real client, shows the job on /_sandbox/jobs, holds the
// world's lock while serving, and on cancellation stops listening and
// persists the world.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- sandbox.Serve(ctx, "127.0.0.1:0", sandbox.Options{Dir: dir}, func(addr string) { ready <- addr })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve never became ready")
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("ready gave %q", addr)
	}

	c, err := nirva.New(nirva.Config{Endpoint: "http://" + addr, Login: "alice", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Authenticate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := p.FindService("Lettre recommandée avec AR")
	if !ok {
		t.Fatalf("services %v", p.ServiceNames())
	}
	box, _ := svc.FindBox("")
	letter, _ := pdf.MakePDF("ACME SAS", "12 rue de la Paix", "75002 PARIS")
	job, err := c.CreateJob(ctx, nirva.JobRequest{JobName: "served", ServiceID: svc.ID, Files: []nirva.FilePart{{
		BoxID: box.ID, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(letter)), nil },
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Job(ctx, job.ID); err != nil || got.Name != "served" {
		t.Fatalf("%+v %v", got, err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get("http://" + addr + "/_sandbox/jobs")
	if err != nil {
		t.Fatal(err)
	}
	var jobs []sandbox.JobInfo
	err = json.NewDecoder(resp.Body).Decode(&jobs)
	resp.Body.Close()
	if err != nil || len(jobs) != 1 || jobs[0].JobID != job.ID || jobs[0].JobName != "served" {
		t.Fatalf("/_sandbox/jobs: %+v %v", jobs, err)
	}

	resp, err = http.Get("http://" + addr + "/_sandbox/requests")
	if err != nil {
		t.Fatal(err)
	}
	var reqs []sandbox.RequestRecord
	err = json.NewDecoder(resp.Body).Decode(&reqs)
	resp.Body.Close()
	var routes []string
	for _, r := range reqs {
		routes = append(routes, r.Route)
	}
	if err != nil || strings.Join(routes, ", ") != "POST /authentication/authenticate, POST /jobs, GET /jobs/{id}, POST /authentication/logout" {
		t.Fatalf("/_sandbox/requests: %v %v", routes, err)
	}

	if sb, err := sandbox.Open(sandbox.Options{Dir: dir}); err == nil {
		sb.Close()
		t.Fatal("the world was not locked while serving")
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop after cancel")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("still listening after cancel")
	}
	sb, err := sandbox.Open(sandbox.Options{Dir: dir})
	if err != nil {
		t.Fatalf("reopening the world: %v", err)
	}
	defer sb.Close()
	if got := sb.Jobs(); len(got) != 1 || got[0].JobID != job.ID {
		t.Fatalf("persisted world %+v", got)
	}
}

// TestServeBadAddress: a listen failure is returned and releases the
// world's lock.
func TestServeBadAddress(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	called := false
	err = sandbox.Serve(context.Background(), ln.Addr().String(), sandbox.Options{Dir: dir}, func(string) { called = true })
	if err == nil || called {
		t.Fatalf("Serve on a busy port: %v (ready called: %v)", err, called)
	}
	sb, err := sandbox.Open(sandbox.Options{Dir: dir})
	if err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	sb.Close()
}
