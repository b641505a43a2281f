package nirva_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/postform/postform/nirva"
)

const echoToken = "tok-5f1c9a7e"

// echoPlatform is a platform that echoes the password and the token into
// every free-text field of its answers, and into its error bodies.
func echoPlatform(t *testing.T, password string) *nirva.Client {
	t.Helper()
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, format string) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, strings.NewReplacer("PW", password, "TOK", echoToken).Replace(format))
	}
	mux.HandleFunc("POST /authentication/authenticate", func(w http.ResponseWriter, r *http.Request) {
		reply(w, `{"token":"TOK","user":{"id":"1","login":"alice PW"},"services":[{"serviceId":"311","name":"svc TOK","channels":["MAIL"],"boxes":[{"boxId":"2201","name":"PW","type":"MAIN"}]}]}`)
	})
	mux.HandleFunc("GET /jobs/1", func(w http.ResponseWriter, r *http.Request) {
		reply(w, `{"jobId":"1","jobName":"job PW","status":"PROCESSING TOK","packGroupCountPerStates":{"PW":1}}`)
	})
	mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		reply(w, `[{"jobId":"1","jobName":"`+r.URL.Query().Get("jobName")+`","status":"PW"}]`)
	})
	mux.HandleFunc("GET /jobs/1/packGroups", func(w http.ResponseWriter, r *http.Request) {
		reply(w, `[{"packGroupId":"5","channel":"MAIL","status":"NOT_ELIGIBLE","eligibility":{"eligible":false,"reasons":["bad password PW","token=TOK;"]},"raw":{"address":["PW","TOK street"],"PW":"x"}}]`)
	})
	mux.HandleFunc("GET /deliveries", func(w http.ResponseWriter, r *http.Request) {
		reply(w, `[{"deliveryId":"9","jobId":"1","channel":"MAIL","status":"OUTPUTTED TOK","shipments":[{"shipmentId":"4","status":"PW","statusLabel":"Mailed (PW)","metadata":[{"metadataKind":"TRACKING","metadataType":"SHORT_VALUE","name":"TRACKING","value":"1A-TOK"},{"metadataKind":"TRACKING","metadataType":"FILE","name":"CERTIF","value":"PW.pdf"}]}]}]`)
	})
	mux.HandleFunc("GET /options/type", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		reply(w, `{"code":"PW","message":"login alice password PW token TOK rejected"}`)
	})
	mux.HandleFunc("GET /options", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		reply(w, `forbidden: "PW" / TOK`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := nirva.New(nirva.Config{Endpoint: srv.URL, Login: "alice", Password: password, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNoCredentialEchoLeaves: whatever the password's length, neither it
// nor the token leaves the client, in decoded values or in errors.
func TestNoCredentialEchoLeaves(t *testing.T) {
	for _, password := range []string{"q7", "Zx9-long-pw!"} {
		t.Run(fmt.Sprintf("password of %d", len(password)), func(t *testing.T) {
			c := echoPlatform(t, password)
			ctx := context.Background()
			var out []any
			p, err := c.Authenticate(ctx, true)
			out = append(out, p, err)
			j, err := c.Job(ctx, "1")
			out = append(out, j, err)
			js, err := c.JobsByName(ctx, "letter-1")
			out = append(out, js, err)
			pgs, err := c.PackGroups(ctx, "1")
			out = append(out, pgs, err)
			ds, err := c.Deliveries(ctx, "1")
			out = append(out, ds, err)
			_, err1 := c.OptionTypes(ctx)
			_, err2 := c.Options(ctx)
			if err1 == nil || err2 == nil {
				t.Fatalf("errors expected: %v %v", err1, err2)
			}
			var text strings.Builder
			for _, v := range out {
				if e, ok := v.(error); ok {
					text.WriteString(e.Error() + "\n")
					continue
				}
				b, _ := json.Marshal(v)
				text.Write(b)
				text.WriteString("\n")
			}
			text.WriteString(err1.Error() + "\n" + err2.Error())
			got := text.String()
			for _, secret := range []string{password, echoToken} {
				if strings.Contains(got, secret) {
					t.Errorf("%q leaked:\n%s", secret, got)
				}
			}
			if strings.Count(got, nirva.Redacted) < 20 || !strings.Contains(got, "letter-1") {
				t.Errorf("not redacted where expected, or our own job name lost:\n%s", got)
			}
			if len(ds) != 1 || ds[0].Shipments[0].ID != "4" || ds[0].Shipments[0].Files()[0] != "CERTIF" {
				t.Errorf("ids and contract words must survive: %+v", ds)
			}
		})
	}
}
