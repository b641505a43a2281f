package nirva

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CheckEndpoint parses an API base URL and decides whether postform may send
// the login and password to it. It is the one rule, used by the
// configuration (as a diagnostic) and by New (as a second line of defence).
//
// The endpoint must be an absolute http or https URL with a host, and
// nothing a base URL cannot carry: no user:password@, no query, no
// fragment (paths are appended to it). Plain http is accepted only to a
// loopback host (127.0.0.0/8, ::1, localhost) or to a host under .invalid
// (a name that never resolves, served by an in-process transport such as
// the built-in simulator), because anything else carries the password in
// clear over a network; insecure accepts it anyway, and warning then says
// so. The URL returned has no trailing slash.
func CheckEndpoint(raw string, insecure bool) (u *url.URL, warning string, err error) {
	u, err = url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		// url.Error repeats the whole input; keep only the reason.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, "", fmt.Errorf("endpoint %q is not a URL: %v", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "", fmt.Errorf("endpoint %q must start with https:// (or http:// to this machine)", raw)
	case u.Opaque != "" || u.Host == "":
		return nil, "", fmt.Errorf("endpoint %q has no host: write it as %s://host[:port][/path]", raw, u.Scheme)
	case u.User != nil:
		return nil, "", fmt.Errorf("endpoint %q carries credentials (user@ or user:password@): remove them and set login and password in the provider block", raw)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, "", fmt.Errorf("endpoint %q has a query (?…): the endpoint is a base URL that API paths are appended to; remove the query", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, "", fmt.Errorf("endpoint %q has a fragment (#…): remove it", raw)
	case u.Hostname() == "":
		return nil, "", fmt.Errorf("endpoint %q has no host name", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, "", fmt.Errorf("endpoint %q has an invalid port %q (want 1 to 65535)", raw, p)
		}
	}
	if u.Scheme == "http" && !localHost(u.Hostname()) {
		if !insecure {
			return nil, "", insecureError{fmt.Sprintf("endpoint %q uses plain http to %s, which would send the password in clear over the network: use https://, or set insecure = true in the provider block to accept that", raw, u.Hostname())}
		}
		warning = fmt.Sprintf("The endpoint %q uses plain http to %s: the password and every letter travel in clear over the network (insecure = true).", raw, u.Hostname())
	}
	return u, warning, nil
}

// ErrInsecureEndpoint is matched (errors.Is) by CheckEndpoint's refusal of
// plain http to a host that is not loopback.
var ErrInsecureEndpoint = errors.New("plain http to a host that is not loopback")

type insecureError struct{ msg string }

func (e insecureError) Error() string        { return e.msg }
func (e insecureError) Is(target error) bool { return target == ErrInsecureEndpoint }

// localHost reports a host that plain http never leaves the machine for.
func localHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".invalid") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}
