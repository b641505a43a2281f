package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/internal/diag"
)

// docFile is one PDF on disk, however many documents use it: it is hashed
// and preflighted once per Load.
type docFile struct {
	path    string
	file    string     // as first written, for messages
	subject *hcl.Range // the first document's file argument
	uses    int
	size    int64
	mtime   time.Time
	docs    []*Document
	// first holds docs' first element until a second use: most files
	// have one document, which then costs no allocation of its own.
	first [1]*Document

	// Results.
	sha256   string
	pages    int
	warnings []string
	err      error  // why it failed
	code     string // the diagnostic code for err
}

func (l *loader) evalDocument(b *hcl.Block, s *scope, address string) *Document {
	content, diags := l.documentBody(b)
	l.add(diags...)
	if diags.HasErrors() {
		return nil
	}
	d := l.documents.next()
	*d = Document{DeclRange: b.DefRange}
	if a, ok := content.Attributes["box"]; ok {
		v, diags := l.evalShared(a.Expr, s, cty.String, func() string { return "the \"box\" argument of " + address })
		l.add(diags...)
		if diags.HasErrors() {
			return nil
		}
		d.Box = stringOf(v)
	}
	a := content.Attributes["file"]
	v, diags := l.evalShared(a.Expr, s, cty.String, func() string { return "the \"file\" argument of " + address })
	l.add(diags...)
	if diags.HasErrors() {
		return nil
	}
	rng := l.rangeOf(a.Expr.Range())
	if v.IsNull() || v.AsString() == "" {
		l.add(errorf(diag.CodeMissingFile, rng, "Missing document file", fmt.Sprintf("The document of %s has no file.", address)))
		return nil
	}
	d.File = v.AsString()
	d.Path = resolvePath(l.cfg.Dir, d.File)
	if f, ok := l.docs[d.Path]; ok {
		d.RealPath = f.docs[0].RealPath
		f.uses++
		f.docs = append(f.docs, d)
		return d
	}
	if f, ok := l.outer.knownDoc(d.Path); ok {
		// A file an earlier mailing used: mergeDocs makes this a later
		// use of it.
		d.RealPath = f.docs[0].RealPath
		f := &docFile{path: d.Path, file: d.File, subject: rng, uses: 1}
		f.first[0] = d
		f.docs = f.first[:]
		l.docs[d.Path] = f
		l.docOrder = append(l.docOrder, f)
		return d
	}
	// One lstat tells a plain file (most letters) from a link; only a
	// link needs the stat of its target.
	st, err := os.Lstat(d.Path)
	link := err == nil && st.Mode()&fs.ModeSymlink != 0
	if link {
		st, err = os.Stat(d.Path)
	}
	switch {
	case err != nil && os.IsNotExist(err):
		l.add(errorf(diag.CodeMissingFile, rng, "Document file not found",
			fmt.Sprintf("The document of %s is %q, and there is no such file (looked for %s).", address, d.File, d.Path)))
		return nil
	case err != nil:
		l.add(errorf(diag.CodeMissingFile, rng, "Cannot read document file",
			fmt.Sprintf("The document %q of %s cannot be read: %v.", d.File, address, unwrapPathError(err))))
		return nil
	case !st.Mode().IsRegular():
		l.add(errorf(diag.CodeMissingFile, rng, "Document is not a file",
			fmt.Sprintf("The document %q of %s is not a regular file.", d.File, address)))
		return nil
	}
	if !l.checkRealPath(d, link, rng, address) {
		return nil
	}
	f := &docFile{path: d.Path, file: d.File, subject: rng, uses: 1, size: st.Size(), mtime: st.ModTime()}
	f.first[0] = d
	f.docs = f.first[:]
	l.docs[d.Path] = f
	l.docOrder = append(l.docOrder, f)
	return d
}

// documentSlots is an empty Documents slice with room for n, cut from an
// array that many letters share, and clipped, so that an append past n
// copies: one allocation per letter fewer.
func (l *loader) documentSlots(n int) []*Document {
	w := l.work()
	if len(w.slots) < n {
		w.slots = make([]*Document, max(n, slabSize))
	}
	s := w.slots[:0:n]
	w.slots = w.slots[n:]
	return s
}

// knownDoc is the file of path among l's documents; l may be nil (the
// loader is no worker's copy). The workers read it while they run, so
// nothing adds to it then.
func (l *loader) knownDoc(path string) (*docFile, bool) {
	if l == nil {
		return nil, false
	}
	f, ok := l.docs[path]
	return f, ok
}

