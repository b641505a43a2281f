// Package diag holds postform's stable diagnostic codes and the way a code
// rides on an hcl.Diagnostic. Users search for the codes and CI matches them,
// so a code, once published, keeps its meaning; this is the one list for the
// whole program (docs/json-format.md publishes it).
//
// A code is always given explicitly, by the code that found the problem,
// never derived from a diagnostic's text: HCL's wording may change between
// versions, a published code may not.
package diag

import "github.com/hashicorp/hcl/v2"

// The codes. PF0xx are language errors, PF1xx are mailing and document
// errors found while loading, PF2xx belong to the engine (reconcile).
const (
	CodeInternal            = "PF000" // a bug in postform: a recovered panic
	CodeSyntax              = "PF001" // the file is not valid HCL
	CodeUnsupported         = "PF002" // unknown block type, attribute or label
	CodeWrongType           = "PF003" // a value of the wrong type
	CodeMissingArgument     = "PF004" // a required attribute or block is missing
	CodeDuplicate           = "PF005" // a block or attribute declared twice
	CodeInvalidValue        = "PF006" // a value of the right type that is not allowed
	CodeUnsupportedVersion  = "PF007" // required_version does not match this postform
	CodeMissingVariable     = "PF010" // a required variable has no value
	CodeVariableValidation  = "PF011" // a variable's validation rule failed
	CodeUnknownVariable     = "PF012" // a value was given for an undeclared variable
	CodeInvalidVariableFlag = "PF013" // a --var flag or POSTFORM_VAR_ value cannot be read
	CodeUnknownFunction     = "PF020" // call to an unknown function
	CodeBadReference        = "PF021" // reference to something that does not exist
	CodeFunctionError       = "PF022" // a function call failed
	CodeCycle               = "PF023" // local values refer to each other in a cycle
	CodeInvalidExpression   = "PF024" // any other expression evaluation error
	CodeInvalidEndpoint     = "PF030" // the provider endpoint is not a usable base URL
	CodeInsecureEndpoint    = "PF031" // plain http to a host that is not loopback (a warning with insecure = true)

	CodeDuplicateJobName = "PF101" // two mailings share a job name
	CodeMissingFile      = "PF102" // a document file does not exist
	CodeNotPDF           = "PF103" // a document file is not a PDF
	CodeEncryptedPDF     = "PF104" // a document PDF is encrypted
	CodeEmptyPDF         = "PF105" // a document PDF has no pages
	CodePDFTooLarge      = "PF106" // a document PDF is larger than max_file_size
	CodePageSize         = "PF107" // a page is not A4 (warning)
	CodeBrokenPDF        = "PF108" // a document PDF cannot be parsed
	CodeBadForEach       = "PF110" // for_each is not a map or a set of strings
	CodeNoDocument       = "PF111" // a mailing has no document block
	CodeInvalidJobName   = "PF112" // a job name is empty or too long

	// Names and links that can mislead a reviewer or the platform.
	CodeConfusableJobName = "PF114" // two job names equal once case and surrounding spaces are folded (warning)
	CodeJobNameSpaces     = "PF115" // a job name starts or ends with white space (warning)
	CodeDocumentOutside   = "PF116" // a document is a symbolic link leaving the working directory

	// The recipient read from page 1's address window (preflight: errors
	// for a letter a plan would post; preflight = { address = false } opts out).
	CodeEmptyWindow       = "PF117" // the address window holds no text
	CodeNoLocality        = "PF118" // the address ends with no postcode and city, nor a country
	CodeCrossingWindow    = "PF119" // an address line runs past the window's edge
	CodeUnreadableAddress = "PF120" // the window's text cannot be read (unmapped glyphs, unreadable PDF)
	// Mail-merge mistakes among the letters of one plan (warnings).
	CodeSharedPDF     = "PF121" // several letters post one PDF, byte for byte
	CodeSameRecipient = "PF122" // one recipient receives several letters
	// Letters postform renders from a letter block (config/letter.go).
	CodeLetterLocality      = "PF123" // the recipient has no postcode (five digits in France) or no city
	CodeLetterAddressLength = "PF124" // the address has too many lines, a line over 38 characters, or does not fit the window
	CodeLetterGlyph         = "PF125" // a character the letter's font cannot draw
	CodeLetterFile          = "PF126" // an attachment that is not a PDF, a logo that is not a PNG or JPEG
	CodeLetterRender        = "PF127" // rendering failed, or .postform/rendered cannot be written

	CodeBlockedChange = "PF201" // a posted letter's content changed
	CodeUnknownSvc    = "PF202" // the service is not in the account's profile
	CodeNotEligible   = "PF203" // a pack group is NOT_ELIGIBLE and there is no fix
	CodePendingJob    = "PF204" // a pending mailing could not be resolved
	CodeJobFailed     = "PF205" // the platform could not process the documents
	CodeMovedLetter   = "PF206" // a new address holds a letter posted under another
	CodeUnknownOption = "PF207" // an option name or value the platform does not offer

	// Guard rails for real money: what a plan must stay within.
	CodeTooManyPosts = "PF220" // the plan posts more letters than max_posts / --max-posts allows
	CodeNoMatch      = "PF221" // a --target or --exclude matches no address
	CodePastDeadline = "PF222" // a letter is unposted past its post_by, or scheduled after it
	CodeOverBudget   = "PF223" // the estimated postage is over max_cost
	CodeNoPrice      = "PF224" // the pricing has no price for a service the plan posts
)

// codeExtra carries a diagnostic's code in hcl.Diagnostic.Extra, wrapping
// whatever extra information HCL itself attached (hcl.DiagnosticExtra
// still finds it through UnwrapDiagnosticExtra).
type codeExtra struct {
	code    string
	wrapped any
}

func (e codeExtra) UnwrapDiagnosticExtra() any { return e.wrapped }

// NewDiag returns a diagnostic carrying a stable code.
func NewDiag(code string, sev hcl.DiagnosticSeverity, summary, detail string, subject *hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: sev,
		Summary:  summary,
		Detail:   detail,
		Subject:  subject,
		Extra:    codeExtra{code: code},
	}
}

// SetCode gives d a code, keeping the extra information HCL attached.
// A code d already has is replaced.
func SetCode(d *hcl.Diagnostic, code string) {
	if e, ok := d.Extra.(codeExtra); ok {
		d.Extra = codeExtra{code: code, wrapped: e.wrapped}
		return
	}
	d.Extra = codeExtra{code: code, wrapped: d.Extra}
}

// Code returns d's stable code, or "" when it has none.
func Code(d *hcl.Diagnostic) string {
	if d == nil {
		return ""
	}
	if e, ok := hcl.DiagnosticExtra[codeExtra](d); ok {
		return e.code
	}
	return ""
}
