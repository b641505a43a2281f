package reconcile_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/nirva"
	"github.com/postform/postform/reconcile"
	"github.com/postform/postform/state"
)

// hostileProofs is a platform whose shipment ids and proof names are paths
// out of the proofs folder.
func hostileProofs(t *testing.T, shipmentID string, names []string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /authentication/authenticate", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"token": "tok-hostile", "user": map[string]any{"id": "1"}, "services": []any{}})
	})
	mux.HandleFunc("POST /authentication/logout", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /jobs/J1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"jobId": "J1", "jobName": "letter-a", "status": "CREATED"})
	})
	mux.HandleFunc("GET /deliveries", func(w http.ResponseWriter, r *http.Request) {
		var meta []any
		for _, n := range names {
			meta = append(meta, map[string]any{"metadataKind": "TRACKING", "metadataType": "FILE", "name": n, "value": "x.pdf"})
		}
		writeJSON(w, []any{map[string]any{"deliveryId": "D1", "jobId": "J1", "channel": "MAIL", "status": "OUTPUTTED",
			"shipments": []any{map[string]any{"shipmentId": shipmentID, "status": 610, "statusLabel": "Delivered", "metadata": meta}}}})
	})
	mux.HandleFunc("GET /shipments/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4 pwned\n"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHostileShipmentIDsAndProofNamesStayInTheProofsFolder(t *testing.T) {
	base := t.TempDir()
	work, outside := filepath.Join(base, "work"), filepath.Join(base, "outside")
	os.MkdirAll(work, 0o755)
	os.MkdirAll(outside, 0o755)
	// A shipment id climbing out to the folder beside the working directory.
	climb := "../../../../outside/x/PWNED-1"
	names := []string{"CERTIF", "../../../../outside/p"}
	srv := hostileProofs(t, climb, names)

	b, err := state.Open(state.Config{Dir: work})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, _ := b.Load(ctx)
	st.Mailings["mailing.a"] = &state.Mailing{Address: "mailing.a", JobName: "letter-a", JobID: "J1",
		Phase: state.PhasePosted, JobStatus: "CREATED", RequestedProofs: names}
	c, err := nirva.New(nirva.Config{Endpoint: srv.URL, Login: "l", Password: "p", RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(ctx, false); err != nil {
		t.Fatal(err)
	}
	e := &reconcile.Engine{Client: c, Backend: b, State: st, ProofsDir: filepath.Join(work, "proofs"), WorkDir: work}
	res := e.Refresh(ctx)
	if err := res.Err(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("the platform made postform write outside the working directory: %v", entries)
	}
	m := st.Mailings["mailing.a"]
	// The climbing proof name may be skipped; CERTIF of the climbing
	// shipment id must be kept, inside.
	if len(m.Proofs) == 0 || m.Proofs[0].Name != "CERTIF" {
		t.Fatalf("proofs kept: %+v", m.Proofs)
	}
	for _, p := range m.Proofs {
		if !filepath.IsLocal(filepath.FromSlash(p.Path)) || strings.Count(p.Path, "/") != 1 {
			t.Errorf("proof %s of %q kept at %q: not one safe name inside the mailing's folder", p.Name, p.ShipmentID, p.Path)
		}
		if _, err := os.Stat(filepath.Join(work, "proofs", filepath.FromSlash(p.Path))); err != nil {
			t.Errorf("proof %s not on disk: %v", p.Name, err)
		}
	}
}

// A proofs folder committed as a link out of the working directory, or a
// proof file planted as a link, is refused; nothing is written outside.
func TestPlantedProofLinksAreRefused(t *testing.T) {
	for _, plant := range []string{"proofs", "proofs/a/S1-CERTIF.pdf"} {
		t.Run(plant, func(t *testing.T) {
			base := t.TempDir()
			work, outside := filepath.Join(base, "work"), filepath.Join(base, "outside")
			os.MkdirAll(work, 0o755)
			os.MkdirAll(outside, 0o755)
			p := filepath.Join(work, plant)
			os.MkdirAll(filepath.Dir(p), 0o755)
			target := outside
			if plant != "proofs" {
				target = filepath.Join(outside, "victim")
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			srv := hostileProofs(t, "S1", []string{"CERTIF"})
			b, _ := state.Open(state.Config{Dir: work})
			defer b.Close()
			ctx := context.Background()
			st, _ := b.Load(ctx)
			st.Mailings["mailing.a"] = &state.Mailing{Address: "mailing.a", JobName: "letter-a", JobID: "J1",
				Phase: state.PhasePosted, JobStatus: "CREATED", RequestedProofs: []string{"CERTIF"}}
			c, _ := nirva.New(nirva.Config{Endpoint: srv.URL, Login: "l", Password: "p"})
			e := &reconcile.Engine{Client: c, Backend: b, State: st, ProofsDir: filepath.Join(work, "proofs"), WorkDir: work}
			err := e.Refresh(ctx).Err()
			if err == nil || !strings.Contains(err.Error(), plant) {
				t.Fatalf("want an error naming %s, got %v", plant, err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatalf("written outside: %v", entries)
			}
			if len(st.Mailings["mailing.a"].Proofs) != 0 {
				t.Errorf("a refused proof is in the state: %+v", st.Mailings["mailing.a"].Proofs)
			}
		})
	}
}
