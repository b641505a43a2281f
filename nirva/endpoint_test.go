package nirva_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/postform/postform/nirva"
)

func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in       string
		insecure bool
		want     string // the URL accepted, or "error: <part of the message>"
		warn     bool
	}{
		{in: "https://api.example.com", want: "https://api.example.com"},
		{in: "https://api.example.com/nirva/v1/", want: "https://api.example.com/nirva/v1"},
		{in: "HTTPS://api.example.com:8443", want: "https://api.example.com:8443"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "http://127.9.9.9", want: "http://127.9.9.9"},
		{in: "http://[::1]:8080", want: "http://[::1]:8080"},
		{in: "http://localhost:8080", want: "http://localhost:8080"},
		{in: "http://LOCALHOST.", want: "http://LOCALHOST."},
		{in: "http://sandbox.invalid", want: "http://sandbox.invalid"},
		{in: "http://api.example.com", want: "error: plain http to api.example.com"},
		{in: "http://10.0.0.1", want: "error: insecure = true"},
		{in: "http://[::ffff:127.0.0.1]", want: "http://[::ffff:127.0.0.1]"},
		{in: "http://localhost.example.com", want: "error: plain http"},
		{in: "http://127.0.0.1.nip.io", want: "error: plain http"}, // resolves to loopback, or anywhere
		{in: "http://0x7f000001", want: "error: plain http"},       // not an address to us
		{in: "http://[::ffff:10.0.0.1]", want: "error: plain http"},
		{in: "http://api.example.com", insecure: true, want: "http://api.example.com", warn: true},
		{in: "http://[::1", want: "error: is not a URL: missing ']' in host"},
		{in: "https://api.example.com?x=1", want: "error: has a query"},
		{in: "https://api.example.com/?", want: "error: has a query"},
		{in: "https://api.example.com#top", want: "error: has a fragment"},
		{in: "https://api.example.com/#", want: "error: has a fragment"},
		{in: "https://bob:pw@api.example.com", want: "error: carries credentials"},
		{in: "https://bob@api.example.com", want: "error: carries credentials"},
		{in: "ftp://api.example.com", want: "error: must start with https://"},
		{in: "api.example.com", want: "error: must start with https://"},
		{in: "https://", want: "error: has no host"},
		{in: "https:api.example.com", want: "error: has no host"},
		{in: "https://:8080", want: "error: has no host name"},
		{in: "https://api.example.com:0", want: "error: invalid port"},
		{in: "https://api.example.com:70000", want: "error: invalid port"},
		{in: "https://api.exa mple.com", want: "error: is not a URL"},
		{in: "", want: "error: must start with https://"},
	} {
		u, warning, err := nirva.CheckEndpoint(tc.in, tc.insecure)
		switch {
		case strings.HasPrefix(tc.want, "error: "):
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "error: ")) {
				t.Errorf("%q: err %v, want one saying %q", tc.in, err, strings.TrimPrefix(tc.want, "error: "))
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case u.String() != tc.want || (warning != "") != tc.warn:
			t.Errorf("%q: %s (warning %q), want %s (warning %v)", tc.in, u, warning, tc.want, tc.warn)
		}
	}
}

// TestNewRefusesAnUnsafeEndpoint: the client itself is a second line of
// defence, whatever its caller checked.
func TestNewRefusesAnUnsafeEndpoint(t *testing.T) {
	for _, ep := range []string{"http://api.example.com", "https://h/?a=b", "https://u:p@h"} {
		if _, err := nirva.New(nirva.Config{Endpoint: ep, Login: "a", Password: "b"}); err == nil {
			t.Errorf("%q accepted", ep)
		}
	}
	if _, _, err := nirva.CheckEndpoint("http://api.example.com", false); !errors.Is(err, nirva.ErrInsecureEndpoint) {
		t.Errorf("not ErrInsecureEndpoint: %v", err)
	}
	if _, _, err := nirva.CheckEndpoint("https://h?q", false); errors.Is(err, nirva.ErrInsecureEndpoint) {
		t.Errorf("a malformed endpoint is not the insecure case: %v", err)
	}
	if _, err := nirva.New(nirva.Config{Endpoint: "http://api.example.com", Insecure: true}); err != nil {
		t.Errorf("insecure: %v", err)
	}
}

// FuzzCheckEndpoint: an accepted endpoint is a base URL that paths can be
// appended to without changing its host, and never plain http to a remote
// host unless insecure.
func FuzzCheckEndpoint(f *testing.F) {
	for _, s := range []string{"https://api.example.com/v1", "http://[::1]:8080", "http://127.0.0.1", "http://x.invalid", "https://a?b#c", "http://[::1", "https://u@h", "http://[::ffff:127.0.0.1]/"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, insecure bool) {
		u, warning, err := nirva.CheckEndpoint(raw, insecure)
		if err != nil {
			return
		}
		if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("%q accepted as %#v", raw, u)
		}
		if warning != "" && !insecure {
			t.Fatalf("%q: a warning without insecure", raw)
		}
		joined, err := url.Parse(u.String() + "/jobs/1")
		if err != nil || joined.Host != u.Host || joined.RawQuery != "" || joined.User != nil {
			t.Fatalf("%q: appending a path gives %v (%v)", raw, joined, err)
		}
	})
}