// rangeOf is r.Ptr(), one pointer per range per Load: every instance of a
// for_each points at the same source, and diagnostics only read it.
func (l *loader) rangeOf(r hcl.Range) *hcl.Range {
	if p, ok := l.ranges[r]; ok {
		return p
	}
	if l.ranges == nil {
		l.ranges = map[hcl.Range]*hcl.Range{}
	}
	p := r.Ptr()
	l.ranges[r] = p
	return p
}

// documentBody is decodeBody of a document block, once per block per
// Load: every instance of a for_each has the same body, and decoding it
// 100,000 times was a fifth of evaluating the documents. A body with
// diagnostics is decoded again each time, so each instance reports its own.
func (l *loader) documentBody(b *hcl.Block) (*hcl.BodyContent, hcl.Diagnostics) {
	if content, ok := l.docBodies[b]; ok {
		return content, nil
	}
	content, diags := decodeBody(b.Body, documentSchema)
	if len(diags) == 0 {
		if l.docBodies == nil {
			l.docBodies = map[*hcl.Block]*hcl.BodyContent{}
		}
		l.docBodies[b] = content
	}
	return content, diags
}

// checkRealPath resolves the symbolic links on a document's path: the plan
// names the file really posted when it differs from the one written. A
// path written inside the working directory that a link takes outside it is
// an error: a reviewer of the checkout cannot see what would be posted (a
// pull request can commit a link to /etc/passwd). A path written outside it
// is the configuration's own, visible choice.
//
// link says whether d.Path itself is a symbolic link (evalDocument's lstat).
func (l *loader) checkRealPath(d *Document, link bool, rng *hcl.Range, address string) bool {
	real, err := l.realPath(d.Path, link)
	if err != nil {
		l.add(errorf(diag.CodeMissingFile, rng, "Cannot read document file",
			fmt.Sprintf("The document %q of %s cannot be resolved: %v.", d.File, address, unwrapPathError(err))))
		return false
	}
	if real == d.Path {
		return true
	}
	dir := l.cfg.Dir
	if r, err := l.realDir(dir); err == nil {
		dir = r
	}
	writtenRel, writtenInside := within(l.cfg.Dir, d.Path)
	realRel, realInside := within(dir, real)
	switch {
	case realInside && writtenInside && realRel == writtenRel:
		// The link is above the working directory, not in it.
		return true
	case realInside:
		d.RealPath = filepath.ToSlash(realRel)
		return true
	case !writtenInside:
		d.RealPath = real
		return true
	}
	l.add(errorf(diag.CodeDocumentOutside, rng, "Document links outside the working directory",
		fmt.Sprintf("The document %q of %s is a symbolic link to %s, outside the working directory (%s). A reviewer of this directory cannot see that file, so postform will not post it. Copy the file into the working directory, or, if it is meant, write its real path in the configuration.",
			d.File, address, real, dir)))
	return false
}

