package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// POST /jobs, in the platform's order: read the upload, check the
// parameters against the catalogue, store the job and its files durably,
// then answer (or misbehave, as the faults say). The files are processed
// later, when an answer first needs it (process.go).

const maxFileSize = 20 << 20

var fileField = []*regexp.Regexp{
	regexp.MustCompile(`^file__file_([0-9A-Za-z]+)_(\d+)$`),
	regexp.MustCompile(`^file_file__([0-9A-Za-z]+)_(\d+)$`),
	regexp.MustCompile(`^file_main([0-9A-Za-z]+)_(\d+)$`),
}

type uploaded struct {
	box   string
	n     int
	field string
	index int // among the request's files, in the order uploaded
	data  []byte
}

// refusal is a 4xx answer to POST /jobs: nothing was created.
type refusal struct {
	status    int
	code, msg string
}

func refuse(status int, code, msg string) *refusal { return &refusal{status, code, msg} }

func (s *Sandbox) createJob(w http.ResponseWriter, r *http.Request, tok string) {
	params, files, ref := readUpload(r)
	var req *jobRequest
	if ref == nil {
		req, ref = parseJobRequest(params, files)
	}
	if ref != nil {
		writeError(w, ref.status, ref.code, ref.msg)
		return
	}
	job := &jobRecord{
		Name: req.name, ServiceID: req.svc.ID, OwnerID: req.ownerID, Options: req.opts, Documents: len(req.mainFiles),
		Pending: newPendingUpload(req),
	}
	body, err := s.store(job, req, tok)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	s.answerCreated(w, r, job, body)
}

// readUpload reads the multipart body: the parameters part and the files,
// noting the field names in the request's record.
func readUpload(r *http.Request) (params []byte, files []uploaded, ref *refusal) {
	rec := requestRecord(r)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "BAD_REQUEST", "expected multipart/form-data")
	}
	malformed := refuse(http.StatusBadRequest, "BAD_REQUEST", "malformed multipart body")
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, malformed
		}
		name := part.FormName()
		rec.Fields = append(rec.Fields, name)
		if name == "parameters" {
			if params, err = io.ReadAll(io.LimitReader(part, 1<<20)); err != nil {
				return nil, nil, malformed
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
				return nil, nil, malformed
			}
			if len(data) > maxFileSize {
				return nil, nil, refuse(http.StatusRequestEntityTooLarge, "FILE_TOO_LARGE", fmt.Sprintf("file %s exceeds %d MiB", name, maxFileSize>>20))
			}
			files = append(files, uploaded{box: m[1], n: n, field: name, index: len(files), data: data})
			break
		}
	}
	if params == nil {
		return nil, nil, refuse(http.StatusBadRequest, "MISSING_PARAMETERS", "the parameters part is missing")
	}
	return params, files, nil
}

// jobRequest is a POST /jobs the catalogue accepts.
type jobRequest struct {
	name, ownerID string
	svc           serviceDef
	opts          []optionChoice
	printMode     string
	files         []uploaded
	mainFiles     []uploaded // the MAIN box's, in their order
}

// parseJobRequest checks the parameters against the service, option and
// box catalogue.
func parseJobRequest(params []byte, files []uploaded) (*jobRequest, *refusal) {
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
		return nil, refuse(http.StatusBadRequest, "INVALID_PARAMETERS", "parameters is not valid JSON: "+err.Error())
	}
	if strings.TrimSpace(p.JobName) == "" {
		return nil, refuse(http.StatusBadRequest, "INVALID_PARAMETERS", "jobName is required")
	}
	svc, ok := findService(rawID(p.ServiceID))
	if !ok {
		return nil, refuse(http.StatusBadRequest, "UNKNOWN_SERVICE", fmt.Sprintf("unknown serviceId %q", rawID(p.ServiceID)))
	}
	req := &jobRequest{name: p.JobName, ownerID: rawID(p.TargetOwnerID), svc: svc, printMode: "1SIDE", files: files}
	for _, o := range p.Options {
		c := optionChoice{TypeID: rawID(o.OptionTypeID), OptionID: rawID(o.OptionID)}
		valid := false
		for _, ov := range optionValues {
			if ov.ID == c.OptionID && ov.TypeID == c.TypeID {
				valid = true
			}
		}
		if !valid {
			return nil, refuse(http.StatusBadRequest, "UNKNOWN_OPTION", fmt.Sprintf("unknown option %s/%s", c.TypeID, c.OptionID))
		}
		req.opts = append(req.opts, c)
	}
	for _, o := range req.opts {
		for _, ov := range optionValues {
			if ov.ID == o.OptionID && ov.TypeID == "12" {
				req.printMode = ov.Value
			}
		}
	}
	boxType := map[string]string{}
	for _, b := range svc.Boxes {
		boxType[b.ID] = b.Type
	}
	for _, f := range files {
		t, ok := boxType[f.box]
		if !ok {
			return nil, refuse(http.StatusBadRequest, "UNKNOWN_BOX", fmt.Sprintf("field %s: box %s is not a box of service %s", f.field, f.box, svc.ID))
		}
		if t == "MAIN" {
			req.mainFiles = append(req.mainFiles, f)
		}
	}
	if len(req.mainFiles) == 0 {
		return nil, refuse(http.StatusBadRequest, "MISSING_FILE", fmt.Sprintf("no file for the MAIN box of service %s (expected field file__file_%s_0)", svc.ID, svc.Boxes[0].ID))
	}
	sort.SliceStable(req.mainFiles, func(a, b int) bool { return req.mainFiles[a].n < req.mainFiles[b].n })
	return req, nil
}

// store adds the job to the world and returns its answer once the job is
// durable.
func (s *Sandbox) store(job *jobRecord, req *jobRequest, tok string) (map[string]any, error) {
	s.mu.Lock()
	job.Login = s.tokens[tok].loginOr("")
	job.Created = s.now()
	s.addJobLocked(job, req.svc, req.printMode)
	seq, err := s.recordLocked(job)
	body := s.jobJSON(job, s.now())
	s.mu.Unlock()
	if err == nil {
		err = s.syncLog(seq)
	}
	return body, err
}

// answerCreated answers for a created job, unless a fault says to drop the
// connection, hang, lie about the id or refuse after the fact.
func (s *Sandbox) answerCreated(w http.ResponseWriter, r *http.Request, job *jobRecord, body map[string]any) {
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
		rec := requestRecord(r)
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
		raw := map[string]any{"printMode": printMode}
		if ch == "EMAIL" {
			raw["email"] = "recipient@example.com"
		}
		job.PackGroups = append(job.PackGroups, &packGroupRec{ID: next(), Channel: ch, Raw: raw})
	}
	if job.Pending == nil {
		job.fillAddresses() // the address is known (a seeded job)
	}
	for _, ch := range svc.Channels {
		d := &deliveryRecord{ID: next(), Channel: ch}
		d.ShipmentID = next()
		job.Deliveries = append(job.Deliveries, d)
	}
	s.world.Jobs = append(s.world.Jobs, job)
	s.index.add(job)
	s.pending.add(job)
	s.kickLocked()
}

func addressAny(lines []string) []any {
	out := make([]any, 0, len(lines))
	for _, l := range lines {
		out = append(out, l)
	}
	return out
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
