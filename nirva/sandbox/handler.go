package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	postpdf "github.com/postform/postform/pdf"
)

const maxFileSize = 20 << 20

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

// --- plumbing ---------------------------------------------------------------

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

// withFaults records each request and injects the configured faults.
func (s *Sandbox) withFaults(api *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := api.Handler(r)
		if pattern == "" || pattern == "/" {
			pattern = r.Method + " (unknown)"
		}
		rec := &RequestRecord{
			Time: s.now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Route: pattern, HasToken: r.Header.Get("X-Auth-Token") != "",
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if !rec.recorded {
				rec.Status = sw.status
				s.record(rec)
			}
		}()
		r = r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))

		s.faultMu.Lock()
		f := s.faults
		s.reqCount++
		if f.Burst429Every > 0 && s.reqCount%int64(f.Burst429Every) == 0 && s.burstLeft == 0 {
			s.burstLeft = f.Burst429Len
		}
		throttle := false
		if s.burstLeft > 0 {
			s.burstLeft--
			throttle = true
		}
		fail := !throttle && f.FailRate > 0 && s.rng.Float64() < f.FailRate
		s.faultMu.Unlock()

		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if throttle {
			ra := f.RetryAfter
			if ra == 0 {
				ra = 1
			}
			if ra < 0 {
				ra = 0
			}
			sw.Header().Set("Retry-After", strconv.Itoa(ra))
			writeError(sw, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "rate limit exceeded, retry later")
			return
		}
		if fail {
			writeError(sw, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "transient fault (sandbox)")
			return
		}
		api.ServeHTTP(sw, r)
	})
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

// --- authentication ---------------------------------------------------------

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

// --- jobs -------------------------------------------------------------------

var fileField = []*regexp.Regexp{
	regexp.MustCompile(`^file__file_([0-9A-Za-z]+)_(\d+)$`),
	regexp.MustCompile(`^file_file__([0-9A-Za-z]+)_(\d+)$`),
	regexp.MustCompile(`^file_main([0-9A-Za-z]+)_(\d+)$`),
}

type uploaded struct {
	box   string
	n     int
	field string
	data  []byte
}

