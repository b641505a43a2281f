package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"golang.org/x/text/cases"

	"github.com/postform/postform/internal/diag"
)

var mailingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each"},
		{Name: "service", Required: true},
		{Name: "job_name"},
		{Name: "options"},
		{Name: "owner"},
		{Name: "proofs"},
		{Name: "fix"},
		{Name: "address_window"},
		{Name: "preflight"},
		{Name: "send_after"}, // schedule.go
		{Name: "post_by"},
		{Name: "time_zone"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "document"}, {Type: "letter"}},
}

var documentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "box"},
		{Name: "file", Required: true},
	},
}

// The types of options and proofs, made once: a type is an allocation.
var (
	mapOfStrings  = cty.Map(cty.String)
	listOfStrings = cty.List(cty.String)
)

// maxJobName bounds job names; longer ones are surely a mistake.
const maxJobName = 255

// evalMailings expands every mailing block into its instances, hashes and
// preflights their documents, and checks that job names are unique.
func (l *loader) evalMailings() {
	l.cfg.forEach = map[string]bool{}
	var all []*Mailing
	// Where each mailing block's job names come from: its job_name
	// argument or its header, the same for all its letters.
	jobNameAt := map[string]*hcl.Range{}
	for _, b := range l.uniqueBlocks("mailing", true) {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.add(errorf(diag.CodeInvalidValue, b.LabelRanges[0].Ptr(), "Invalid mailing name",
				"A mailing name must start with a letter or underscore and contain only letters, digits, underscores and dashes."))
			continue
		}
		content, diags := b.Body.Content(mailingSchema)
		l.add(checkBody(b.Body, mailingSchema, diags)...)
		if diags.HasErrors() {
			continue
		}
		if len(content.Blocks) == 0 {
			l.add(errorf(diag.CodeNoDocument, b.DefRange.Ptr(), "Mailing without a document",
				fmt.Sprintf("mailing %q has no document or letter block; a letter needs one:\n\n  document {\n    file = \"letter.pdf\"\n  }\n\nor a letter written in the configuration:\n\n  letter {\n    to   = { name = \"…\", lines = [\"…\"], postcode = \"75002\", city = \"Paris\" }\n    body = file(\"letter.md\")\n  }", name)))
			continue
		}
		forEach, hasForEach := content.Attributes["for_each"]
		l.cfg.forEach[name] = hasForEach
		if !hasForEach {
			s := l.baseScope(fmt.Sprintf("mailing %q, which has no for_each", name))
			if m, subject := l.evalInstance(b, content, name, "", false, s); m != nil {
				all = append(all, m)
				jobNameAt[name] = subject
			}
			continue
		}
		items, ok := l.evalForEach(forEach)
		if !ok {
			continue
		}
		// Sized for the letters to come: growing by doubling, a mail
		// merge's maps and slices left as much garbage as they hold.
		all = slices.Grow(all, len(items))
		if len(l.docs) == 0 {
			l.docs = make(map[string]*docFile, len(items))
		}
		where := fmt.Sprintf("mailing %q", name)
		if l.parallelItems(content, len(items)) {
			all = l.evalItemsParallel(b, content, forEach, name, where, items, all, jobNameAt)
			continue
		}
		// One scope serves every instance in turn: nothing keeps a scope
		// past its evalInstance, and 100,000 letters are 200,000
		// allocations fewer.
		in := instanceScope{refsOK: map[hcl.Expression]bool{}}
		for _, it := range items {
			if m, subject := l.evalItem(b, content, forEach, name, where, it, &in); m != nil {
				all = append(all, m)
				jobNameAt[name] = subject
			}
		}
	}
	// Addresses are unique: any sort gives one order. SortFunc, without
	// sort.Slice's reflection, for 100,000 letters.
	slices.SortFunc(all, func(a, b *Mailing) int { return strings.Compare(a.Address, b.Address) })
	// The job names are checked beside the documents: checkJobNames reads
	// the letters' names, addresses and blocks, which nothing below
	// writes, and its diagnostics come after theirs, as they always did.
	var jobDiags hcl.Diagnostics
	checked := beside("checking job names", func() { jobDiags = checkJobNames(all, jobNameAt) })
	l.renderLetters()
	l.processDocuments()
	// The content hashes read the services, options, owners and the
	// documents' boxes and hashes, which readRecipients does not write:
	// they are made beside it.
	hashed := beside("hashing contents", func() { contentHashes(all, max(1, l.par.workerCount()-1)) })
	l.readRecipients(all)
	hashed()
	checked()
	l.add(jobDiags...)
	l.cfg.Mailings = all
}

