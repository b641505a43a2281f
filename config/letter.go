package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/internal/layout"
	"github.com/postform/postform/internal/safefs"
	"github.com/postform/postform/letter"
)

// AddressRendered is Mailing.AddressCheck for a letter postform renders:
// the recipient is the letter block's "to", drawn inside the address
// window, so nothing is read back.
const AddressRendered = "rendered"

var letterSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "from"},
		{Name: "to", Required: true},
		{Name: "place"},
		{Name: "date"},
		{Name: "subject"},
		{Name: "body", Required: true},
		{Name: "signature"},
		{Name: "footer"},
		{Name: "logo"},
		{Name: "attachments"},
	},
}

// pendingLetter is a letter block evaluated, to be rendered once every
// mailing is known to be valid.
type pendingLetter struct {
	m       *Mailing
	d       *Document
	l       *letter.Letter
	content *hcl.BodyContent
	block   *hcl.Block
	input   string // letter.InputHash
	// Results of the rendering; sum is the hex sha256 of res.PDF.
	res *letter.Result
	sum string
	err error
}

// letterFiles reads a logo or an attachment once per Load, however many
// letters use it.
type letterFile struct {
	data []byte
	sum  string
	err  error
	// reported: its problem was said once, at its first use.
	reported bool
}

// letterWork is one Load's letters.
type letterWork struct {
	pending []*pendingLetter
	files   map[string]*letterFile
	// paths is insidePath of each file name, resolved once: a mail merge
	// names the same logo and attachment in every letter.
	paths map[string]insideResult
	// shared holds the values of letter arguments that do not refer to
	// each: the same for every letter of a for_each, evaluated once, and
	// what a caller made of each (preflightAttr's check, memoEntry).
	shared map[sharedKey]*memoEntry
	// perEach says whether an expression refers to each.
	perEach map[hcl.Expression]bool
	// memos are the values of expressions that refer to each, by what
	// they read from it (eachmemo.go).
	memos map[sharedKey]*eachMemo
	// slots is what is left of the array documentSlots cuts letters'
	// Documents from.
	slots []*Document
}

type insideResult struct {
	path string
	err  error
}

type sharedKey struct {
	expr hcl.Expression
	ty   cty.Type
}

func (l *loader) work() *letterWork {
	if l.letters == nil {
		l.letters = &letterWork{files: map[string]*letterFile{}, paths: map[string]insideResult{}, shared: map[sharedKey]*memoEntry{}, perEach: map[hcl.Expression]bool{}, memos: map[sharedKey]*eachMemo{}}
	}
	return l.letters
}

// evalShared is s.eval, once per Load for an expression without each (a
// service, a sender, a date, a footer): a mail merge of 10,000 letters
// evaluates them once, not 10,000 times. A value with diagnostics is not
// shared: each instance evaluates it again, so its messages name it.
//
// what names the value in messages, made only for a message: building it for
// every argument of every letter was a tenth of a mail merge's evaluation.
func (l *loader) evalShared(expr hcl.Expression, s *scope, ty cty.Type, what func() string) (cty.Value, hcl.Diagnostics) {
	v, diags, _ := l.evalSharedEntry(expr, s, ty, what)
	return v, diags
}

// evalSharedEntry is evalShared with the memo entry of a value that
// evalEach's memo or the shared values gave or kept (nil for any other).
func (l *loader) evalSharedEntry(expr hcl.Expression, s *scope, ty cty.Type, what func() string) (cty.Value, hcl.Diagnostics, *memoEntry) {
	w := l.work()
	perEach, known := w.perEach[expr]
	if !known {
		for _, t := range expr.Variables() {
			perEach = perEach || t.RootName() == "each"
		}
		w.perEach[expr] = perEach
	}
	if perEach && s.each != nil && s.base != nil && s.mailings == nil {
		return l.evalEach(expr, s, ty, what)
	}
	if perEach || s.base == nil || s.mailings != nil {
		// Without each, its error says each is not here.
		v, diags := s.evalWhat(expr, l.funcs, ty, what)
		return v, diags, nil
	}
	k := sharedKey{expr, ty}
	if e, ok := w.shared[k]; ok {
		if l.noEachFast {
			return e.v, nil, nil // what callers made of it is made again
		}
		return e.v, nil, e
	}
	v, diags := s.evalWhat(expr, l.funcs, ty, what)
	if len(diags) == 0 {
		e := &memoEntry{v: v}
		w.shared[k] = e
		return v, diags, e
	}
	return v, diags, nil
}

