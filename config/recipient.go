package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/text/cases"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/pdf"
)

// Address checks of a mailing (Mailing.AddressCheck).
const (
	AddressRead    = "read"    // page 1's address window was read
	AddressSkipped = "skipped" // preflight = { address = false }
)

// Review recipients modes (postform { review { recipients = … } }).
const (
	RecipientsFull   = "full"
	RecipientsMasked = "masked"
	RecipientsHidden = "hidden"
)

// RecipientCache remembers what the address window of a PDF holds, by the
// PDF's sha256 and the window, so that an unchanged letter is never read
// again (and the PDF engine never started when every letter is known).
// Load calls it from one goroutine only.
type RecipientCache interface {
	LookupRecipient(sha256 string, w pdf.Window) (*pdf.Recipient, bool)
	StoreRecipient(sha256 string, w pdf.Window, r *pdf.Recipient)
}

var reviewSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "recipients"}}}

// decodeReview reads postform { review { recipients = "masked" } }.
func (l *loader) decodeReview() {
	l.cfg.Review = Review{Recipients: RecipientsFull}
	content := l.postformContent()
	if content == nil {
		return
	}
	b := l.postformBlock(content, "review", "A review block was already declared at %s.")
	if b == nil {
		return
	}
	rc, diags := decodeBody(b.Body, reviewSchema)
	l.add(diags...)
	v, set := l.stringAttr(rc.Attributes, "recipients", l.baseScope("the review block"), RecipientsFull)
	if !set {
		return
	}
	switch v {
	case RecipientsFull, RecipientsMasked, RecipientsHidden:
		l.cfg.Review.Recipients = v
	default:
		l.add(errorf(diag.CodeInvalidValue, rc.Attributes["recipients"].Expr.Range().Ptr(), "Invalid review recipients",
			fmt.Sprintf("recipients is %q; it says how plans show recipient addresses: \"full\", \"masked\" (initials and the locality line) or \"hidden\".", v)))
	}
}

var windowKeys = []string{"left_mm", "top_mm", "width_mm", "height_mm"}

// windowAttr evaluates address_window = { left_mm, top_mm, width_mm,
// height_mm }: all four, in millimetres from the page's top-left corner.
func (l *loader) windowAttr(a *hcl.Attribute, s *scope, where string) (pdf.Window, bool) {
	v, diags := l.evalShared(a.Expr, s, cty.DynamicPseudoType, func() string { return "the \"address_window\" argument of " + where })
	l.add(diags...)
	if diags.HasErrors() || v.IsNull() {
		return pdf.Window{}, false
	}
	rng := a.Expr.Range().Ptr()
	bad := func(detail string) (pdf.Window, bool) {
		l.add(errorf(diag.CodeInvalidValue, rng, "Invalid address_window", detail+
			fmt.Sprintf(" For example (the default, a French DL window envelope): address_window = { left_mm = %g, top_mm = %g, width_mm = %g, height_mm = %g }.",
				pdf.DefaultWindow.LeftMM, pdf.DefaultWindow.TopMM, pdf.DefaultWindow.WidthMM, pdf.DefaultWindow.HeightMM)))
		return pdf.Window{}, false
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return bad(fmt.Sprintf("address_window of %s is a %s; it must be an object with left_mm, top_mm, width_mm and height_mm, in millimetres from the top-left corner of page 1.", where, ty.FriendlyName()))
	}
	got := map[string]float64{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		key := k.AsString()
		if !contains(windowKeys, key) {
			return bad(fmt.Sprintf("address_window of %s has %q; its attributes are left_mm, top_mm, width_mm and height_mm.", where, key))
		}
		n, err := convertNumber(e)
		if err != nil {
			return bad(fmt.Sprintf("%s of address_window of %s must be a number of millimetres.", key, where))
		}
		got[key] = n
	}
	for _, k := range windowKeys {
		if _, ok := got[k]; !ok {
			return bad(fmt.Sprintf("address_window of %s has no %s; give all of left_mm, top_mm, width_mm and height_mm.", where, k))
		}
	}
	w := pdf.Window{LeftMM: got["left_mm"], TopMM: got["top_mm"], WidthMM: got["width_mm"], HeightMM: got["height_mm"]}
	if err := w.Valid(); err != nil {
		return bad(fmt.Sprintf("address_window of %s: %v.", where, err))
	}
	return w, true
}

