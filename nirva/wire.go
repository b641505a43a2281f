package nirva

// Every wire name of the Nirva API lives in this file: URL paths, query
// parameters, headers, multipart field names and JSON field names. Most of
// them are inferred (see docs/nirva-api.md); correcting one against
// the live service is a one-line change here.
//
// How values are read leniently is in flex.go; how wire structs become the
// package's types, in decode.go.

import (
	"fmt"
	"net/url"
)

// Header carrying the session token.
const headerToken = "X-Auth-Token"

// URL paths and query parameters.
const (
	pathAuthenticate = "/authentication/authenticate"
	pathLogout       = "/authentication/logout"
	pathJobs         = "/jobs"
	pathDeliveries   = "/deliveries"
	pathOptionTypes  = "/options/type"
	pathOptions      = "/options"

	queryJobName = "jobName"
	queryJobID   = "jobId"
)

func pathJob(jobID string) string { return "/jobs/" + url.PathEscape(jobID) }

func pathPackGroups(jobID string) string { return "/jobs/" + url.PathEscape(jobID) + "/packGroups" }

func pathEditPackGroup(packGroupID string) string {
	return "/packGroups/" + url.PathEscape(packGroupID) + "/edit"
}

func pathTrackingFile(shipmentID, name string) string {
	return "/shipments/" + url.PathEscape(shipmentID) + "/trackingFile/" + url.PathEscape(name)
}

// Multipart parts of POST /jobs.
const partParameters = "parameters"

// fileFieldName is the multipart field of the n-th file (from 0) of a box.
func fileFieldName(boxID string, n int) string {
	return fmt.Sprintf("file__file_%s_%d", boxID, n)
}

// --- requests ---------------------------------------------------------------

type wireAuthRequest struct {
	Login             string `json:"login"`
	Password          string `json:"password"`
	WithProfileDetail bool   `json:"withProfileDetail"`
}

type wireJobParameters struct {
	JobName                   string          `json:"jobName"`
	ServiceID                 string          `json:"serviceId"`
	AutocreateDeliveryCommand bool            `json:"autocreateDeliveryCommand"`
	TargetOwnerID             string          `json:"targetOwnerId,omitempty"`
	Options                   []wireOptionRef `json:"options,omitempty"`
}

type wireOptionRef struct {
	OptionTypeID string `json:"optionTypeId"`
	OptionID     string `json:"optionId"`
}

type wireEditPackGroup struct {
	Raw map[string]any `json:"raw"`
}

// --- responses --------------------------------------------------------------

type wireAuthResponse struct {
	Token    flexString    `json:"token"`
	User     wireUser      `json:"user"`
	Services []wireService `json:"services"`
}

type wireUser struct {
	ID    flexString `json:"id"`
	Login flexString `json:"login"`
}

type wireService struct {
	ServiceID flexString   `json:"serviceId"`
	ID        flexString   `json:"id"` // tolerated alternative spelling
	Name      flexString   `json:"name"`
	Channels  []flexString `json:"channels"`
	Boxes     []wireBox    `json:"boxes"`
}

type wireBox struct {
	BoxID flexString `json:"boxId"`
	ID    flexString `json:"id"` // tolerated alternative spelling
	Name  flexString `json:"name"`
	Type  flexString `json:"type"`
}

type wireJob struct {
	JobID                   flexString         `json:"jobId"`
	ID                      flexString         `json:"id"` // tolerated alternative spelling
	JobName                 flexString         `json:"jobName"`
	ServiceID               flexString         `json:"serviceId"`
	Status                  flexString         `json:"status"`
	CreationDate            flexTime           `json:"creationDate"`
	DocumentCount           flexInt            `json:"documentCount"`
	PackGroupCountPerStates map[string]flexInt `json:"packGroupCountPerStates"`
}

type wirePackGroup struct {
	PackGroupID flexString      `json:"packGroupId"`
	ID          flexString      `json:"id"` // tolerated alternative spelling
	Channel     flexString      `json:"channel"`
	Status      flexString      `json:"status"`
	Eligibility wireEligibility `json:"eligibility"`
	Raw         map[string]any  `json:"raw"`
}

type wireEligibility struct {
	Eligible flexBool     `json:"eligible"`
	Reasons  []flexString `json:"reasons"`
}

type wireDelivery struct {
	DeliveryID flexString     `json:"deliveryId"`
	ID         flexString     `json:"id"` // tolerated alternative spelling
	JobID      flexString     `json:"jobId"`
	Channel    flexString     `json:"channel"`
	Status     flexString     `json:"status"`
	Shipments  []wireShipment `json:"shipments"`
}

type wireShipment struct {
	ShipmentID  flexString     `json:"shipmentId"`
	ID          flexString     `json:"id"` // tolerated alternative spelling
	Status      flexString     `json:"status"`
	StatusLabel flexString     `json:"statusLabel"`
	Metadata    []wireMetadata `json:"metadata"`
}

type wireMetadata struct {
	Kind  flexString `json:"metadataKind"`
	Type  flexString `json:"metadataType"`
	Name  flexString `json:"name"`
	Value flexString `json:"value"`
}

type wireTrackingDetail struct {
	TrackingNumber flexString          `json:"trackingNumber"`
	Carrier        flexString          `json:"carrier"`
	Events         []wireTrackingEvent `json:"events"`
}

type wireTrackingEvent struct {
	Date  flexTime   `json:"date"`
	Code  flexString `json:"code"`
	Label flexString `json:"label"`
}

type wireOptionType struct {
	ID   flexString `json:"id"`
	Name flexString `json:"name"`
}

type wireOption struct {
	ID           flexString `json:"id"`
	OptionTypeID flexString `json:"optionTypeId"`
	Value        flexString `json:"value"`
}

type wireError struct {
	Code    flexString `json:"code"`
	Message flexString `json:"message"`
}