// evalLetter evaluates a mailing's letter block into the mailing's first
// document, rendered later by renderLetters.
func (l *loader) evalLetter(b *hcl.Block, s *scope, m *Mailing) {
	for _, d := range m.Documents {
		if d.Letter != nil {
			l.add(errorf(diag.CodeDuplicate, b.DefRange.Ptr(), "Duplicate letter block",
				fmt.Sprintf("%s already has a letter block at %s; a mailing posts one letter (add its other pages as attachments).", m.Address, d.DeclRange)))
			return
		}
	}
	content, diags := b.Body.Content(letterSchema)
	l.add(checkBody(b.Body, letterSchema, diags)...)
	if diags.HasErrors() {
		return
	}
	before := len(l.diags)
	attrs := content.Attributes
	str := func(name string) string {
		a, ok := attrs[name]
		if !ok {
			return ""
		}
		v, diags := l.evalShared(a.Expr, s, cty.String, func() string { return fmt.Sprintf("the %q argument of the letter of %s", name, m.Address) })
		l.add(diags...)
		return stringOf(v)
	}
	lt := &letter.Letter{Window: m.Window}
	lt.To = l.addressAttr(attrs["to"], s, m.Address, false)
	toOK := !l.diags[before:].HasErrors()
	if a, ok := attrs["from"]; ok {
		lt.From = l.addressAttr(a, s, m.Address, true)
	}
	lt.Place, lt.Date, lt.Subject = str("place"), str("date"), str("subject")
	lt.Body, lt.Signature, lt.Footer = str("body"), str("signature"), str("footer")
	var logoFile *letterFile
	var attFiles []*letterFile
	if a, ok := attrs["logo"]; ok {
		if logoFile = l.letterFileAttr(a, s, m.Address, "logo"); logoFile != nil {
			lt.Logo = logoFile.data
		}
	}
	if a, ok := attrs["attachments"]; ok {
		v, diags := l.evalShared(a.Expr, s, cty.List(cty.String), func() string { return "the \"attachments\" argument of the letter of " + m.Address })
		l.add(diags...)
		if !diags.HasErrors() && !v.IsNull() {
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				f := l.letterFile(a.Expr.Range().Ptr(), stringOf(e), m.Address, "attachment")
				if f != nil {
					attFiles = append(attFiles, f)
					lt.Attachments = append(lt.Attachments, f.data)
					lt.AttachmentSums = append(lt.AttachmentSums, f.sum)
				}
			}
		}
	}
	// The letter is checked even when another argument failed (an unknown
	// template variable in the body), so validate says everything at once;
	// only an address that could not be read is not checked again.
	for _, p := range lt.Check() {
		if !toOK && p.Field == letter.FieldTo {
			continue
		}
		if p.Field == letter.FieldAttachments || p.Field == letter.FieldLogo {
			// Said once per file, however many letters use it.
			f := logoFile
			if p.Field == letter.FieldAttachments && p.Index < len(attFiles) {
				f = attFiles[p.Index]
			}
			if f != nil && f.reported {
				continue
			}
			if f != nil {
				f.reported = true
			}
		}
		l.add(letterDiag(p, b, content, m.Address))
	}
	if len(l.diags) > before && l.diags[before:].HasErrors() {
		return
	}
	d := &Document{DeclRange: b.DefRange, Letter: &Letter{Subject: lt.Subject, Source: lt.SourceHash()}}
	r := lt.To
	d.Recipient = &Recipient{Lines: r.Printed(), Postcode: strings.TrimSpace(r.Postcode), City: strings.ToUpper(strings.TrimSpace(r.City))}
	if r.Abroad() {
		d.Recipient.Country = strings.ToUpper(strings.TrimSpace(r.Country))
	}
	// The letter is the MAIN-box document whose page 1 the envelope shows:
	// it comes first, whatever blocks come before it.
	m.Documents = append([]*Document{d}, m.Documents...)
	m.AddressCheck = AddressRendered
	w := l.work()
	w.pending = append(w.pending, &pendingLetter{m: m, d: d, l: lt, content: content, block: b})
}

