package config

import "github.com/postform/postform/internal/diag"

// Forwarding declarations while callers move to internal/diag; this file
// goes once none is left.
const (
	CodeInternal            = diag.CodeInternal
	CodeSyntax              = diag.CodeSyntax
	CodeUnsupported         = diag.CodeUnsupported
	CodeWrongType           = diag.CodeWrongType
	CodeMissingArgument     = diag.CodeMissingArgument
	CodeDuplicate           = diag.CodeDuplicate
	CodeInvalidValue        = diag.CodeInvalidValue
	CodeUnsupportedVersion  = diag.CodeUnsupportedVersion
	CodeMissingVariable     = diag.CodeMissingVariable
	CodeVariableValidation  = diag.CodeVariableValidation
	CodeUnknownVariable     = diag.CodeUnknownVariable
	CodeInvalidVariableFlag = diag.CodeInvalidVariableFlag
	CodeUnknownFunction     = diag.CodeUnknownFunction
	CodeBadReference        = diag.CodeBadReference
	CodeFunctionError       = diag.CodeFunctionError
	CodeCycle               = diag.CodeCycle
	CodeInvalidExpression   = diag.CodeInvalidExpression
	CodeInvalidEndpoint     = diag.CodeInvalidEndpoint
	CodeInsecureEndpoint    = diag.CodeInsecureEndpoint
	CodeDuplicateJobName    = diag.CodeDuplicateJobName
	CodeMissingFile         = diag.CodeMissingFile
	CodeNotPDF              = diag.CodeNotPDF
	CodeEncryptedPDF        = diag.CodeEncryptedPDF
	CodeEmptyPDF            = diag.CodeEmptyPDF
	CodePDFTooLarge         = diag.CodePDFTooLarge
	CodePageSize            = diag.CodePageSize
	CodeBrokenPDF           = diag.CodeBrokenPDF
	CodeBadForEach          = diag.CodeBadForEach
	CodeNoDocument          = diag.CodeNoDocument
	CodeInvalidJobName      = diag.CodeInvalidJobName
	CodeConfusableJobName   = diag.CodeConfusableJobName
	CodeJobNameSpaces       = diag.CodeJobNameSpaces
	CodeDocumentOutside     = diag.CodeDocumentOutside
	CodeEmptyWindow         = diag.CodeEmptyWindow
	CodeNoLocality          = diag.CodeNoLocality
	CodeCrossingWindow      = diag.CodeCrossingWindow
	CodeUnreadableAddress   = diag.CodeUnreadableAddress
	CodeSharedPDF           = diag.CodeSharedPDF
	CodeSameRecipient       = diag.CodeSameRecipient
	CodeLetterLocality      = diag.CodeLetterLocality
	CodeLetterAddressLength = diag.CodeLetterAddressLength
	CodeLetterGlyph         = diag.CodeLetterGlyph
	CodeLetterFile          = diag.CodeLetterFile
	CodeLetterRender        = diag.CodeLetterRender
	CodeBlockedChange       = diag.CodeBlockedChange
	CodeUnknownSvc          = diag.CodeUnknownSvc
	CodeNotEligible         = diag.CodeNotEligible
	CodePendingJob          = diag.CodePendingJob
	CodeJobFailed           = diag.CodeJobFailed
	CodeMovedLetter         = diag.CodeMovedLetter
	CodeUnknownOption       = diag.CodeUnknownOption
	CodeTooManyPosts        = diag.CodeTooManyPosts
	CodeNoMatch             = diag.CodeNoMatch
	CodePastDeadline        = diag.CodePastDeadline
	CodeOverBudget          = diag.CodeOverBudget
	CodeNoPrice             = diag.CodeNoPrice
)

var (
	NewDiag  = diag.NewDiag
	DiagCode = diag.Code
)