func (s *Sandbox) createJob(w http.ResponseWriter, r *http.Request, tok string) {
	rec := requestRecord(r)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "expected multipart/form-data")
		return
	}
	var params []byte
	var files []uploaded
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "malformed multipart body")
			return
		}
		name := part.FormName()
		rec.Fields = append(rec.Fields, name)
		if name == "parameters" {
			params, err = io.ReadAll(io.LimitReader(part, 1<<20))
			if err != nil {
				writeError(w, http.StatusBadRequest, "BAD_REQUEST", "malformed multipart body")
				return
			}
			rec.Parameters = string(params)
			continue
		}
		for _, re := range fileField {
			m := re.FindStringSubmatch(name)
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[2])
			data, err := io.ReadAll(io.LimitReader(part, maxFileSize+1))
			if err != nil {
				writeError(w, http.StatusBadRequest, "BAD_REQUEST", "malformed multipart body")
				return
			}
			if len(data) > maxFileSize {
				writeError(w, http.StatusRequestEntityTooLarge, "FILE_TOO_LARGE", fmt.Sprintf("file %s exceeds %d MiB", name, maxFileSize>>20))
				return
			}
			files = append(files, uploaded{box: m[1], n: n, field: name, data: data})
			break
		}
	}
	if params == nil {
		writeError(w, http.StatusBadRequest, "MISSING_PARAMETERS", "the parameters part is missing")
		return
	}
	var p struct {
		JobName                   string          `json:"jobName"`
		ServiceID                 json.RawMessage `json:"serviceId"`
		AutocreateDeliveryCommand bool            `json:"autocreateDeliveryCommand"`
		TargetOwnerID             json.RawMessage `json:"targetOwnerId"`
		Options                   []struct {
			OptionTypeID json.RawMessage `json:"optionTypeId"`
			OptionID     json.RawMessage `json:"optionId"`
		} `json:"options"`
	}
	if err := json.Unmarshal(params, &p); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETERS", "parameters is not valid JSON: "+err.Error())
		return
	}
	if strings.TrimSpace(p.JobName) == "" {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETERS", "jobName is required")
		return
	}
	svc, ok := findService(rawID(p.ServiceID))
	if !ok {
		writeError(w, http.StatusBadRequest, "UNKNOWN_SERVICE", fmt.Sprintf("unknown serviceId %q", rawID(p.ServiceID)))
		return
	}
	var opts []optionChoice
	for _, o := range p.Options {
		c := optionChoice{TypeID: rawID(o.OptionTypeID), OptionID: rawID(o.OptionID)}
		valid := false
		for _, ov := range optionValues {
			if ov.ID == c.OptionID && ov.TypeID == c.TypeID {
				valid = true
			}
		}
		if !valid {
			writeError(w, http.StatusBadRequest, "UNKNOWN_OPTION", fmt.Sprintf("unknown option %s/%s", c.TypeID, c.OptionID))
			return
		}
		opts = append(opts, c)
	}
	boxType := map[string]string{}
	for _, b := range svc.Boxes {
		boxType[b.ID] = b.Type
	}
	var mainFiles []uploaded
	for _, f := range files {
		t, ok := boxType[f.box]
		if !ok {
			writeError(w, http.StatusBadRequest, "UNKNOWN_BOX", fmt.Sprintf("field %s: box %s is not a box of service %s", f.field, f.box, svc.ID))
			return
		}
		if t == "MAIN" {
			mainFiles = append(mainFiles, f)
		}
	}
	if len(mainFiles) == 0 {
		writeError(w, http.StatusBadRequest, "MISSING_FILE", fmt.Sprintf("no file for the MAIN box of service %s (expected field file__file_%s_0)", svc.ID, svc.Boxes[0].ID))
		return
	}
	sort.SliceStable(mainFiles, func(a, b int) bool { return mainFiles[a].n < mainFiles[b].n })

	job := &jobRecord{
		Name: p.JobName, ServiceID: svc.ID, OwnerID: rawID(p.TargetOwnerID), Options: opts, Documents: len(mainFiles),
	}
	// What the platform's processing does: a file it cannot parse (or
	// decrypt) fails the job; the first MAIN file's address window is read
	// for the address.
	for _, f := range files {
		if _, err := inspectPDF(f.data); err != nil {
			job.Failed, job.FailReason = true, fmt.Sprintf("%s: %v", f.field, err)
			break
		}
	}
	if !job.Failed {
		lines, reasons, err := readAddress(s.opts.PDF, mainFiles[0].data)
		if err != nil {
			job.Failed, job.FailReason = true, fmt.Sprintf("%s: %v", mainFiles[0].field, err)
		}
		job.NeedsAddress, job.AddressReasons = len(reasons) > 0, reasons
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" && len(job.Address) < 6 {
				job.Address = append(job.Address, l)
			}
			job.Undeliverable = job.Undeliverable || strings.Contains(strings.ToUpper(l), "UNDELIVERABLE")
		}
	}
	printMode := "1SIDE"
	for _, o := range opts {
		for _, ov := range optionValues {
			if ov.ID == o.OptionID && ov.TypeID == "12" {
				printMode = ov.Value
			}
		}
	}

	s.mu.Lock()
	job.Login = s.tokens[tok].loginOr("")
	job.Created = s.now()
	s.addJobLocked(job, svc, printMode)
	seq, saveErr := s.recordLocked(job)
	body := s.jobJSON(job, s.now())
	s.mu.Unlock()
	if saveErr == nil {
		saveErr = s.syncLog(seq)
	}
	if saveErr != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL", saveErr.Error())
		return
	}

	s.faultMu.Lock()
	drop := s.dropsLeft > 0
	if drop {
		s.dropsLeft--
	}
	hang := s.faults.HangAfterCreate
	h := s.faults.Hostile
	s.faultMu.Unlock()
	if h.SameJobID {
		s.mu.Lock()
		body = s.jobJSON(s.world.Jobs[0], s.now())
		body["jobName"] = job.Name
		s.mu.Unlock()
	}
	if h.OldJobID {
		s.mu.Lock()
		body = s.jobJSON(s.index.byName[job.Name][0], s.now())
		s.mu.Unlock()
	}
	if h.AfterCreate != 0 {
		if h.AfterCreate == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		writeError(w, h.AfterCreate, "HOSTILE", h.label("answered after the job was created"))
		return
	}
	if drop {
		// Record before closing: the client may ask /_sandbox/ as soon as
		// it sees the connection go.
		rec.Dropped = true
		s.record(rec)
		dropConnection(w)
		return
	}
	if hang {
		<-r.Context().Done()
		return
	}
	writeJSON(w, http.StatusCreated, body)
}