var addressKeys = []string{"name", "lines", "postcode", "city", "country"}

// addressAttr evaluates { name, lines, postcode, city, country }; a sender
// may also be a plain list of lines.
func (l *loader) addressAttr(a *hcl.Attribute, s *scope, where string, sender bool) letter.Address {
	what := "to"
	if sender {
		what = "from"
	}
	v, diags := l.evalShared(a.Expr, s, cty.DynamicPseudoType, func() string { return fmt.Sprintf("the %q argument of the letter of %s", what, where) })
	l.add(diags...)
	if diags.HasErrors() || v.IsNull() {
		return letter.Address{}
	}
	rng := a.Expr.Range().Ptr()
	bad := func(detail string) letter.Address {
		l.add(errorf(diag.CodeWrongType, rng, "Invalid address", detail+
			" For example: { name = \"Mme Hélène Dupré\", lines = [\"12 rue de la Paix\"], postcode = \"75002\", city = \"Paris\" } (country = \"Belgique\" for a letter abroad)."))
		return letter.Address{}
	}
	ty := v.Type()
	if sender && (ty.IsListType() || ty.IsTupleType()) {
		var out letter.Address
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			sv, err := convertString(e)
			if err != nil || sv.IsNull() {
				return bad(fmt.Sprintf("%s of the letter of %s is a list, so each element must be a line of text.", what, where))
			}
			out.Lines = append(out.Lines, sv.AsString())
		}
		return out
	}
	if !ty.IsObjectType() && !ty.IsMapType() {
		return bad(fmt.Sprintf("%s of the letter of %s is a %s; it must be an object.", what, where, ty.FriendlyName()))
	}
	var out letter.Address
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		key := k.AsString()
		if !contains(addressKeys, key) {
			return bad(fmt.Sprintf("%s of the letter of %s has %q; an address has name, lines, postcode, city and country.", what, where, key))
		}
		if e.IsNull() {
			continue
		}
		if key == "lines" {
			if !e.Type().IsListType() && !e.Type().IsTupleType() && !e.Type().IsSetType() {
				return bad(fmt.Sprintf("%s.lines of the letter of %s must be a list of lines.", what, where))
			}
			for li := e.ElementIterator(); li.Next(); {
				_, x := li.Element()
				sv, err := convertString(x)
				if err != nil || sv.IsNull() {
					return bad(fmt.Sprintf("%s.lines of the letter of %s must be a list of lines of text.", what, where))
				}
				out.Lines = append(out.Lines, sv.AsString())
			}
			continue
		}
		if key == "postcode" && e.Type() == cty.Number {
			return bad(fmt.Sprintf("%s.postcode of the letter of %s is a number; write it as a string (\"01000\"), or a leading zero is lost.", what, where))
		}
		sv, err := convertString(e)
		if err != nil {
			return bad(fmt.Sprintf("%s.%s of the letter of %s must be text.", what, key, where))
		}
		switch key {
		case "name":
			out.Name = sv.AsString()
		case "postcode":
			out.Postcode = sv.AsString()
		case "city":
			out.City = sv.AsString()
		case "country":
			out.Country = sv.AsString()
		}
	}
	return out
}

