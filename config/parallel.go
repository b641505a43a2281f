package config

import (
	"fmt"
	"maps"
	"runtime"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// A mail merge's instances are independent of one another but for what
// their order decides: the order of the letters and of the diagnostics,
// which document is a file's first use, and which letter's job name
// reports come from. evalItemsParallel evaluates them in chunks on every
// core, each chunk into its own diagnostics and documents, and merges the
// chunks in item order into exactly what the serial loop makes
// (TestForEachParallelMatchesSerial compares the two).

// parallelism tunes evalItemsParallel; its zero value is the defaults.
// Tests set it to run both paths on the same inputs.
type parallelism struct {
	minItems int // fewer instances are evaluated serially
	workers  int // goroutines; 0 is GOMAXPROCS
	chunk    int // instances a worker takes at a time
	ran      int // for_each mailings evaluated by workers, for the tests
}

const (
	// defaultChunk instances are some milliseconds of work: enough that
	// a chunk's own allocations do not count, few enough that two
	// workers on a loaded machine end together.
	defaultChunk = 512
	// Below defaultMinItems a mailing takes a few milliseconds: the
	// workers' copies and the merge would cost as much as they save.
	defaultMinItems = 2 * defaultChunk
)

func (p parallelism) chunkSize() int {
	if p.chunk > 0 {
		return p.chunk
	}
	return defaultChunk
}

func (p parallelism) workerCount() int {
	if p.workers > 0 {
		return p.workers
	}
	return runtime.GOMAXPROCS(0)
}

// parallelItems reports whether a for_each of n instances is evaluated by
// evalItemsParallel. A letter block's instances are not: which letter
// reports a logo's problem, and the order of the letters to render, are
// decided by the serial loop as they go (evalLetter).
func (l *loader) parallelItems(content *hcl.BodyContent, n int) bool {
	minItems := l.par.minItems
	if minItems == 0 {
		minItems = defaultMinItems
	}
	if n < minItems || l.par.workerCount() < 2 {
		return false
	}
	for _, b := range content.Blocks {
		if b.Type == "letter" {
			return false
		}
	}
	return true
}

// instanceScope is the memory one goroutine evaluates instances in, one
// after another.
type instanceScope struct {
	s      scope
	each   eachValues
	values memberDecoder
	// refsOK is scope.refsOK, shared by the instances this goroutine
	// evaluates of one for_each.
	refsOK map[hcl.Expression]bool
}

// evalItem evaluates the instance of item it of a for_each mailing.
func (l *loader) evalItem(b *hcl.Block, content *hcl.BodyContent, forEach *hcl.Attribute, name, where string, it forEachItem, in *instanceScope) (*Mailing, *hcl.Range) {
	l.initBaseScope(&in.s, where)
	in.each = newEach(it, &in.values)
	in.s.each = &in.each
	in.s.refsOK = in.refsOK
	m, subject := l.evalInstance(b, content, name, it.key, true, &in.s)
	if in.each.broken {
		l.add(errorf(diag.CodeBadForEach, forEach.Expr.Range().Ptr(), "Internal error reading for_each",
			fmt.Sprintf("The value of %s could not be read again from its JSON after it was checked. This is a bug in postform; please report it with the for_each document. Until then, write for_each = (jsondecode(...)) in parentheses, which reads the document another way.", FormatAddress(name, it.key, true))))
		return nil, nil
	}
	return m, subject
}

// itemChunk is what a run of consecutive instances gave.
type itemChunk struct {
	mailings []*Mailing
	subject  *hcl.Range // the last letter's job name source, as the loop keeps
	diags    hcl.Diagnostics
	files    []*docFile // the chunk's documents, by first use (docOrder)
}

// evalItemsParallel is the serial loop of evalMailings over items, on
// every core: it appends the letters to all and returns it, adds the
// diagnostics, documents and job name sources, all as the loop does.
func (l *loader) evalItemsParallel(b *hcl.Block, content *hcl.BodyContent, forEach *hcl.Attribute, name, where string, items []forEachItem, all []*Mailing, jobNameAt map[string]*hcl.Range) []*Mailing {
	// What every instance shares is made before the workers start, and
	// only read while they run.
	l.noOptions()
	l.defaultProofs()
	l.initBaseScope(&scope{}, where)

	size := l.par.chunkSize()
	chunks := make([]itemChunk, (len(items)+size-1)/size)
	workers := make([]*loader, min(l.par.workerCount(), len(chunks)))
	var next atomic.Int64
	var g workGroup
	for i := range workers {
		w := l.workerCopy()
		workers[i] = w
		g.Go("in a goroutine evaluating "+where, func() {
			in := instanceScope{refsOK: map[hcl.Expression]bool{}}
			for {
				c := int(next.Add(1)) - 1
				if c >= len(chunks) || g.Failed() {
					return
				}
				lo := c * size
				chunks[c] = w.evalChunk(b, content, forEach, name, where, items[lo:min(lo+size, len(items))], &in)
			}
		})
	}
	g.Wait()
	l.par.ran++
	for _, w := range workers {
		l.eachFast += w.eachFast
	}
	for i := range chunks {
		c := &chunks[i]
		l.add(c.diags...)
		all = append(all, c.mailings...)
		if c.subject != nil {
			jobNameAt[name] = c.subject
		}
		l.mergeDocs(c.files)
	}
	return all
}

// workerCopy is l for a goroutine that evaluates instances beside others.
// What the evaluation of an instance writes is the copy's own: the
// diagnostics, the slabs, the letters' work (evalShared's and evalEach's
// memos), the documents (per chunk, evalChunk) and the memos of
// documents.go. The rest (the configuration so far, the functions, the
// base context, outer's documents) is only read while the workers run. A
// field of loader that evalInstance comes to write must be reset here:
// the tests that run both paths under -race find one that is not.
func (l *loader) workerCopy() *loader {
	w := *l
	w.outer = l
	w.diags = nil
	w.mailings, w.documents = slab[Mailing]{}, slab[Document]{}
	w.letters = nil
	w.docs, w.docOrder = nil, nil // evalChunk's
	w.ranges = maps.Clone(l.ranges)
	w.realDirs = maps.Clone(l.realDirs)
	w.docBodies = maps.Clone(l.docBodies)
	w.eachFast = 0
	return &w
}

// evalChunk evaluates consecutive instances on worker copy l.
func (l *loader) evalChunk(b *hcl.Block, content *hcl.BodyContent, forEach *hcl.Attribute, name, where string, items []forEachItem, in *instanceScope) itemChunk {
	l.diags = nil
	// The map only finds a file again within the chunk: the worker's
	// next chunk reuses it.
	if l.docs == nil {
		l.docs = make(map[string]*docFile, len(items))
	}
	clear(l.docs)
	l.docOrder = make([]*docFile, 0, len(items))
	c := itemChunk{mailings: make([]*Mailing, 0, len(items))}
	for _, it := range items {
		if m, subject := l.evalItem(b, content, forEach, name, where, it, in); m != nil {
			c.mailings = append(c.mailings, m)
			c.subject = subject
		}
	}
	c.diags, c.files = l.diags, l.docOrder
	l.docOrder = nil
	return c
}

// mergeDocs adds a chunk's document files to l's, in order: a file l
// knows already takes the chunk's documents as later uses, as
// evalDocument would have given them.
func (l *loader) mergeDocs(files []*docFile) {
	for _, f := range files {
		known, ok := l.docs[f.path]
		if !ok {
			l.docs[f.path] = f
			l.docOrder = append(l.docOrder, f)
			continue
		}
		real := known.docs[0].RealPath
		for _, d := range f.docs {
			d.RealPath = real
		}
		known.uses += f.uses
		known.docs = append(known.docs, f.docs...)
	}
}
