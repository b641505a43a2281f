package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The read and edit routes: jobs, pack groups, deliveries, tracking files,
// options. Each finds its job through the world's index (worldIndex).

func (s *Sandbox) findJob(id string) *jobRecord { return s.index.byID[id] }

// jobsOf is j as a list for lockSettled: none when nil.
func jobsOf(j *jobRecord) []*jobRecord {
	if j == nil {
		return nil
	}
	return []*jobRecord{j}
}

// answerJob answers with what render makes of the job id under the lock,
// or JOB_NOT_FOUND when there is no such job.
func (s *Sandbox) answerJob(w http.ResponseWriter, id string, render func(j *jobRecord, now time.Time) any) {
	var j *jobRecord
	s.lockSettled(func() []*jobRecord { j = s.findJob(id); return jobsOf(j) })
	var body any
	if j != nil {
		body = render(j, s.now())
	}
	s.mu.Unlock()
	if j == nil {
		writeError(w, http.StatusNotFound, "JOB_NOT_FOUND", "unknown job "+id)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Sandbox) getJob(w http.ResponseWriter, r *http.Request, _ string) {
	s.answerJob(w, r.PathValue("id"), func(j *jobRecord, now time.Time) any { return s.jobJSON(j, now) })
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
	jobs := s.lockSettled(func() []*jobRecord {
		if byName {
			return s.index.byName[name[0]]
		}
		return s.world.Jobs // without a name: every job, a tool's call, not a letter's
	})
	now := s.now()
	out := []map[string]any{}
	for i := len(jobs) - 1; i >= 0; i-- { // newest first
		out = append(out, s.jobJSON(jobs[i], now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) getPackGroups(w http.ResponseWriter, r *http.Request, _ string) {
	s.answerJob(w, r.PathValue("id"), func(j *jobRecord, now time.Time) any {
		out := []map[string]any{}
		for _, pv := range s.view(j, now).packGroups {
			out = append(out, pgJSON(pv))
		}
		return out
	})
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
	var j *jobRecord
	s.lockSettled(func() []*jobRecord { j = s.index.byPackGroup[id]; return jobsOf(j) })
	defer s.mu.Unlock()
	now := s.now()
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
	s.answerJob(w, jobID, func(j *jobRecord, now time.Time) any {
		var secrets []string
		if t := s.tokens[tok]; t != nil {
			secrets = []string{t.password, tok}
		}
		out := []map[string]any{}
		for _, dv := range s.view(j, now).deliveries {
			out = append(out, deliveryJSON(j, dv, h, secrets))
		}
		return out
	})
}

func (s *Sandbox) getTrackingFile(w http.ResponseWriter, r *http.Request, _ string) {
	id, name := realShipmentID(r.PathValue("id")), r.PathValue("name")
	h := s.hostile()
	if name == hostileProofName {
		name = "CERTIF"
	}
	var job *jobRecord
	s.lockSettled(func() []*jobRecord { job = s.index.byShipment[id]; return jobsOf(job) })
	var sh *shipmentView
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
	if name == "TRACKING_DETAIL" {
		writeJSON(w, http.StatusOK, trackingDetailJSON(sh, h))
		return
	}
	pdf, err := proofPDF(job, sh, name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	w.Write(pdf)
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