func (l *loader) letterFileAttr(a *hcl.Attribute, s *scope, where, what string) *letterFile {
	v, diags := l.evalShared(a.Expr, s, cty.String, func() string { return fmt.Sprintf("the %q argument of the letter of %s", what, where) })
	l.add(diags...)
	if diags.HasErrors() || v.IsNull() {
		return nil
	}
	return l.letterFile(a.Expr.Range().Ptr(), v.AsString(), where, what)
}

// letterFile reads a logo or an attachment inside the working directory
// (a link leading out of it is refused, as for documents), once per Load.
func (l *loader) letterFile(rng *hcl.Range, name, where, what string) *letterFile {
	w := l.work()
	if strings.TrimSpace(name) == "" {
		l.add(errorf(diag.CodeMissingFile, rng, "Empty file name", fmt.Sprintf("An %s of the letter of %s has no file name.", what, where)))
		return nil
	}
	r, ok := w.paths[name]
	if !ok {
		r.path, r.err = insidePath(l.cfg.Dir, name)
		w.paths[name] = r
	}
	path, err := r.path, r.err
	if err != nil {
		l.add(errorf(diag.CodeDocumentOutside, rng, "Letter file outside the working directory",
			fmt.Sprintf("The %s %q of the letter of %s: %v. A reviewer of this directory cannot see that file; copy it in.", what, name, where, err)))
		return nil
	}
	f, ok := w.files[path]
	if !ok {
		f = &letterFile{}
		// No logo or attachment can be larger than the letter it is
		// part of, and a letter is at most max_file_size.
		f.data, f.err = readAtMost(path, l.maxFileSize())
		if f.err == nil {
			s := sha256.Sum256(f.data)
			f.sum = hex.EncodeToString(s[:])
		}
		w.files[path] = f
	}
	if f.err != nil {
		if !f.reported {
			f.reported = true
			l.add(errorf(diag.CodeMissingFile, rng, "Cannot read letter file",
				fmt.Sprintf("The %s %q of the letter of %s cannot be read: %v.", what, name, where, unwrapPathError(f.err))))
		}
		return nil
	}
	return f
}

// letterCodes gives each problem of a letter its code.
var letterCodes = map[letter.ProblemKind]struct{ code, summary string }{
	letter.NoLocality:     {diag.CodeLetterLocality, "Letter address without a postcode or city"},
	letter.AddressTooLong: {diag.CodeLetterAddressLength, "Letter address too long"},
	letter.MissingGlyph:   {diag.CodeLetterGlyph, "Character not in the letter's font"},
	letter.NotPDF:         {diag.CodeLetterFile, "Letter attachment is not a PDF"},
	letter.BadLogo:        {diag.CodeLetterFile, "Letter logo is not a PNG or JPEG"},
}

// letterDiag is one problem of a letter, at the attribute it is about.
func letterDiag(p letter.Problem, b *hcl.Block, content *hcl.BodyContent, address string) *hcl.Diagnostic {
	c, ok := letterCodes[p.Kind]
	if !ok {
		c = struct{ code, summary string }{diag.CodeLetterRender, "Letter cannot be rendered"}
	}
	subject := b.DefRange.Ptr()
	if a, ok := content.Attributes[string(p.Field)]; ok {
		subject = a.Expr.Range().Ptr()
	}
	return errorf(c.code, subject, c.summary, fmt.Sprintf("The letter of %s cannot be rendered: %s.", address, p.Message))
}

// renderedEntry is what the index knows of one rendering.
type renderedEntry struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Pages  int    `json:"pages"`
}

type renderedIndexFile struct {
	// Version is letter.Version: renderings of another layout are dropped.
	Version string                   `json:"version"`
	Entries map[string]renderedEntry `json:"entries"`
}

