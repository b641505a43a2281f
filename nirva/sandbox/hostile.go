package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Hostile lists ways a broken or malicious platform misbehaves, for the
// hostile-platform stories: postform must keep one job per letter, write
// nothing outside its folder, end by itself and keep the terminal clean
// whatever the platform answers. Each is off by default.
type Hostile struct {
	// EscapeIDs answers shipment ids that climb out of any folder
	// ("../../../../outside/x/PWNED-<id>") and offers a proof whose name is
	// a path.
	EscapeIDs bool
	// ControlText puts terminal escapes, BEL and newlines (a cleared screen,
	// a window title, a forged "Error:" line) into status labels, tracking
	// numbers, tracking events, pack-group reasons and error messages.
	ControlText bool
	// EmptyLookup answers every job lookup by name with no job, though the
	// jobs exist.
	EmptyLookup bool
	// SameJobID answers every job creation with the id of the first job.
	SameJobID bool
	// OldJobID answers a job creation with the id of the oldest job of
	// the same name, when there is one (a re-post answered as the old job).
	OldJobID bool
	// AfterCreate answers job creations with this status (429, 401, 500…)
	// after the job was created.
	AfterCreate int
	// Proofs misbehaves on proof downloads: "stall" (headers, then
	// nothing), "trickle" (one byte a second, forever), "endless" (bytes
	// without end, as fast as they are read) or "huge" (a body larger than
	// any sane proof, announced with its length).
	Proofs string
	// EchoSecrets echoes the password and the session token back in status
	// labels and error messages.
	EchoSecrets bool
}

// HostileModes are the names ParseHostile accepts, in order.
var HostileModes = []string{"escape-ids", "control-text", "empty-lookup", "same-job-id", "old-job-id",
	"429-after-create", "401-after-create", "500-after-create",
	"proof-stall", "proof-trickle", "proof-endless", "proof-huge", "echo-secrets"}

// ParseHostile reads a comma-separated list of HostileModes.
func ParseHostile(list string) (Hostile, error) {
	var h Hostile
	for _, m := range strings.Split(list, ",") {
		m = strings.TrimSpace(m)
		switch {
		case m == "":
		case m == "escape-ids":
			h.EscapeIDs = true
		case m == "control-text":
			h.ControlText = true
		case m == "empty-lookup":
			h.EmptyLookup = true
		case m == "same-job-id":
			h.SameJobID = true
		case m == "old-job-id":
			h.OldJobID = true
		case strings.HasSuffix(m, "-after-create"):
			code, err := strconv.Atoi(strings.TrimSuffix(m, "-after-create"))
			if err != nil || !slices.Contains(HostileModes, m) {
				return h, fmt.Errorf("unknown hostile mode %q (known: %s)", m, strings.Join(HostileModes, ", "))
			}
			h.AfterCreate = code
		case strings.HasPrefix(m, "proof-") && slices.Contains(HostileModes, m):
			h.Proofs = strings.TrimPrefix(m, "proof-")
		case m == "echo-secrets":
			h.EchoSecrets = true
		default:
			return h, fmt.Errorf("unknown hostile mode %q (known: %s)", m, strings.Join(HostileModes, ", "))
		}
	}
	return h, nil
}

// hostileText is what ControlText adds to platform text.
const hostileText = "\x1b]0;pwned\x07\x1b[2J\r\nError: forged by the platform"

// escapePrefix is what EscapeIDs puts before every shipment id.
const escapePrefix = "../../../../outside/x/PWNED-"

// hostileProofName is the extra proof EscapeIDs offers.
const hostileProofName = "../../../../outside/p"

func (s *Sandbox) hostile() Hostile {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faults.Hostile
}

// label returns platform text as the hostile platform would give it.
func (h Hostile) label(text string, secrets ...string) string {
	if h.ControlText {
		text += hostileText
	}
	if h.EchoSecrets {
		for _, sec := range secrets {
			if sec != "" {
				text += " (" + sec + ")"
			}
		}
	}
	return text
}

// shipmentID is the id the platform answers for shipment id.
func (h Hostile) shipmentID(id string) string {
	if h.EscapeIDs {
		return escapePrefix + id
	}
	return id
}

// realShipmentID undoes shipmentID for a request.
func realShipmentID(id string) string { return strings.TrimPrefix(id, escapePrefix) }

// serveHostileProof answers a proof download the way h.Proofs says; it
// reports whether it answered.
func (h Hostile) serveHostileProof(w http.ResponseWriter, r *http.Request) bool {
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	switch h.Proofs {
	case "stall":
		w.Header().Set("Content-Type", "application/pdf")
		w.WriteHeader(http.StatusOK)
		flush()
		<-r.Context().Done()
	case "trickle":
		w.Header().Set("Content-Type", "application/pdf")
		w.WriteHeader(http.StatusOK)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if _, err := w.Write([]byte("%")); err != nil {
				return true
			}
			flush()
			select {
			case <-r.Context().Done():
				return true
			case <-t.C:
			}
		}
	case "endless", "huge":
		const huge = 1 << 30 // "huge" sends exactly this, as announced
		w.Header().Set("Content-Type", "application/pdf")
		if h.Proofs == "huge" {
			w.Header().Set("Content-Length", strconv.Itoa(huge))
		}
		w.WriteHeader(http.StatusOK)
		chunk := []byte("%PDF-1.4\n" + strings.Repeat("0", 64<<10))
		for sent := 0; h.Proofs == "endless" || sent < huge; sent += len(chunk) {
			if r.Context().Err() != nil {
				return true
			}
			if h.Proofs == "huge" {
				chunk = chunk[:min(len(chunk), huge-sent)]
			}
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
	default:
		return false
	}
	return true
}
