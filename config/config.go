// Package config loads a working directory's *.mail.hcl files and evaluates
// them into fully known mailings, each with a content hash.
//
// Everything a user wrote that is wrong comes back as hcl.Diagnostics with a
// source range, never as a bare error string.
package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/postform/postform/pdf"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Config is an evaluated working directory.
type Config struct {
	// Dir is the absolute path of the working directory.
	Dir string
	// Files holds the parsed sources by file name, for rendering diagnostics.
	Files map[string]*hcl.File

	RequiredVersion string
	Backend         Backend
	Provider        Provider
	// Mailings are every mailing instance, sorted by address.
	Mailings []*Mailing
	Outputs  []*Output
	// Variables are the declared variables with their final values.
	Variables map[string]*Variable
	// Review is the postform.review block: how plans show letters.
	Review Review
	// Limits are the postform block's guard rails: max_posts, max_cost
	// and pricing (limits.go).
	Limits Limits

	// What EvalOutputs needs to evaluate outputs after a refresh.
	varVals   map[string]cty.Value
	localVals map[string]cty.Value
	funcs     map[string]function.Function
	// forEach tells, for each mailing block name, whether it has for_each.
	forEach map[string]bool
}

// Review is the postform.review block.
type Review struct {
	// Recipients is how views show recipient addresses by default: "full"
	// (the default), "masked" (initials and the locality line) or "hidden".
	Recipients string
}

// Backend is the postform.backend block.
type Backend struct {
	Type string // "local" (default) or "pg"
	// Attrs are the block's string attributes (path, conn_str, schema_name).
	Attrs     map[string]string
	DeclRange hcl.Range
}

// Provider is the provider "nirva" block.
type Provider struct {
	// Endpoint is the API base URL, or "sandbox" for the built-in simulator.
	Endpoint string
	Login    string
	// Password is a secret: never printed, never stored.
	Password string
	// Deferred names the credentials (login, password) an offline load
	// left unevaluated: their variables have no value, and a run that
	// calls the platform must be given them.
	Deferred             []string
	MaxRequestsPerSecond float64
	// ProofsDir is where proofs land, relative to Dir ("proofs" by default).
	ProofsDir string
	// MaxFileSize is the PDF size limit in bytes (20 MiB by default).
	MaxFileSize int64
	// MaxProofSize bounds one downloaded proof, in bytes (50 MiB by default).
	MaxProofSize int64
	// Insecure allows plain http to an endpoint that is not loopback.
	Insecure bool
	// Window is the address window of every mailing that sets none
	// (address_window; pdf.DefaultWindow when unset).
	Window pdf.Window
	// IdleTimeout and RequestTimeout bound each call to the platform
	// (idle_timeout, request_timeout; 0 = the client's defaults).
	IdleTimeout, RequestTimeout time.Duration
	DeclRange                   hcl.Range
}

// Mailing is one letter: one job to post.
type Mailing struct {
	// Address is the stable address, e.g. mailing.reminder["acme"].
	Address string
	// Name is the block label, Key the for_each key ("" without for_each).
	Name   string
	Key    string
	HasKey bool

	Service   string
	JobName   string
	Documents []*Document
	// Options are channel options by type name, e.g. printMode = "2SIDE".
	// Options and Proofs may be shared by the letters of one Load that set
	// none: never change them in place, or one letter's data reaches
	// others; replace them.
	Options map[string]string
	// Owner is the targetOwnerId ("" for none).
	Owner  string
	Proofs []string
	// Fix holds the raw values to write into a NOT_ELIGIBLE pack group.
	Fix map[string]any
	// Schedule is send_after and post_by (schedule.go); not part of the
	// content hash: when a letter goes out does not make it another letter.
	Schedule Schedule

	// ContentHash identifies "the same letter" across runs: service, each
	// document's box and sha256, options and owner.
	ContentHash string
	// Window is the effective address window: the mailing's address_window,
	// else the provider's, else pdf.DefaultWindow.
	Window pdf.Window
	// AddressCheck says whether the recipient was read: "read" (the window of
	// the MAIN-box document was read), "skipped" (preflight = { address =
	// false }), or "" (no MAIN-box document was read, e.g. no PDF engine).
	AddressCheck string
	// AddressProblems are the preflight findings of this mailing's recipient
	// reading (errors). They are not in Load's diagnostics: reconcile adds
	// them only for letters a plan would post, and validate reports them all.
	AddressProblems hcl.Diagnostics

	// DeclRange is the mailing block's header, for diagnostics.
	DeclRange hcl.Range
}

// Recipient is who a letter goes to, as read from page 1's address window.
type Recipient struct {
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode,omitempty"`
	City     string   `json:"city,omitempty"`
	Country  string   `json:"country,omitempty"`
}

// Document is one PDF of a mailing.
type Document struct {
	// Box is the box name as written ("" = the service's MAIN box).
	Box string
	// File is the path as written (relative to Dir); Path is absolute.
	File   string
	Path   string
	SHA256 string
	Size   int64
	Pages  int
	// RealPath is where symbolic links on Path lead, when that is another
	// file: relative to Dir inside it, else absolute. "" when Path is it.
	RealPath string
	// Recipient is who the letter goes to, read from the address window of
	// page RecipientPage. nil when the document is not in the service's MAIN
	// box or the reading was skipped.
	Recipient     *Recipient
	RecipientPage int
	// Letter is set when postform renders this document from a letter
	// block (config/letter.go); File is then .postform/rendered/<sha256>.pdf.
	Letter *Letter
	// DeclRange is the document block, for diagnostics.
	DeclRange hcl.Range
}

// Letter is what the plan shows of a rendered letter besides its recipient.
type Letter struct {
	Subject string
	// Source is letter.SourceHash: its inputs, whatever postform renders
	// them into (Mailing.InputHash, config/letter.go).
	Source string
}

// Output is an output block; its value may refer to state-backed mailing
// attributes, so it is evaluated after a refresh by EvalOutputs.
type Output struct {
	Name        string
	Description string
	Sensitive   bool
	Expr        hcl.Expression
	DeclRange   hcl.Range
}

// Variable is a declared input variable and its final value.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	Value       cty.Value
	DeclRange   hcl.Range
}