// beside runs f on a goroutine of its own; wait waits for it to end, and
// panics with f's panic on the caller's goroutine (workGroup).
func beside(what string, f func()) (wait func()) {
	var g workGroup
	g.Go(what, f)
	return g.Wait
}

// contentHashes sets every letter's ContentHash, on workers: each is its
// letter's alone.
func contentHashes(all []*Mailing, workers int) {
	const chunk = 1024
	var next atomic.Int64
	var g workGroup
	for range min(workers, (len(all)+chunk-1)/chunk) {
		g.Go("hashing contents", func() {
			var buf []byte
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(all) {
					return
				}
				for _, m := range all[lo:min(lo+chunk, len(all))] {
					buf = appendContent(buf[:0], m)
					m.ContentHash = hashHex(buf)
				}
			}
		})
	}
	g.Wait()
}

type forEachItem struct {
	key   string
	value cty.Value
	// raw, when not "", is the item's value as JSON text, made into
	// value only when its letter is evaluated (decodeJSONObjectItems).
	raw string
}

// evalForEach returns the instances of a for_each: a map or object gives
// key => value, a set of strings gives each string as key and value.
func (l *loader) evalForEach(a *hcl.Attribute) ([]forEachItem, bool) {
	if items, ok := l.tosetKeys(a.Expr); ok {
		return items, true
	}
	if items, ok := l.jsondecodeItems(a.Expr); ok {
		return items, true
	}
	s := l.baseScope("the for_each argument")
	v, diags := s.eval(a.Expr, l.funcs, cty.DynamicPseudoType, "for_each")
	l.add(diags...)
	if diags.HasErrors() {
		return nil, false
	}
	rng := a.Expr.Range().Ptr()
	ty := v.Type()
	bad := func(detail string) ([]forEachItem, bool) {
		l.add(errorf(diag.CodeBadForEach, rng, "Invalid for_each argument", detail))
		return nil, false
	}
	switch {
	case v.IsNull():
		return bad("for_each is null; it must be a map, or a set of strings.")
	case ty.IsListType() || ty.IsTupleType():
		return bad(fmt.Sprintf("for_each is a %s, but it must be a map, or a set of strings: a list has no stable keys to tell its letters apart. Convert it with toset(...) if its elements are unique strings, or build a map with a for expression: { for x in LIST : x.id => x }.", ty.FriendlyName()))
	case ty.IsSetType():
		if !ty.ElementType().Equals(cty.String) {
			return bad(fmt.Sprintf("for_each is a %s, but a set must hold strings.", ty.FriendlyName()))
		}
		var items []forEachItem
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return bad("for_each is a set that contains null; every key must be a string.")
			}
			items = append(items, forEachItem{key: e.AsString(), value: e})
		}
		return items, true
	case ty.IsMapType() || ty.IsObjectType():
		var items []forEachItem
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			items = append(items, forEachItem{key: k.AsString(), value: e})
		}
		return items, true
	}
	return bad(fmt.Sprintf("for_each is a %s, but it must be a map, or a set of strings.", ty.FriendlyName()))
}