// preflightAttr evaluates preflight = { address = false }; it returns
// whether the address check stays on.
func (l *loader) preflightAttr(a *hcl.Attribute, s *scope, where string) bool {
	v, diags, memo := l.evalSharedEntry(a.Expr, s, cty.DynamicPseudoType, func() string { return "the \"preflight\" argument of " + where })
	l.add(diags...)
	if diags.HasErrors() || v.IsNull() {
		return true
	}
	if check, ok := memo.preflight(); ok {
		return check // this value's, found before without a diagnostic
	}
	rng := a.Expr.Range().Ptr()
	bad := func(detail string) bool {
		l.add(errorf(diag.CodeInvalidValue, rng, "Invalid preflight", detail+" preflight = { address = false } turns off the reading of the recipient from the address window for this mailing."))
		return true
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return bad(fmt.Sprintf("preflight of %s is a %s; it must be an object.", where, ty.FriendlyName()))
	}
	check := true
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if k.AsString() != "address" {
			return bad(fmt.Sprintf("preflight of %s has %q; the only check that can be turned off is address.", where, k.AsString()))
		}
		if e.IsNull() || !e.Type().Equals(cty.Bool) {
			return bad(fmt.Sprintf("preflight.address of %s must be true or false.", where))
		}
		check = isTrue(e) // known (evalWhat) and unmarked (UnmarkDeep)
	}
	if memo != nil {
		memo.derived = check
	}
	return check
}

// preflight is the check preflightAttr made of the entry's value.
func (e *memoEntry) preflight() (check, ok bool) {
	if e == nil {
		return false, false
	}
	check, ok = e.derived.(bool)
	return check, ok
}

