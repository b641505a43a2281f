package nirva

// Status values of the contract (docs/nirva-api.md). The client
// keeps any other value verbatim; the Known functions let callers report a
// value the contract does not list instead of guessing what it means.

// Job statuses.
const (
	JobReceived         = "RECEIVED"
	JobProcessing       = "PROCESSING"
	JobPackGroupCreated = "PACK_GROUP_CREATED"
	JobCreated          = "CREATED"
	JobProcessingError  = "PROCESSING_ERROR"
)

// Pack group statuses.
const (
	PackGroupEligible    = "ELIGIBLE"
	PackGroupNotEligible = "NOT_ELIGIBLE"
	PackGroupSent        = "SENT"
)

// Delivery statuses.
const (
	DeliveryCreated    = "CREATED"
	DeliveryProcessing = "PROCESSING"
	DeliveryOutputted  = "OUTPUTTED"
	DeliveryError      = "ERROR"
)

// shipmentCodes are the provider's documented shipment status codes.
var shipmentCodes = map[int]string{
	250: "being created", 300: "ready", 400: "in production", 600: "mailed", 610: "delivered",
	700: "sent", 710: "received", 714: "signed", 715: "opened",
	-610: "not delivered", -611: "not claimed", -612: "refused by recipient", -613: "incorrect recipient",
	-614: "incorrect address", -700: "shipment error", -900: "canceled", -910: "canceled after printing",
}

// KnownJobStatus reports whether s is a job status of the contract.
func KnownJobStatus(s string) bool {
	switch s {
	case JobReceived, JobProcessing, JobPackGroupCreated, JobCreated, JobProcessingError:
		return true
	}
	return false
}

// KnownPackGroupStatus reports whether s is a pack group status of the
// contract.
func KnownPackGroupStatus(s string) bool {
	return s == PackGroupEligible || s == PackGroupNotEligible || s == PackGroupSent
}

// KnownDeliveryStatus reports whether s is a delivery status of the
// contract.
func KnownDeliveryStatus(s string) bool {
	switch s {
	case DeliveryCreated, DeliveryProcessing, DeliveryOutputted, DeliveryError:
		return true
	}
	return false
}

// ShipmentFailed reports a failed shipment: every negative code (not
// delivered, refused, canceled, ...) is final and no proof of receipt
// follows it.
func ShipmentFailed(code int) bool { return code < 0 }

// ShipmentDelivered reports a final positive shipment code: delivered
// (610), received (710), signed (714) or opened (715).
func ShipmentDelivered(code int) bool {
	switch code {
	case 610, 710, 714, 715:
		return true
	}
	return false
}

// ShipmentMailed reports a code at or past mailing (600 and up): the letter
// has left the printer, delivered or not.
func ShipmentMailed(code int) bool { return code >= 600 }

// ShipmentFinal reports a shipment code after which nothing changes.
func ShipmentFinal(code int) bool { return ShipmentFailed(code) || ShipmentDelivered(code) }

// ShipmentCodeMeaning returns the documented meaning of a shipment status
// code; ok is false for a code the contract does not list (including 0,
// which a non-numeric status decodes to: its text is then in StatusLabel).
func ShipmentCodeMeaning(code int) (meaning string, ok bool) {
	m, ok := shipmentCodes[code]
	return m, ok
}