// tosetKeys is for_each = toset(LIST) without the set: the list's strings,
// each once, in the set's order (lexicographic, as cty sorts strings). cty
// sorts a set again on every iteration, and a for_each is iterated several
// times: at 100,000 literal keys those sorts were a fifth of a plan. Any
// other shape (an empty list, a non-string, null, unknown or marked
// element, an error) returns false, and the for_each is evaluated as
// written, with its own diagnostics.
func (l *loader) tosetKeys(expr hcl.Expression) ([]forEachItem, bool) {
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "toset" || len(call.Args) != 1 || call.ExpandFinal {
		return nil, false
	}
	if _, builtin := l.funcs["toset"]; !builtin {
		return nil, false
	}
	keys, ok := literalStrings(call.Args[0])
	if !ok {
		s := l.baseScope("the for_each argument")
		v, diags := s.eval(call.Args[0], l.funcs, cty.DynamicPseudoType, "for_each")
		if len(diags) > 0 || v.IsNull() || !(v.Type().IsTupleType() || v.Type().IsListType()) || v.LengthInt() == 0 {
			return nil, false
		}
		keys = make([]string, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsMarked() || !e.IsKnown() || e.IsNull() || !e.Type().Equals(cty.String) {
				return nil, false
			}
			keys = append(keys, e.AsString())
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	items := make([]forEachItem, len(keys))
	for i, k := range keys {
		items[i] = forEachItem{key: k, value: cty.StringVal(k)}
	}
	return items, true
}

// literalStrings reads a list written as ["a", "b", ...], every element a
// quoted string without interpolation, straight from the syntax: each
// element's value is its literal, which the parser made (NFC, escapes
// decoded) exactly as evaluating the element would, without evaluating
// 100,000 templates into a tuple whose type has 100,000 elements. Anything
// else returns false.
func literalStrings(expr hcl.Expression) ([]string, bool) {
	tuple, ok := expr.(*hclsyntax.TupleConsExpr)
	if !ok || len(tuple.Exprs) == 0 {
		return nil, false
	}
	keys := make([]string, len(tuple.Exprs))
	for i, e := range tuple.Exprs {
		t, ok := e.(*hclsyntax.TemplateExpr)
		if !ok || len(t.Parts) != 1 {
			return nil, false
		}
		lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
		if !ok || lit.Val.IsMarked() || !lit.Val.IsKnown() || lit.Val.IsNull() || !lit.Val.Type().Equals(cty.String) {
			return nil, false
		}
		keys[i] = lit.Val.AsString()
	}
	return keys, true
}

// jsondecodeItems is for_each = jsondecode(STRING) for a document that is
// one JSON object (a mail merge's letters.json): its members straight from
// the document (decodeJSONObjectItems), never a cty object of all the
// letters. Any other argument or document returns false, and the for_each
// is evaluated as written, with its own diagnostics.
func (l *loader) jsondecodeItems(expr hcl.Expression) ([]forEachItem, bool) {
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "jsondecode" || len(call.Args) != 1 || call.ExpandFinal {
		return nil, false
	}
	if _, builtin := l.funcs["jsondecode"]; !builtin {
		return nil, false
	}
	s := l.baseScope("the for_each argument")
	v, diags := s.eval(call.Args[0], l.funcs, cty.DynamicPseudoType, "for_each")
	if len(diags) > 0 || v.IsMarked() || !v.IsKnown() || v.IsNull() || !v.Type().Equals(cty.String) {
		return nil, false
	}
	return decodeJSONObjectItems(v.AsString())
}

// evalInstance evaluates one mailing instance; nil when it has errors.
// subject is where its job name comes from, for diagnostics about it.
func (l *loader) evalInstance(b *hcl.Block, content *hcl.BodyContent, name, key string, hasKey bool, s *scope) (m *Mailing, subject *hcl.Range) {
	before := len(l.diags)
	m = l.mailings.next()
	*m = Mailing{
		Address:   FormatAddress(name, key, hasKey),
		Name:      name,
		Key:       key,
		HasKey:    hasKey,
		Options:   l.noOptions(),
		Proofs:    l.defaultProofs(),
		Window:    l.cfg.Provider.Window,
		DeclRange: b.DefRange,
	}
	attrs := content.Attributes
	eval := func(attr string, ty cty.Type) (cty.Value, bool) {
		a, ok := attrs[attr]
		if !ok {
			return cty.NilVal, false
		}
		v, diags := l.evalShared(a.Expr, s, ty, func() string { return fmt.Sprintf("the %q argument of %s", attr, m.Address) })
		l.add(diags...)
		if diags.HasErrors() || v.IsNull() {
			return cty.NilVal, false
		}
		return v, true
	}

	if v, ok := eval("service", cty.String); ok {
		m.Service = v.AsString()
	}
	if strings.TrimSpace(m.Service) == "" && len(l.diags) == before {
		l.add(errorf(diag.CodeInvalidValue, attrs["service"].Expr.Range().Ptr(), "Empty service",
			fmt.Sprintf("The service of %s is empty; give the name or id of a service of your account.", m.Address)))
	}

	// job_name defaults to the block name, plus "-" and the for_each key:
	// mailing "reminder" with key "acme" is job "reminder-acme". It is
	// deterministic, so a re-run finds the same job.
	if v, ok := eval("job_name", cty.String); ok {
		m.JobName = v.AsString()
	} else {
		m.JobName = defaultJobName(name, key, hasKey)
	}
	if a, ok := attrs["job_name"]; ok {
		subject = l.rangeOf(a.Expr.Range())
	} else {
		subject = l.rangeOf(b.DefRange)
	}
	if problem := jobNameProblem(m.JobName); problem != "" {
		l.add(errorf(diag.CodeInvalidJobName, subject, "Invalid job name",
			fmt.Sprintf("The job name of %s, %q, %s.", m.Address, m.JobName, problem)))
	} else if strings.TrimSpace(m.JobName) != m.JobName {
		l.add(diag.NewDiag(diag.CodeJobNameSpaces, hcl.DiagWarning, "Job name with surrounding spaces",
			fmt.Sprintf("The job name of %s, %q, starts or ends with white space. A platform may trim it, and postform finds a letter on the platform by its job name: remove the spaces.", m.Address, m.JobName),
			subject))
	}

	if v, ok := eval("options", mapOfStrings); ok {
		m.Options = make(map[string]string, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if e.IsNull() {
				l.add(errorf(diag.CodeInvalidValue, attrs["options"].Expr.Range().Ptr(), "Null option",
					fmt.Sprintf("The option %q of %s is null; remove it or give it a value.", k.AsString(), m.Address)))
				continue
			}
			m.Options[k.AsString()] = e.AsString()
		}
	}
	if v, ok := eval("owner", cty.String); ok {
		m.Owner = v.AsString()
	}
	if v, ok := eval("proofs", listOfStrings); ok {
		m.Proofs = []string{}
		seen := map[string]bool{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.AsString() == "" || seen[e.AsString()] {
				l.add(errorf(diag.CodeInvalidValue, attrs["proofs"].Expr.Range().Ptr(), "Invalid proofs",
					"proofs lists proof names such as \"CERTIF\", \"ACKN\" and \"TRACKING_DETAIL\", each once."))
				break
			}
			// A proof name becomes part of a file name: only the platform's
			// name alphabet, never a path.
			if !proofName.MatchString(e.AsString()) {
				l.add(errorf(diag.CodeInvalidValue, attrs["proofs"].Expr.Range().Ptr(), "Invalid proof name",
					fmt.Sprintf("%q is not a proof name: proof names are the platform's tracking file names, capital letters, digits and underscores such as \"CERTIF\", \"ACKN\" and \"TRACKING_DETAIL\".", e.AsString())))
				break
			}
			seen[e.AsString()] = true
			m.Proofs = append(m.Proofs, e.AsString())
		}
	}
	if v, ok := eval("fix", cty.DynamicPseudoType); ok {
		fix, err := goValue(v)
		if err != nil || fix == nil {
			l.add(errorf(diag.CodeWrongType, attrs["fix"].Expr.Range().Ptr(), "Invalid fix",
				"fix must be an object of raw pack group values, e.g. { address = [\"ACME SAS\", \"12 rue de la Paix\", \"75002 PARIS\"] }."))
		} else {
			m.Fix = fix
		}
	}

	if a, ok := attrs["address_window"]; ok {
		if w, ok := l.windowAttr(a, s, m.Address); ok {
			m.Window = w
		}
	}
	if a, ok := attrs["preflight"]; ok && !l.preflightAttr(a, s, m.Address) {
		m.AddressCheck = AddressSkipped
	}
	l.evalSchedule(attrs, s, m)

	m.Documents = l.documentSlots(len(content.Blocks))
	for _, db := range content.Blocks {
		if db.Type == "letter" {
			l.evalLetter(db, s, m)
			continue
		}
		if d := l.evalDocument(db, s, m.Address); d != nil {
			m.Documents = append(m.Documents, d)
		}
	}
	if l.diags[before:].HasErrors() {
		return nil, nil
	}
	return m, subject
}

// noOptions is the empty Options of every letter of this Load that sets
// none, and defaultProofs the DefaultProofs of every letter that sets no
// proofs, clipped so that an append copies it: at 100,000 letters a map
// and a slice each were a tenth of what a configuration keeps. Nothing
// changes a Mailing's Options or Proofs in place (Mailing says so).
func (l *loader) noOptions() map[string]string {
	if l.emptyOptions == nil {
		l.emptyOptions = map[string]string{}
	}
	return l.emptyOptions
}

func (l *loader) defaultProofs() []string {
	if l.proofs == nil {
		l.proofs = slices.Clip(slices.Clone(DefaultProofs))
	}
	return l.proofs
}

func defaultJobName(name, key string, hasKey bool) string {
	if !hasKey {
		return name
	}
	return name + "-" + key
}

// foldJobName is the form in which a platform might compare job names.
func foldJobName(n string) string {
	// cty strings are NFC already: case and spaces are what is left.
	n = strings.TrimSpace(n)
	// Unicode folds the ASCII letters to their lower case and nothing
	// else of ASCII: most job names need no Caser (a tenth of checking
	// 100,000 names).
	for i := 0; i < len(n); i++ {
		if n[i] >= utf8.RuneSelf {
			return cases.Fold().String(n)
		}
	}
	return strings.ToLower(n)
}

// jobNameProblem says what is wrong with a job name, or "".
func jobNameProblem(n string) string {
	switch {
	case strings.TrimSpace(n) == "":
		return "is empty"
	case len(n) > maxJobName:
		return fmt.Sprintf("is longer than %d bytes", maxJobName)
	case strings.IndexFunc(n, unicode.IsControl) >= 0:
		return "contains a control character"
	}
	return ""
}

// goValue converts an object or map value to plain Go values through JSON:
// strings, float64 numbers, bools, nil, []any and map[string]any.
func goValue(v cty.Value) (map[string]any, error) {
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return nil, fmt.Errorf("not an object")
	}
	b, err := ctyjson.Marshal(v, ty)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// contentHash is the sha256 of a canonical JSON encoding of what makes a
// letter the same letter: service, each document's box and sha256 in order,
// options (sorted by key, as encoding/json does for maps) and owner. The job
// name is not part of it, so renaming a job does not re-post it.
//
// The bytes are those encoding/json gives for
//
//	struct {
//		V         int               `json:"v"`
//		Service   string            `json:"service"`
//		Documents []doc             `json:"documents"` // {box, sha256}, never null
//		Options   map[string]string `json:"options"`   // never null
//		Owner     string            `json:"owner"`
//	}
//
// written here directly: a hash recorded in a state must never change, and
// marshalling through reflection was a fifth of a 100,000-letter load
// (TestContentHashMatchesJSON and FuzzContentHash compare the two).
func contentHash(m *Mailing) string { return hashHex(appendContent(nil, m)) }

// appendContent appends contentHash's canonical JSON of m to b.
func appendContent(b []byte, m *Mailing) []byte {
	b = append(b, `{"v":1,"service":`...)
	b = appendJSONString(b, m.Service)
	b = append(b, `,"documents":[`...)
	for i, d := range m.Documents {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"box":`...)
		b = appendJSONString(b, d.Box)
		b = append(b, `,"sha256":`...)
		b = appendJSONString(b, d.SHA256)
		b = append(b, '}')
	}
	b = append(b, `],"options":{`...)
	if len(m.Options) > 0 {
		for i, k := range slices.Sorted(maps.Keys(m.Options)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, m.Options[k])
		}
	}
	b = append(b, `},"owner":`...)
	b = appendJSONString(b, m.Owner)
	return append(b, '}')
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	// Encoded on the stack: hex.EncodeToString allocates twice.
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// appendJSONString appends s as encoding/json writes a string: a string of
// printable ASCII that it does not escape (quote, backslash and, as it
// escapes HTML, <, > and &) as it is, any other through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				panic(err) // a string always marshals
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// canonicalHash is the hex sha256 of v's JSON encoding, for the canonical
// structs of contentHash and InputHash (strings and maps of strings, whose
// keys encoding/json sorts).
func canonicalHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and maps of strings always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkJobNames reports every job name used twice; the error points at the
// later mailing in address order and names the earlier one. Names that are
// equal only once folded (case and surrounding spaces: "Job-1",
// "job-1", " job-1") get a warning at the later one's job name: a platform
// may compare them folded, and then a lookup by name confuses the letters.
//
// One map of folded names serves most letters: a name whose folded form is
// new is new itself. Only names that share a folded form are kept by exact
// name too, to tell a duplicate from a confusable name (at 100,000 letters
// a map of every exact name was the most memory of this check).
func checkJobNames(all []*Mailing, jobNameAt map[string]*hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	firstFolded := make(map[string]*Mailing, len(all))
	var first map[string]*Mailing
	for _, m := range all {
		key := foldJobName(m.JobName)
		other, seen := firstFolded[key]
		if !seen {
			firstFolded[key] = m
			continue
		}
		if first == nil {
			first = map[string]*Mailing{}
		}
		// other is the first letter of its exact name too: an earlier
		// one would have had its folded form first.
		if _, ok := first[other.JobName]; !ok {
			first[other.JobName] = other
		}
		prev, dup := first[m.JobName]
		if !dup {
			first[m.JobName] = m
			diags = append(diags, diag.NewDiag(diag.CodeConfusableJobName, hcl.DiagWarning, "Job names differ only by case or spaces",
				fmt.Sprintf("The job name of %s, %q, differs from the job name of %s, %q, only by case or surrounding spaces. A platform that compares job names that way would confuse the two letters when postform looks one up by name after an interrupted run, and could post one twice. Make the names clearly distinct.",
					m.Address, m.JobName, other.Address, other.JobName),
				jobNameAt[m.Name]))
			continue
		}
		diags = append(diags, errorf(diag.CodeDuplicateJobName, m.DeclRange.Ptr(), "Duplicate job name",
			fmt.Sprintf("%s and %s both use the job name %q. Job names must be unique: postform finds a letter on the platform by its job name after an interrupted run, so two letters with one name could be confused and one posted twice. Set distinct job_name values, e.g. including each.key.",
				prev.Address, m.Address, m.JobName)))
	}
	return diags
}

// proofName is the alphabet of the platform's tracking file names.
var proofName = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
