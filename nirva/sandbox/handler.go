package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The routes, and the plumbing every answer goes through.

type recordKey struct{}

func (s *Sandbox) buildHandler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("POST /authentication/authenticate", s.authenticate)
	api.HandleFunc("POST /authentication/logout", s.authed(s.logout))
	api.HandleFunc("POST /jobs", s.authed(s.createJob))
	api.HandleFunc("GET /jobs", s.authed(s.listJobs))
	api.HandleFunc("GET /jobs/{id}", s.authed(s.getJob))
	api.HandleFunc("GET /jobs/{id}/packGroups", s.authed(s.getPackGroups))
	api.HandleFunc("POST /packGroups/{id}/edit", s.authed(s.editPackGroup))
	api.HandleFunc("GET /deliveries", s.authed(s.getDeliveries))
	api.HandleFunc("GET /shipments/{id}/trackingFile/{name}", s.authed(s.getTrackingFile))
	api.HandleFunc("GET /options/type", s.authed(s.getOptionTypes))
	api.HandleFunc("GET /options", s.authed(s.getOptions))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such route: "+r.Method+" "+r.URL.Path)
	})

	root := http.NewServeMux()
	root.HandleFunc("GET /_sandbox/jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Jobs())
	})
	root.HandleFunc("GET /_sandbox/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	root.HandleFunc("GET /_sandbox/stats", func(w http.ResponseWriter, r *http.Request) {
		st := s.stats()
		var total int64
		for _, k := range sortedKeys(st) {
			total += st[k]
		}
		writeJSON(w, http.StatusOK, map[string]any{"requests": st, "total": total, "jobs": s.jobCount()})
	})
	root.Handle("/", s.withFaults(api))
	return root
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func requestRecord(r *http.Request) *RequestRecord {
	rec, _ := r.Context().Value(recordKey{}).(*RequestRecord)
	if rec == nil {
		rec = &RequestRecord{}
	}
	return rec
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"INTERNAL","message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}
