package cli

import (
	"testing"
	"time"

	"github.com/postform/postform/state"
)

// Carriers date events to the second: on a tie the later event wins.
func TestLastEventTieGoesToTheLaterEvent(t *testing.T) {
	at := time.Date(2026, 11, 26, 8, 10, 0, 0, time.UTC)
	m := &state.Mailing{Deliveries: []state.Delivery{{Shipments: []state.Shipment{{Events: []state.TrackingEvent{
		{Date: at, Code: "DEPOSITED"}, {Date: at, Code: "DELIVERED"},
	}}}}}}
	if got := lastEvent(m); got != "2026-11-26 DELIVERED" {
		t.Fatalf("lastEvent = %q", got)
	}
}