// addJobLocked gives job its ids, pack groups and deliveries and adds it to
// the world (caller holds s.mu).
func (s *Sandbox) addJobLocked(job *jobRecord, svc serviceDef, printMode string) {
	next := func() string { s.world.NextID++; return strconv.FormatInt(s.world.NextID, 10) }
	job.ID = next()
	for _, ch := range svc.Channels {
		raw := map[string]any{"address": addressAny(job.Address), "printMode": printMode}
		if job.NeedsAddress {
			raw["address"] = []any{}
		}
		if ch == "EMAIL" {
			raw["email"] = "recipient@example.com"
		}
		job.PackGroups = append(job.PackGroups, &packGroupRec{ID: next(), Channel: ch, Raw: raw})
	}
	for _, ch := range svc.Channels {
		d := &deliveryRecord{ID: next(), Channel: ch}
		d.ShipmentID = next()
		job.Deliveries = append(job.Deliveries, d)
	}
	s.world.Jobs = append(s.world.Jobs, job)
	s.index.add(job)
}

func (t *tokenRec) loginOr(def string) string {
	if t == nil {
		return def
	}
	return t.login
}

func addressAny(lines []string) []any {
	out := make([]any, 0, len(lines))
	for _, l := range lines {
		out = append(out, l)
	}
	return out
}

// errDropped is what the in-process transport reports for a dropped
// connection.
var errDropped = errors.New("sandbox: connection closed by the server without a response")