// renderLetters renders every evaluated letter that the index does not
// already know into .postform/rendered/<sha256>.pdf, in parallel, and fills
// in each letter's document. Nothing is written when the configuration
// has errors.
func (l *loader) renderLetters() {
	if l.letters == nil || len(l.letters.pending) == 0 || l.diags.HasErrors() {
		return
	}
	all := l.letters.pending
	subject := all[0].block.DefRange.Ptr()
	fail := func(err error) {
		l.add(errorf(diag.CodeLetterRender, subject, "Cannot keep rendered letters",
			fmt.Sprintf("postform keeps rendered letters in %s and cannot write there: %v. Make the folder writable (remove a link or file in its way).", filepath.Join(l.cfg.Dir, layout.Rendered), err)))
	}
	wd, err := safefs.Open(l.cfg.Dir)
	if err != nil {
		fail(err)
		return
	}
	defer wd.Close()
	dir, err := wd.Sub(layout.Rendered)
	if err != nil {
		fail(err)
		return
	}
	defer dir.Close()
	index := renderedIndexFile{Version: letter.Version, Entries: map[string]renderedEntry{}}
	indexDir, indexName := l.renderedIndexPlace()
	if indexDir != "" {
		if b, err := safefs.ReadFileAt(filepath.Join(indexDir, indexName)); err == nil {
			var f renderedIndexFile
			// A corrupt index, or one of another layout, costs renderings only.
			if json.Unmarshal(b, &f) == nil && f.Version == letter.Version && f.Entries != nil {
				index = f
			}
		}
	}

	var todo []*pendingLetter
	for _, p := range all {
		p.input = letter.RenderKey(p.d.Letter.Source)
		if e, ok := index.Entries[p.input]; ok && l.renderedStillThere(dir, e) {
			p.fill(l.cfg.Dir, e)
			continue
		}
		todo = append(todo, p)
	}
	// One rendering per distinct input, however many letters share it.
	byInput := map[string][]*pendingLetter{}
	var jobs []*pendingLetter
	for _, p := range todo {
		if _, ok := byInput[p.input]; !ok {
			jobs = append(jobs, p)
		}
		byInput[p.input] = append(byInput[p.input], p)
	}
	work := make(chan *pendingLetter)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				p.res, p.err = letter.Render(p.l)
				if p.err != nil {
					continue
				}
				s := sha256.Sum256(p.res.PDF)
				p.sum = hex.EncodeToString(s[:])
				// Written even when the name exists: a file found
				// different from its name is replaced. Without fsync: a
				// rendering is checked against the sha256 in its name
				// before use, so one a crash tears is rendered again.
				p.err = dir.WriteCache(p.sum+".pdf", p.res.PDF, 0o644)
			}
		}()
	}
	for _, p := range jobs {
		work <- p
	}
	close(work)
	wg.Wait()

	changed := false
	for _, p := range jobs {
		if p.err != nil {
			var le *letter.Error
			if errors.As(p.err, &le) {
				l.add(letterDiag(le.Problem, p.block, p.content, p.m.Address))
			} else {
				l.add(errorf(diag.CodeLetterRender, p.block.DefRange.Ptr(), "Letter cannot be rendered",
					fmt.Sprintf("The letter of %s cannot be rendered: %v.", p.m.Address, p.err)))
			}
			continue
		}
		e := renderedEntry{SHA256: p.sum, Size: int64(len(p.res.PDF)), Pages: p.res.Pages}
		index.Entries[p.input] = e
		changed = true
		// The next run finds the file by its size and time, unread.
		if c := l.opts.HashCache; c != nil {
			if fi, err := dir.Lstat(e.SHA256 + ".pdf"); err == nil && fi.Size() == e.Size {
				c.Store(dir.Join(e.SHA256+".pdf"), fi.Size(), fi.ModTime(), e.SHA256, e.Pages)
			}
		}
		for _, q := range byInput[p.input] {
			q.fill(l.cfg.Dir, e)
		}
	}
	if changed && indexDir != "" {
		b, err := json.Marshal(index)
		if err == nil {
			// Only a cache: losing it costs renderings, never correctness.
			if d, err := safefs.OpenCreate(indexDir); err == nil {
				_ = d.WriteFile(indexName, b, 0o644)
				d.Close()
			}
		}
	}
}

