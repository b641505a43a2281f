package sandbox

import (
	"time"

	postpdf "github.com/postform/postform/pdf"
)

// The JSON (and proof PDF) a job, pack group, delivery or tracking file is
// answered with, computed from its view at one instant.

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

// deliveryJSON is one delivery of job j with its shipment, once made;
// secrets are what Hostile.EchoSecrets may echo in a label.
func deliveryJSON(j *jobRecord, dv deliveryView, h Hostile, secrets []string) map[string]any {
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
	return map[string]any{"deliveryId": dv.rec.ID, "jobId": j.ID, "channel": dv.rec.Channel, "status": dv.status, "shipments": shipments}
}

// trackingDetailJSON is a shipment's TRACKING_DETAIL file.
func trackingDetailJSON(sh *shipmentView, h Hostile) map[string]any {
	events := []map[string]string{}
	for _, e := range sh.events {
		events = append(events, map[string]string{"date": e.date.UTC().Format(time.RFC3339), "code": e.code, "label": h.label(e.label)})
	}
	return map[string]any{"trackingNumber": h.label(sh.tracking), "carrier": "LaPoste_Fr", "events": events}
}

// proofPDF is a shipment's CERTIF (deposit) or ACKN (receipt) file:
// byte-stable, since proofs are hashed into state.
func proofPDF(job *jobRecord, sh *shipmentView, name string) ([]byte, error) {
	title := "Preuve de depot"
	when := sh.events[0].date
	if name == "ACKN" {
		title = "Avis de reception"
		when = sh.events[len(sh.events)-1].date
	}
	return postpdf.MakePDF(title, "Shipment "+sh.id, "Tracking "+sh.tracking, "Job "+job.ID+" "+job.Name, "Date "+when.UTC().Format(time.RFC3339))
}