func convertNumber(v cty.Value) (float64, error) {
	if v.IsNull() || !v.Type().Equals(cty.Number) {
		return 0, fmt.Errorf("not a number")
	}
	f, _ := v.AsBigFloat().Float64()
	if v.AsBigFloat().IsInf() {
		return 0, fmt.Errorf("not finite")
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IsMainBox reports whether a document's box, as written, is the service's
// MAIN box, where the letter itself goes. The configuration does not know
// the service's boxes (the account's profile does), so it takes an unset
// box or one named "main" (any case) for it, as the platform's default
// box is the first MAIN box and boxes are also found by type.
func IsMainBox(box string) bool { return box == "" || strings.EqualFold(box, "main") }

// recipientDoc is the document whose page 1 carries the recipient: the
// first one in the MAIN box (later ones go in the same envelope, as the
// platform reads the address from the first MAIN file only).
func recipientDoc(m *Mailing) *Document {
	for _, d := range m.Documents {
		if IsMainBox(d.Box) {
			return d
		}
	}
	return nil
}

type recipientKey struct {
	sha string
	w   pdf.Window
}

type recipientJob struct {
	key  recipientKey
	path string
	r    *pdf.Recipient
	err  error
	// cacheable: the file read still had the sha256 it was hashed with.
	cacheable bool
}

// readRecipients reads the recipient of every mailing from the address
// window of its letter, through the cache, with the PDF engine only for
// letters the cache does not know, in parallel.
func (l *loader) readRecipients(all []*Mailing) {
	type use struct {
		m *Mailing
		d *Document
		j *recipientJob
	}
	if l.opts.PDF == nil || l.opts.SkipPreflight {
		return // no letter is read
	}
	uses := make([]use, 0, len(all))
	// A letter the cache knows is its own job, in one array for all: a
	// map of every letter's key, to read a PDF shared by several letters
	// once, was most of this function's time, and only letters to read
	// need it (the cache gives letters of one key the same reading).
	known := make([]recipientJob, 0, len(all))
	var jobs map[recipientKey]*recipientJob
	var order []*recipientJob
	for _, m := range all {
		if m.AddressCheck == AddressSkipped || m.AddressCheck == AddressRendered {
			continue
		}
		d := recipientDoc(m)
		if d == nil || d.SHA256 == "" {
			continue
		}
		m.AddressCheck = AddressRead
		k := recipientKey{d.SHA256, m.Window}
		// A key already to be read is not asked of the cache again (a
		// nil map reads free when every letter is a hit).
		if j, ok := jobs[k]; ok {
			uses = append(uses, use{m, d, j})
			continue
		}
		if c := l.opts.Recipients; c != nil {
			if r, ok := c.LookupRecipient(k.sha, k.w); ok {
				known = append(known, recipientJob{key: k, r: r})
				uses = append(uses, use{m, d, &known[len(known)-1]})
				continue
			}
		}
		j := &recipientJob{key: k, path: d.Path}
		if jobs == nil {
			jobs = map[recipientKey]*recipientJob{}
		}
		jobs[k] = j
		uses = append(uses, use{m, d, j})
		order = append(order, j)
	}

	// Jobs are handed out by an index, not a channel: a reader that
	// panics leaves no sender blocked, and the others stop early.
	var next atomic.Int64
	var g workGroup
	for range min(runtime.GOMAXPROCS(0), len(order)) {
		g.Go("reading recipients", func() {
			for !g.Failed() {
				i := int(next.Add(1)) - 1
				if i >= len(order) {
					return
				}
				order[i].read(l.opts.PDF)
			}
		})
	}
	g.Wait()
	if c := l.opts.Recipients; c != nil {
		for _, j := range order {
			if j.err == nil && j.cacheable {
				c.StoreRecipient(j.key.sha, j.key.w, j.r)
			}
		}
	}

	// The recipients and their lines in two allocations for all letters,
	// each letter's lines clipped so that an append copies them.
	total := 0
	for _, u := range uses {
		if u.j.err == nil {
			total += len(u.j.r.Lines)
		}
	}
	recipients := make([]Recipient, len(uses))
	lines := make([]string, total) // never nil: no lines is an empty list
	for _, u := range uses {
		j := u.j
		if j.err != nil {
			u.m.AddressProblems = append(u.m.AddressProblems, addressDiag(u.m, u.d, pdf.Unreadable,
				fmt.Sprintf("page 1 cannot be read: %v", j.err)))
			continue
		}
		r := &recipients[0]
		recipients = recipients[1:]
		n := copy(lines, j.r.Lines)
		*r = Recipient{Lines: lines[:n:n], Postcode: j.r.Postcode, City: j.r.City, Country: j.r.Country}
		lines = lines[n:]
		u.d.Recipient = r
		u.d.RecipientPage = j.r.Page
		for _, p := range j.r.Problems {
			u.m.AddressProblems = append(u.m.AddressProblems, addressDiag(u.m, u.d, p.Kind, p.Message))
		}
	}
}

func (j *recipientJob) read(e *pdf.Engine) {
	b, err := os.ReadFile(j.path)
	if err != nil {
		j.err = unwrapPathError(err)
		return
	}
	sum := sha256.Sum256(b)
	j.cacheable = hex.EncodeToString(sum[:]) == j.key.sha
	j.r, j.err = e.Recipient(b, j.key.w)
}

// addressCodes gives each preflight finding of the address window its code.
var addressCodes = map[pdf.ProblemKind]struct{ code, summary string }{
	pdf.EmptyWindow:  {diag.CodeEmptyWindow, "Nothing in the address window"},
	pdf.NoLocality:   {diag.CodeNoLocality, "No locality in the address"},
	pdf.CrossingEdge: {diag.CodeCrossingWindow, "Address crosses the window's edge"},
	pdf.Unreadable:   {diag.CodeUnreadableAddress, "Address cannot be read"},
}

// addressDiag is one preflight finding, at the document block.
func addressDiag(m *Mailing, d *Document, kind pdf.ProblemKind, msg string) *hcl.Diagnostic {
	c, ok := addressCodes[kind]
	if !ok {
		c = addressCodes[pdf.Unreadable]
	}
	return errorf(c.code, d.DeclRange.Ptr(), c.summary,
		fmt.Sprintf("The letter %q of %s is not posted: %s.\n\nThe envelope shows only its window (%v), so the platform would refuse the letter or the post could not deliver it. Move the address into the window, or set address_window on the mailing (or the provider block) to where the address is, or, if this letter is addressed otherwise, turn the check off with preflight = { address = false }.",
			d.File, m.Address, msg, m.Window))
}

// MergeWarnings finds the mistakes of a mail merge among the letters a plan
// would post: one PDF posted under several addresses, and one recipient
// receiving several letters. Each group gets one warning, at the document
// block of its second letter.
func MergeWarnings(posting []*Mailing) hcl.Diagnostics {
	type letter = mergeLetter
	// Most letters of a merge share neither PDF nor recipient: a key maps
	// to the index of its first letter, and only a second letter makes a
	// group (a slice per letter and key was most of this at 100,000).
	firstSHA := make(map[string]int, len(posting))
	firstRecipient := make(map[string]int, len(posting))
	var firsts []letter
	moreSHA, moreRecipient := map[int][]letter{}, map[int][]letter{}
	var key []byte
	for _, m := range posting {
		d := recipientDoc(m)
		if d == nil || d.SHA256 == "" {
			continue
		}
		l := letter{m, d}
		if i, ok := firstSHA[d.SHA256]; ok {
			moreSHA[i] = append(moreSHA[i], l)
		} else {
			firstSHA[d.SHA256] = len(firsts)
			firsts = append(firsts, l)
		}
		if d.Recipient == nil || len(d.Recipient.Lines) == 0 {
			continue
		}
		key = appendNormalRecipient(key[:0], d.Recipient.Lines)
		// Looked up without a copy of key; a new key becomes a string once.
		if i, ok := firstRecipient[string(key)]; ok {
			moreRecipient[i] = append(moreRecipient[i], l)
		} else {
			firstRecipient[string(key)] = len(firsts)
			firsts = append(firsts, l)
		}
	}
	// The groups of several letters, in the order of their first letters.
	groups := func(more map[int][]letter) [][]letter {
		var out [][]letter
		for _, i := range slices.Sorted(maps.Keys(more)) {
			out = append(out, append([]letter{firsts[i]}, more[i]...))
		}
		return out
	}
	var diags hcl.Diagnostics
	for _, ls := range groups(moreSHA) {
		diags = append(diags, sharedPDFWarning(ls))
	}
	for _, ls := range groups(moreRecipient) {
		if d := sameRecipientWarning(ls); d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

// mergeLetter is a letter of MergeWarnings' groups and its document.
type mergeLetter struct {
	m *Mailing
	d *Document
}

// mergeNames is the letters' addresses, sorted, for a warning.
func mergeNames(ls []mergeLetter) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.m.Address
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// sharedPDFWarning is the warning of letters posting one PDF, at the
// document block of the second.
func sharedPDFWarning(ls []mergeLetter) *hcl.Diagnostic {
	return diag.NewDiag(diag.CodeSharedPDF, hcl.DiagWarning, "One PDF for several letters",
		fmt.Sprintf("%d letters of this plan post the same PDF, byte for byte (sha256 %s, %q): %s. A mail merge that reused a file sends the same letter, to the same address, several times. Give each letter its own PDF, or remove the extra letters.",
			len(ls), ls[0].d.SHA256[:12], ls[0].d.File, mergeNames(ls)),
		ls[1].d.DeclRange.Ptr())
}

// sameRecipientWarning is the warning of letters to one recipient, at the
// document block of the second; nil when they are all one PDF, which
// sharedPDFWarning says.
func sameRecipientWarning(ls []mergeLetter) *hcl.Diagnostic {
	oneFile := true
	for _, l := range ls[1:] {
		oneFile = oneFile && l.d.SHA256 == ls[0].d.SHA256
	}
	if oneFile {
		return nil
	}
	return diag.NewDiag(diag.CodeSameRecipient, hcl.DiagWarning, "One recipient receives several letters",
		fmt.Sprintf("%d letters of this plan go to one recipient (the same address in their windows): %s. If a mail merge duplicated a row, remove the extra letters; if they are meant, ignore this warning.",
			len(ls), mergeNames(ls)),
		ls[1].d.DeclRange.Ptr())
}

// normalRecipient is the form in which two address readings are the same
// recipient: case folded, runs of spaces made one, empty lines dropped.
func normalRecipient(lines []string) string {
	var out []string
	for _, l := range lines {
		if f := strings.Join(strings.Fields(l), " "); f != "" {
			out = append(out, cases.Fold().String(f))
		}
	}
	return strings.Join(out, "\n")
}

// asciiSpace is unicode.IsSpace for a byte below utf8.RuneSelf.
func asciiSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// appendNormalRecipient appends normalRecipient(lines) to b. Lines of
// ASCII only, most addresses, are folded and spaced here in one pass
// (Unicode folds ASCII letters to their lower case and nothing else of
// ASCII; its spaces are unicode.IsSpace's); any other goes through
// normalRecipient (TestNormalRecipientFast, FuzzNormalRecipient).
func appendNormalRecipient(b []byte, lines []string) []byte {
	for _, l := range lines {
		for i := 0; i < len(l); i++ {
			if l[i] >= utf8.RuneSelf {
				return append(b, normalRecipient(lines)...)
			}
		}
	}
	start := len(b)
	for _, l := range lines {
		// What goes before the next field: a line break after the
		// lines written, a space after a field of this line.
		var sep byte
		if len(b) > start {
			sep = '\n'
		}
		for i := 0; i < len(l); {
			for i < len(l) && asciiSpace(l[i]) {
				i++
			}
			if i == len(l) {
				break
			}
			if sep != 0 {
				b = append(b, sep)
			}
			for ; i < len(l) && !asciiSpace(l[i]); i++ {
				c := l[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b = append(b, c)
			}
			sep = ' '
		}
	}
	return b
}
