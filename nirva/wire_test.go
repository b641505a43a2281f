package nirva

import (
	"bytes"
	"strings"
	"testing"
)

func TestDecodeLenient(t *testing.T) {
	j, err := decodeAs(strings.NewReader(`{"jobId": 88412, "jobName": "a", "serviceId": 311, "status": "SOMETHING_NEW",
		"creationDate": 1764150000000, "documentCount": "2", "packGroupCountPerStates": {"ELIGIBLE": "1"}, "extra": [1,2]}`), wireJob.one)
	if err != nil {
		t.Fatal(err)
	}
	if j.ID != "88412" || j.ServiceID != "311" || j.Status != "SOMETHING_NEW" || j.DocumentCount != 2 ||
		j.PackGroupCountPerStates["ELIGIBLE"] != 1 || j.Created.IsZero() {
		t.Fatalf("%+v", j)
	}
	ds, err := decodeAs(strings.NewReader(`[{"deliveryId": 1, "status": "OUTPUTTED", "shipments": [
		{"shipmentId": 2, "status": "-614", "metadata": [{"metadataKind":"TRACKING","metadataType":"SHORT_VALUE","name":"TRACKING","value":123}]},
		{"shipmentId": "3", "status": "LOST_IN_SPACE"},
		{"shipmentId": "4", "status": 600.0}]}]`), list(wireDelivery.delivery))
	if err != nil {
		t.Fatal(err)
	}
	sh := ds[0].Shipments
	if sh[0].StatusCode != -614 || sh[0].TrackingNumber() != "123" || sh[1].StatusLabel != "LOST_IN_SPACE" || sh[2].StatusCode != 600 {
		t.Fatalf("%+v", sh)
	}
	code, msg := decodeError(502, []byte("<html>bad gateway</html>"))
	if code != "" || msg != "<html>bad gateway</html>" {
		t.Fatal(code, msg)
	}
}

var fuzzSeeds = []string{
	`{"jobId":"1","status":"CREATED","packGroupCountPerStates":{"ELIGIBLE":1}}`,
	`[{"deliveryId":9,"shipments":[{"shipmentId":1,"status":"600","metadata":[{"name":"ACKN","value":null}]}]}]`,
	`[{"packGroupId":1,"eligibility":{"eligible":"true","reasons":[1,"x"]},"raw":{"address":[]}}]`,
	`{"trackingNumber":1,"events":[{"date":"2026-11-26T08:10:00Z","code":"DEPOSITED"},{"date":17}]}`,
	`{"token":"x","user":{"id":1},"services":[{"serviceId":311,"boxes":[{"boxId":2201,"type":"main"}]}]}`,
	`null`, `[]`, `{}`, `"x"`, `[null]`, `{"jobId":1e400}`, `{"status":{"a":1}}`,
}

// fuzzAll adds the odd seeds above; realistic answers from the contract
// are the seed corpus in testdata/fuzz/<target>/.
func fuzzAll(f *testing.F, decode func(*testing.T, []byte)) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(decode)
}

func FuzzDecodeJob(f *testing.F) {
	fuzzAll(f, func(t *testing.T, b []byte) {
		if j, err := decodeAs(bytes.NewReader(b), wireJob.one); err == nil && j.ID == "" {
			t.Fatal("a job without an id was accepted")
		}
		decodeAs(bytes.NewReader(b), list(wireJob.job))
	})
}

func FuzzDecodeDeliveries(f *testing.F) {
	fuzzAll(f, func(t *testing.T, b []byte) { decodeAs(bytes.NewReader(b), list(wireDelivery.delivery)) })
}

func FuzzDecodePackGroups(f *testing.F) {
	fuzzAll(f, func(t *testing.T, b []byte) {
		decodeAs(bytes.NewReader(b), list(wirePackGroup.packGroup))
		decodeAs(bytes.NewReader(b), wirePackGroup.one)
	})
}

func FuzzDecodeTrackingDetail(f *testing.F) {
	fuzzAll(f, func(t *testing.T, b []byte) { DecodeTrackingDetail(bytes.NewReader(b)) })
}

func FuzzDecodeProfile(f *testing.F) {
	fuzzAll(f, func(t *testing.T, b []byte) {
		decodeAs(bytes.NewReader(b), wireAuthResponse.session)
		decodeAs(bytes.NewReader(b), list(wireOptionType.optionType))
		decodeAs(bytes.NewReader(b), list(wireOption.option))
		decodeError(500, b)
	})
}

func TestKnownStatuses(t *testing.T) {
	if !KnownJobStatus("PACK_GROUP_CREATED") || KnownJobStatus("SOMETHING_NEW") || KnownJobStatus("") {
		t.Fatal("job statuses")
	}
	if !KnownPackGroupStatus("NOT_ELIGIBLE") || KnownPackGroupStatus("not_eligible") {
		t.Fatal("pack group statuses")
	}
	if !KnownDeliveryStatus("OUTPUTTED") || KnownDeliveryStatus("PAUSED") {
		t.Fatal("delivery statuses")
	}
	if m, ok := ShipmentCodeMeaning(-614); !ok || m != "incorrect address" {
		t.Fatal(m, ok)
	}
	for _, code := range []int{0, 601, -1} {
		if _, ok := ShipmentCodeMeaning(code); ok {
			t.Fatalf("code %d known", code)
		}
	}
	// An unknown value decodes, is kept, and is recognised as unknown.
	j, err := decodeAs(strings.NewReader(`{"jobId":"1","status":"ON_HOLD"}`), wireJob.one)
	if err != nil || j.Status != "ON_HOLD" || KnownJobStatus(j.Status) {
		t.Fatalf("%+v %v", j, err)
	}
}