// dropConnection closes the connection without answering: hijack and close
// on a real server, an aborted handler otherwise.
func dropConnection(w http.ResponseWriter) {
	if sw, ok := w.(*statusWriter); ok {
		w = sw.ResponseWriter
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// rawID reads an id given as a JSON string or number.
func rawID(m json.RawMessage) string {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	return string(m)
}

func (s *Sandbox) jobJSON(j *jobRecord, now time.Time) map[string]any {
	v := s.view(j, now)
	counts := map[string]int{}
	for _, pg := range v.packGroups {
		counts[pg.status]++
	}
	return map[string]any{
		"jobId": j.ID, "jobName": j.Name, "serviceId": j.ServiceID, "status": v.status,
		"creationDate": j.Created.UTC().Format(time.RFC3339), "documentCount": j.Documents,
		"packGroupCountPerStates": counts,
	}
}

func (s *Sandbox) findJob(id string) *jobRecord { return s.index.byID[id] }

func (s *Sandbox) getJob(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	j := s.findJob(r.PathValue("id"))
	var body map[string]any
	if j != nil {
		body = s.jobJSON(j, s.now())
	}
	s.mu.Unlock()
	if j == nil {
		writeError(w, http.StatusNotFound, "JOB_NOT_FOUND", "unknown job "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Sandbox) listJobs(w http.ResponseWriter, r *http.Request, _ string) {
	s.faultMu.Lock()
	noLookup := s.faults.NoJobLookup
	s.faultMu.Unlock()
	name, byName := r.URL.Query()["jobName"]
	if byName && s.hostile().EmptyLookup {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	if byName && noLookup {
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "job lookup by name is not available")
		return
	}
	s.mu.Lock()
	now := s.now()
	jobs := s.world.Jobs // without a name: every job, a tool's call, not a letter's
	if byName {
		jobs = s.index.byName[name[0]]
	}
	out := []map[string]any{}
	for i := len(jobs) - 1; i >= 0; i-- { // newest first
		out = append(out, s.jobJSON(jobs[i], now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func pgJSON(pv pgView) map[string]any {
	reasons := pv.reasons
	if reasons == nil {
		reasons = []string{}
	}
	return map[string]any{
		"packGroupId": pv.rec.ID, "channel": pv.rec.Channel, "status": pv.status,
		"eligibility": map[string]any{"eligible": pv.eligible, "reasons": reasons},
		"raw":         pv.rec.Raw,
	}
}

func (s *Sandbox) getPackGroups(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	j := s.findJob(r.PathValue("id"))
	out := []map[string]any{}
	if j != nil {
		for _, pv := range s.view(j, s.now()).packGroups {
			out = append(out, pgJSON(pv))
		}
	}
	s.mu.Unlock()
	if j == nil {
		writeError(w, http.StatusNotFound, "JOB_NOT_FOUND", "unknown job "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) editPackGroup(w http.ResponseWriter, r *http.Request, _ string) {
	var req struct {
		Raw map[string]any `json:"raw"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.Raw == nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", `body must be {"raw": {...}}`)
		return
	}
	id := r.PathValue("id")
	status, body, seq, err := s.editPackGroupLocked(id, req.Raw)
	if err == nil {
		err = s.syncLog(seq)
	}
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
	case status == http.StatusNotFound:
		writeError(w, status, "PACK_GROUP_NOT_FOUND", "unknown pack group "+id)
	case status == http.StatusBadRequest:
		writeError(w, status, "NOT_EDITABLE", "pack group "+id+" was already sent")
	default:
		writeJSON(w, status, body)
	}
}

// editPackGroupLocked applies an edit and appends it to the log; the
// caller syncs line seq before answering.
func (s *Sandbox) editPackGroupLocked(id string, raw map[string]any) (status int, body map[string]any, seq int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	j := s.index.byPackGroup[id]
	if j == nil {
		return http.StatusNotFound, nil, 0, nil
	}
	var cur *pgView
	for _, pv := range s.view(j, now).packGroups {
		if pv.rec.ID == id {
			cur = &pv
		}
	}
	switch {
	case cur == nil: // not made yet (or the job failed)
		return http.StatusNotFound, nil, 0, nil
	case cur.status == "SENT":
		return http.StatusBadRequest, nil, 0, nil
	}
	pg := cur.rec
	pg.Raw = raw
	pg.EditedAt = now
	if addr, ok := raw["address"].([]any); ok && len(addr) > 0 {
		pg.Fixed = true
	} else if j.NeedsAddress {
		pg.Fixed = false
	}
	if seq, err = s.recordLocked(j); err != nil {
		return 0, nil, 0, err
	}
	for _, pv := range s.view(j, now).packGroups {
		if pv.rec == pg {
			body = pgJSON(pv)
		}
	}
	return http.StatusOK, body, seq, nil
}

func (s *Sandbox) getDeliveries(w http.ResponseWriter, r *http.Request, tok string) {
	jobID := r.URL.Query().Get("jobId")
	h := s.hostile()
	s.mu.Lock()
	var secrets []string
	if t := s.tokens[tok]; t != nil {
		secrets = []string{t.password, tok}
	}
	j := s.findJob(jobID)
	out := []map[string]any{}
	if j != nil {
		for _, dv := range s.view(j, s.now()).deliveries {
			d := map[string]any{"deliveryId": dv.rec.ID, "jobId": j.ID, "channel": dv.rec.Channel, "status": dv.status}
			shipments := []map[string]any{}
			if sh := dv.shipment; sh != nil {
				meta := []map[string]string{}
				if sh.tracking != "" {
					meta = append(meta, map[string]string{"metadataKind": "TRACKING", "metadataType": "SHORT_VALUE", "name": "TRACKING", "value": h.label(sh.tracking)})
				}
				for _, f := range sh.files {
					meta = append(meta, map[string]string{"metadataKind": "TRACKING", "metadataType": "FILE", "name": f.name, "value": f.value})
				}
				if h.EscapeIDs && len(sh.files) > 0 {
					meta = append(meta, map[string]string{"metadataKind": "TRACKING", "metadataType": "FILE", "name": hostileProofName, "value": "p.pdf"})
				}
				shipments = append(shipments, map[string]any{
					"shipmentId": h.shipmentID(sh.id), "status": sh.code, "statusLabel": h.label(statusLabels[sh.code], secrets...), "metadata": meta,
				})
			}
			d["shipments"] = shipments
			out = append(out, d)
		}
	}
	s.mu.Unlock()
	if j == nil {
		writeError(w, http.StatusNotFound, "JOB_NOT_FOUND", "unknown job "+jobID)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) getTrackingFile(w http.ResponseWriter, r *http.Request, _ string) {
	id, name := realShipmentID(r.PathValue("id")), r.PathValue("name")
	h := s.hostile()
	if name == hostileProofName {
		name = "CERTIF"
	}
	s.mu.Lock()
	var sh *shipmentView
	job := s.index.byShipment[id]
	if job != nil {
		for _, dv := range s.view(job, s.now()).deliveries {
			if dv.rec.ShipmentID == id {
				sh = dv.shipment
			}
		}
	}
	s.mu.Unlock()
	if job == nil {
		writeError(w, http.StatusNotFound, "SHIPMENT_NOT_FOUND", "unknown shipment "+id)
		return
	}
	if sh == nil || !sh.hasFile(name) {
		writeError(w, http.StatusNotFound, "TRACKING_FILE_NOT_FOUND", h.label(fmt.Sprintf("no %s file for shipment %s yet", name, id)))
		return
	}
	if h.serveHostileProof(w, r) {
		return
	}
	switch name {
	case "TRACKING_DETAIL":
		events := []map[string]string{}
		for _, e := range sh.events {
			events = append(events, map[string]string{"date": e.date.UTC().Format(time.RFC3339), "code": e.code, "label": h.label(e.label)})
		}
		writeJSON(w, http.StatusOK, map[string]any{"trackingNumber": h.label(sh.tracking), "carrier": "LaPoste_Fr", "events": events})
	default:
		title := "Preuve de depot"
		when := sh.events[0].date
		if name == "ACKN" {
			title = "Avis de reception"
			when = sh.events[len(sh.events)-1].date
		}
		pdf, err := postpdf.MakePDF(title, "Shipment "+id, "Tracking "+sh.tracking, "Job "+job.ID+" "+job.Name, "Date "+when.UTC().Format(time.RFC3339))
		if err != nil {
			writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
		w.WriteHeader(http.StatusOK)
		w.Write(pdf)
	}
}

func (s *Sandbox) getOptionTypes(w http.ResponseWriter, r *http.Request, _ string) {
	out := []map[string]string{}
	for _, t := range optionTypes {
		out = append(out, map[string]string{"id": t.ID, "name": t.Name})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) getOptions(w http.ResponseWriter, r *http.Request, _ string) {
	out := []map[string]string{}
	for _, o := range optionValues {
		out = append(out, map[string]string{"id": o.ID, "optionTypeId": o.TypeID, "value": o.Value})
	}
	writeJSON(w, http.StatusOK, out)
}
