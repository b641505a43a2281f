package nirva

import "testing"

// The shipment predicates classify every documented code the way the
// stages and the terminal check have always read them.
func TestShipmentPredicates(t *testing.T) {
	delivered := map[int]bool{610: true, 710: true, 714: true, 715: true}
	for code, meaning := range shipmentCodes {
		if got := ShipmentFailed(code); got != (code < 0) {
			t.Errorf("ShipmentFailed(%d %s) = %v", code, meaning, got)
		}
		if got := ShipmentDelivered(code); got != delivered[code] {
			t.Errorf("ShipmentDelivered(%d %s) = %v", code, meaning, got)
		}
		if got := ShipmentMailed(code); got != (code >= 600) {
			t.Errorf("ShipmentMailed(%d %s) = %v", code, meaning, got)
		}
		if got := ShipmentFinal(code); got != (code < 0 || delivered[code]) {
			t.Errorf("ShipmentFinal(%d %s) = %v", code, meaning, got)
		}
	}
	for _, code := range []int{250, 300, 400, 600, 700} {
		if ShipmentFinal(code) {
			t.Errorf("ShipmentFinal(%d) = true: the shipment can still change", code)
		}
	}
}
