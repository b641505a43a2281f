package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Sessions: tokens that expire after TokenIdle without use.

// authed checks X-Auth-Token and refreshes its idle timer.
func (s *Sandbox) authed(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Auth-Token")
		s.mu.Lock()
		t, ok := s.tokens[tok]
		now := s.now()
		if ok && now.Sub(t.lastUsed) > s.opts.TokenIdle {
			delete(s.tokens, tok)
			ok = false
		}
		if ok {
			t.lastUsed = now
		}
		s.mu.Unlock()
		if tok == "" || !ok {
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "missing, unknown or expired token")
			return
		}
		h(w, r, tok)
	}
}

func (s *Sandbox) authenticate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Login             string `json:"login"`
		Password          string `json:"password"`
		WithProfileDetail bool   `json:"withProfileDetail"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "body must be JSON with login and password")
		return
	}
	if req.Login == "" || req.Password == "" || req.Password == "wrong" {
		writeError(w, http.StatusUnauthorized, "BAD_CREDENTIALS", "invalid login or password")
		return
	}
	tok := strings.ReplaceAll(uuid.NewString(), "-", "")
	s.mu.Lock()
	s.tokens[tok] = &tokenRec{login: req.Login, lastUsed: s.now()}
	if s.hostile().EchoSecrets {
		s.tokens[tok].password = req.Password
	}
	s.mu.Unlock()
	resp := map[string]any{
		"token": tok,
		"user":  map[string]string{"id": userID(req.Login), "login": req.Login},
	}
	if req.WithProfileDetail {
		var svcs []map[string]any
		for _, sv := range services {
			var boxes []map[string]string
			for _, b := range sv.Boxes {
				boxes = append(boxes, map[string]string{"boxId": b.ID, "name": b.Name, "type": b.Type})
			}
			svcs = append(svcs, map[string]any{"serviceId": sv.ID, "name": sv.Name, "channels": sv.Channels, "boxes": boxes})
		}
		resp["services"] = svcs
	}
	writeJSON(w, http.StatusOK, resp)
}

func userID(login string) string {
	var h uint32 = 2166136261
	for i := 0; i < len(login); i++ {
		h = (h ^ uint32(login[i])) * 16777619
	}
	return strconv.Itoa(1000 + int(h%9000))
}

func (s *Sandbox) logout(w http.ResponseWriter, r *http.Request, tok string) {
	s.mu.Lock()
	delete(s.tokens, tok)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (t *tokenRec) loginOr(def string) string {
	if t == nil {
		return def
	}
	return t.login
}