// within reports whether path is dir or below it, and path relative to dir.
func within(dir, path string) (string, bool) {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// processDocuments hashes and preflights every document file, in parallel,
// consulting and feeding the hash cache from this goroutine only. Problems
// are reported once per file, at its first use.
func (l *loader) processDocuments() {
	// In the order of their first use, the files of a mail merge are
	// mostly in path order already, which the sort then only checks; a
	// map's order would have it compare 100,000 long paths 1.7 million
	// times. Paths are unique: any sort gives one order.
	files := l.docOrder
	slices.SortFunc(files, func(a, b *docFile) int { return strings.Compare(a.path, b.path) })

	maxSize := l.maxFileSize()
	type job struct {
		f                      *docFile
		hash, magic, preflight bool
	}
	var jobs []job
	for _, f := range files {
		if f.size > maxSize {
			f.err, f.code = fmt.Errorf("it is %s, more than the limit of %s (max_file_size)", byteSize(f.size), byteSize(maxSize)), diag.CodePDFTooLarge
			continue
		}
		j := job{f: f, hash: true, preflight: !l.opts.SkipPreflight}
		if c := l.opts.HashCache; c != nil {
			if sum, pages, ok := c.Lookup(f.path, f.size, f.mtime); ok && sum != "" {
				f.sha256, f.pages = sum, pages
				j.hash = false
				if pages > 0 {
					j.preflight = false
				} else {
					// Hashed without preflight: the magic was not checked.
					j.magic = true
				}
			}
		}
		if j.hash || j.magic || j.preflight {
			jobs = append(jobs, j)
		}
	}

	work := make(chan job)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				checkFile(j.f, j.hash, j.magic, j.preflight)
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()

	for _, j := range jobs {
		f := j.f
		if c := l.opts.HashCache; c != nil && f.sha256 != "" && f.err == nil && unchanged(f) {
			c.Store(f.path, f.size, f.mtime, f.sha256, f.pages)
		}
	}
	for _, f := range files {
		also := ""
		if f.uses > 1 {
			also = fmt.Sprintf(" (%d documents use this file)", f.uses)
		}
		for _, w := range f.warnings {
			l.add(diag.NewDiag(diag.CodePageSize, hcl.DiagWarning, "Page is not A4",
				fmt.Sprintf("In %q%s, %s. The postal platform prints on A4 and may reject or rescale it.", f.file, also, w), f.subject))
		}
		if f.err != nil {
			l.add(errorf(f.code, f.subject, docSummary(f.code), fmt.Sprintf("The document %q%s cannot be posted: %v.", f.file, also, f.err)))
			continue
		}
		for _, d := range f.docs {
			d.SHA256, d.Size, d.Pages = f.sha256, f.size, f.pages
		}
	}
	// Every document has its results: the files' records, a fifth of a
	// mail merge's memory, need not live through the recipients, the
	// hashes and the job name checks.
	l.docs, l.docOrder = nil, nil
}

// unchanged reports whether f still has the size and time it was hashed at,
// so that a file edited while we read it is not cached under the old stat.
func unchanged(f *docFile) bool {
	st, err := os.Stat(f.path)
	return err == nil && st.Size() == f.size && st.ModTime().Equal(f.mtime)
}

// checkFile hashes and preflights one file; it runs on a worker goroutine
// and touches only f. The PDF magic is checked even without preflight
// (--skip-preflight leaves the platform to judge a PDF, never to receive
// a file that is not one); magic asks for that check alone.
func checkFile(f *docFile, hash, magic, preflight bool) {
	head := make([]byte, len(pdfMagic))
	var n int
	var err error
	switch {
	case hash:
		var sum string
		sum, n, err = hashFile(f.path, head)
		f.sha256 = sum
	case magic || preflight:
		n, err = readHead(f.path, head)
	}
	if err != nil {
		f.err, f.code = fmt.Errorf("reading it failed: %w", unwrapPathError(err)), diag.CodeMissingFile
		return
	}
	if n < len(pdfMagic) || !bytes.Equal(head, pdfMagic) {
		f.err, f.code = ErrNotPDF, diag.CodeNotPDF
		return
	}
	if !preflight {
		return
	}
	pages, warnings, err := PDFInfo(f.path)
	switch {
	case errors.Is(err, ErrNotPDF):
		f.code = diag.CodeNotPDF
	case errors.Is(err, ErrEncrypted):
		f.code = diag.CodeEncryptedPDF
	case errors.Is(err, ErrNoPages):
		f.code = diag.CodeEmptyPDF
	case err != nil:
		f.code = diag.CodeBrokenPDF
	}
	if err != nil {
		f.err = err
		return
	}
	f.pages, f.warnings = pages, warnings
}

func docSummary(code string) string {
	switch code {
	case diag.CodeNotPDF:
		return "Document is not a PDF"
	case diag.CodeEncryptedPDF:
		return "Document PDF is encrypted"
	case diag.CodeEmptyPDF:
		return "Document PDF has no pages"
	case diag.CodePDFTooLarge:
		return "Document PDF is too large"
	case diag.CodeBrokenPDF:
		return "Document PDF cannot be read"
	}
	return "Cannot read document file"
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// realPath is filepath.EvalSymlinks(p) with each folder resolved once per
// load: 10,000 letters in one folder cost one walk of it, not a walk each.
// link says whether p itself is a symbolic link, as the caller's lstat
// found.
func (l *loader) realPath(p string, link bool) (string, error) {
	if link {
		return filepath.EvalSymlinks(p)
	}
	dir := filepath.Dir(p)
	real, err := l.realDir(dir)
	if err != nil {
		return "", err
	}
	if real == dir {
		return p, nil // no link on the way: p is clean and absolute already
	}
	return filepath.Join(real, filepath.Base(p)), nil
}

// realDir is filepath.EvalSymlinks(dir), once per folder per load. Each
// goroutine that evaluates documents has its own loader (workerCopy), so
// the memo needs no lock.
func (l *loader) realDir(dir string) (string, error) {
	if real, ok := l.realDirs[dir]; ok {
		return real, nil
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	if l.realDirs == nil {
		l.realDirs = map[string]string{}
	}
	l.realDirs[dir] = real
	return real, nil
}

// maxFileSize is the provider's max_file_size, else DefaultMaxFileSize.
func (l *loader) maxFileSize() int64 {
	if n := l.cfg.Provider.MaxFileSize; n > 0 {
		return n
	}
	return DefaultMaxFileSize
}