// renderedIndexPlace is where the index of this working directory's
// renderings lives: in the user's cache folder, one file per working
// directory; ("", "") when there is no cache folder (every letter is then
// rendered again). The index maps a letter's inputs to a PDF: kept in the
// checkout, a pull request could commit one mapping a reviewed letter to a
// PDF of its own (its sha256 matching its name) and have that posted.
func (l *loader) renderedIndexPlace() (dir, name string) {
	if l.opts.CacheDir == "" {
		return "", ""
	}
	abs, err := filepath.Abs(l.cfg.Dir)
	if err != nil {
		return "", ""
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(l.opts.CacheDir, "rendered"), hex.EncodeToString(sum[:8]) + ".json"
}

// renderedStillThere reports whether the rendering e is on disk, unchanged:
// by the hash cache when it knows the file at its size and time, else by
// hashing it again.
func (l *loader) renderedStillThere(dir *safefs.Dir, e renderedEntry) bool {
	name := e.SHA256 + ".pdf"
	fi, err := dir.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != e.Size {
		return false
	}
	path := dir.Join(name)
	if c := l.opts.HashCache; c != nil {
		if sum, _, ok := c.Lookup(path, fi.Size(), fi.ModTime()); ok {
			return sum == e.SHA256
		}
	}
	b, err := dir.ReadFile(name)
	if err != nil {
		return false
	}
	s := sha256.Sum256(b)
	ok := hex.EncodeToString(s[:]) == e.SHA256
	if c := l.opts.HashCache; c != nil && ok {
		c.Store(path, fi.Size(), fi.ModTime(), e.SHA256, e.Pages)
	}
	return ok
}

func (p *pendingLetter) fill(dir string, e renderedEntry) {
	rel := filepath.Join(layout.Rendered, e.SHA256+".pdf")
	p.d.File = filepath.ToSlash(rel)
	p.d.Path = filepath.Join(dir, rel)
	p.d.SHA256, p.d.Size, p.d.Pages = e.SHA256, e.Size, e.Pages
}

// InputHash identifies a mailing with rendered letters by what it is made
// of rather than by the rendered bytes: as ContentHash, with each rendered
// document's sha256 replaced by its letter's inputs (letter.SourceHash).
// A postform that renders the same letter into other bytes (a new layout,
// font or compression) changes ContentHash but not InputHash, so a letter
// posted before the upgrade is not taken for a changed one. "" for a
// mailing without a rendered letter: ContentHash alone decides.
func (m *Mailing) InputHash() string {
	rendered := false
	type doc struct {
		Box    string `json:"box"`
		SHA256 string `json:"sha256,omitempty"`
		Letter string `json:"letter,omitempty"`
	}
	canon := struct {
		Scheme    string            `json:"scheme"`
		Service   string            `json:"service"`
		Documents []doc             `json:"documents"`
		Options   map[string]string `json:"options"`
		Owner     string            `json:"owner"`
	}{Scheme: letter.SourceScheme, Service: m.Service, Documents: []doc{}, Options: m.Options, Owner: m.Owner}
	if canon.Options == nil {
		canon.Options = map[string]string{}
	}
	for _, d := range m.Documents {
		if d.Letter != nil && d.Letter.Source != "" {
			rendered = true
			canon.Documents = append(canon.Documents, doc{Box: d.Box, Letter: d.Letter.Source})
			continue
		}
		canon.Documents = append(canon.Documents, doc{Box: d.Box, SHA256: d.SHA256})
	}
	if !rendered {
		return ""
	}
	return canonicalHash(canon)
}

// Subject is the subject of a letter postform renders, "" for a PDF.
func (d *Document) Subject() string {
	if d.Letter == nil {
		return ""
	}
	return d.Letter.Subject
}
