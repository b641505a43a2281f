package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/pdf"
)

// File name patterns of a working directory.
const (
	MailFileSuffix     = ".mail.hcl"      // configuration files
	AutoVarsFileSuffix = ".auto.vars.hcl" // variable values, loaded alphabetically
	// AutoVarsJSONFileSuffix is the JSON form, loaded in the same
	// alphabetical order as the HCL ones (like *.auto.tfvars.json).
	AutoVarsJSONFileSuffix = ".auto.vars.json"
)

// Defaults for omitted settings.
const (
	DefaultStatePath   = "postform.state.json"
	DefaultProofsDir   = "proofs"
	DefaultMaxFileSize = 20 << 20
)

// DefaultProofs are the proofs a mailing downloads when it does not say.
var DefaultProofs = []string{"CERTIF", "ACKN", "TRACKING_DETAIL"}

// LoadOptions are the inputs to Load that do not come from the directory.
type LoadOptions struct {
	// Vars are "name=value" from --var, in command-line order. The value is
	// read as an HCL expression unless the variable's type is string (or
	// not constrained), as Terraform does.
	Vars []string
	// VarFiles are --var-file paths (HCL, or JSON when *.json), relative
	// to the directory.
	VarFiles []string
	// VarArgs, when set, replaces Vars and VarFiles: both kinds in their
	// command-line order, so that a later one wins whatever its kind, as in
	// Terraform.
	VarArgs []VarArg
	// Env is the environment, for POSTFORM_VAR_name and the
	// POSTFORM_LOGIN / POSTFORM_PASSWORD fallbacks of the provider block.
	Env []string
	// HashCache avoids rehashing unchanged PDFs. May be nil.
	HashCache HashCache
	// PDF reads each letter's recipient from its address window. nil: no
	// recipient is read (Mailing.AddressCheck stays ""). The engine starts
	// only if some letter is missing from Recipients.
	PDF *pdf.Engine
	// Recipients caches the readings by sha256 and window. May be nil.
	Recipients RecipientCache
	// CacheDir is postform's cache folder outside the working directory
	// ("" = none): the index of rendered letters lives there, never in the
	// checkout, where a pull request could map a letter to another PDF.
	CacheDir string
	// SkipPreflight hashes documents but skips the pdfcpu checks and the
	// reading of the recipient (a missing file, a file that is not a PDF or
	// too large is still an error).
	SkipPreflight bool
	// Version is this postform's version, checked against
	// postform.required_version. Empty skips the check.
	Version string
	// Offline is for a run that makes no API call (status, state, output,
	// show, plan --refresh=false): a required variable read only by the
	// provider's login or password may have no value; it is left out and
	// Provider.Deferred names it.
	Offline bool
	// Prompt, when set, asks for the value of a required variable that has
	// none (the command line sets it on a terminal only, as Terraform
	// prompts). ok false leaves the variable missing (PF010).
	Prompt func(v *Variable) (value string, ok bool)
}

// VarArg is one --var (Value "name=value") or --var-file (File set, Value
// the path) option.
type VarArg struct {
	File  bool
	Value string
}

// HashCache remembers each file's sha256 and page count by path, size and
// modification time. Pages > 0 means the file passed preflight.
// Load calls it from one goroutine only.
type HashCache interface {
	Lookup(path string, size int64, mtime time.Time) (sha256 string, pages int, ok bool)
	Store(path string, size int64, mtime time.Time, sha256 string, pages int)
}

type funcsTable = map[string]function.Function

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "postform"},
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "mailing", LabelNames: []string{"name"}},
		{Type: "output", LabelNames: []string{"name"}},
	},
}

// loader holds one Load's work in progress.
type loader struct {
	// realDirs memoises the folders documents resolve to (realDir).
	realDirs map[string]string
	// noEachFast turns evalEach's memo and direct evaluation off, for the
	// tests that compare both ways.
	noEachFast bool
	eachFast   int // values evalEach's fast paths gave, for those tests
	// noLiteralTuples has HCL parse every list (parseHCL), for the tests
	// that compare both ways.
	noLiteralTuples bool
	// par tunes evalItemsParallel (mailing.go); outer, in a worker's copy
	// of the loader, is the loader it was copied from.
	par   parallelism
	outer *loader
	// docBodies memoises the document blocks' decoded bodies (documentBody).
	docBodies map[*hcl.Block]*hcl.BodyContent

	cfg    *Config
	opts   LoadOptions
	parser *hclparse.Parser
	funcs  funcsTable
	diags  hcl.Diagnostics
	blocks map[string][]*hcl.Block // top-level blocks by type, in file order
	decls  map[string]*varDecl
	docs   map[string]*docFile // by absolute path
	// ranges are rangeOf's pointers.
	ranges map[hcl.Range]*hcl.Range
	// docOrder holds docs' files in the order of their first use.
	docOrder []*docFile
	// letters are the letter blocks to render (letter.go).
	letters *letterWork
	// baseCtx is the shared evaluation context of top-level scopes.
	baseCtx *hcl.EvalContext

	// mailings and documents hand out the letters' structs (slab).
	mailings  slab[Mailing]
	documents slab[Document]

	// emptyOptions and proofs are the Options and Proofs shared by the
	// letters that set none (noOptions, defaultProofs).
	emptyOptions map[string]string
	proofs       []string

	// deferred are the variables an offline load left without a value.
	deferred map[string]bool

	postform struct {
		done    bool
		content *hcl.BodyContent
	}
}

// slab hands out the elements of arrays of slabSize, one allocation for
// many letters' structs of one kind: at 100,000 letters the collector's
// work was as much per object as per byte. Each element is its own
// letter's: a slab shares an allocation, never data.
type slab[T any] struct{ free []T }

const slabSize = 256

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabSize)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// Load reads every *.mail.hcl file in dir (sorted by name) with the variable
// values from opts, and evaluates them into a Config whose mailings are
// fully known, hashed and preflighted.
//
// Load always returns a non-nil Config, whose Files serve to render the
// diagnostics; when the diagnostics hold errors, the rest of the Config is
// incomplete and must not be used.
func Load(dir string, opts LoadOptions) (cfg *Config, diags hcl.Diagnostics) {
	return loadWith(dir, opts, nil)
}

// loadWith is Load with the loader first handed to tweak (when not nil):
// the tests that compare a fast path with the general one turn it off so.
func loadWith(dir string, opts LoadOptions, tweak func(*loader)) (cfg *Config, diags hcl.Diagnostics) {
	l := &loader{
		cfg:    &Config{Variables: map[string]*Variable{}},
		opts:   opts,
		parser: hclparse.NewParser(),
		blocks: map[string][]*hcl.Block{},
		decls:  map[string]*varDecl{},
		docs:   map[string]*docFile{},
	}
	if tweak != nil {
		tweak(l)
	}
	l.cfg.Files = l.parser.Files()
	defer func() {
		if r := recover(); r != nil {
			cfg, diags = l.cfg, append(l.diags, errorf(diag.CodeInternal, nil, "Internal error in postform",
				fmt.Sprintf("postform failed while loading the configuration: %v\n\nThis is a bug; please report it with the configuration that caused it.\n\n%s", r, debug.Stack())))
		}
	}()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return l.cfg, hcl.Diagnostics{errorf(diag.CodeInvalidValue, nil, "Invalid working directory", err.Error())}
	}
	l.cfg.Dir = abs
	l.funcs = Functions(abs)
	l.cfg.funcs = l.funcs
	l.load()
	return l.cfg, l.diags
}

func (l *loader) add(diags ...*hcl.Diagnostic) { l.diags = append(l.diags, diags...) }

func (l *loader) load() {
	files, autoVars, ok := l.listDir()
	if !ok {
		return
	}
	for _, name := range files {
		l.parseConfigFile(name)
	}
	if l.diags.HasErrors() {
		return // a syntax error makes everything after it guesswork
	}
	l.checkRequiredVersion()
	l.decodeVariables()
	l.assignVariables(autoVars)
	if l.diags.HasErrors() {
		return
	}
	l.evalLocals()
	if l.diags.HasErrors() {
		return
	}
	l.decodeBackend()
	l.decodeReview()
	l.decodeLimits()
	l.decodeProvider()
	l.decodeOutputs()
	l.evalMailings()
}

// listDir returns the configuration files and the auto vars files of the
// working directory, each sorted by name.
func (l *loader) listDir() (files, autoVars []string, ok bool) {
	entries, err := os.ReadDir(l.cfg.Dir)
	if err != nil {
		l.add(errorf(diag.CodeInvalidValue, nil, "Cannot read the working directory", err.Error()))
		return nil, nil, false
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch name := e.Name(); {
		case strings.HasSuffix(name, MailFileSuffix):
			files = append(files, name)
		case strings.HasSuffix(name, AutoVarsFileSuffix), strings.HasSuffix(name, AutoVarsJSONFileSuffix):
			autoVars = append(autoVars, name)
		}
	}
	sort.Strings(files)
	sort.Strings(autoVars)
	if len(files) == 0 {
		l.add(errorf(diag.CodeMissingArgument, nil, "No configuration files",
			fmt.Sprintf("postform reads the *%s files of the working directory, and %s has none. Run \"postform init\" to create one.", MailFileSuffix, l.cfg.Dir)))
		return nil, nil, false
	}
	return files, autoVars, true
}

// parseFile parses an HCL (or, for *.json, JSON) file named as the user
// wrote it, relative to the working directory.
func (l *loader) parseFile(name string) (*hcl.File, bool) {
	src, err := os.ReadFile(resolvePath(l.cfg.Dir, name))
	if err != nil {
		l.add(errorf(diag.CodeSyntax, nil, "Cannot read file", fmt.Sprintf("Cannot read %s: %v.", name, unwrapPathError(err))))
		return nil, false
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(name, ".json") {
		f, diags = l.parser.ParseJSON(src, name)
	} else if prev := l.parser.Files()[name]; prev != nil {
		f = prev // as ParseHCL answers a name it has parsed
	} else {
		if l.noLiteralTuples {
			f, diags = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		} else {
			f, diags = parseHCL(src, name)
		}
		l.parser.AddFile(name, f)
	}
	l.add(withCode(firstSyntaxError(diags), diag.CodeSyntax)...)
	return f, f != nil && !diags.HasErrors()
}

func (l *loader) parseConfigFile(name string) {
	f, ok := l.parseFile(name)
	if !ok {
		return
	}
	content, diags := decodeBody(f.Body, rootSchema)
	l.add(diags...)
	for _, b := range content.Blocks {
		l.blocks[b.Type] = append(l.blocks[b.Type], b)
	}
}

// checkUnique reports a second block of a type that may appear once, or a
// second block with the same label.
func (l *loader) uniqueBlocks(typ string, labelled bool) []*hcl.Block {
	seen := map[string]*hcl.Block{}
	var out []*hcl.Block
	for _, b := range l.blocks[typ] {
		key := ""
		if labelled {
			key = b.Labels[0]
		}
		if prev, dup := seen[key]; dup {
			what := fmt.Sprintf("%s block", typ)
			if labelled {
				what = fmt.Sprintf("%s %q", typ, key)
			}
			l.add(errorf(diag.CodeDuplicate, b.DefRange.Ptr(), "Duplicate "+what,
				fmt.Sprintf("A %s was already declared at %s; each may be declared only once.", what, prev.DefRange)))
			continue
		}
		seen[key] = b
		out = append(out, b)
	}
	return out
}

// baseScope is what top-level expressions may refer to.
// Variables and locals are final by the time it is first used, so the
// evaluation context is built once and shared.
func (l *loader) baseScope(where string) *scope {
	s := &scope{}
	l.initBaseScope(s, where)
	return s
}

// initBaseScope makes *s a baseScope, in memory the caller provides.
func (l *loader) initBaseScope(s *scope, where string) {
	*s = scope{vars: l.cfg.varVals, locals: l.cfg.localVals, dir: l.cfg.Dir, where: where}
	if l.baseCtx == nil {
		l.baseCtx = s.fullContext(l.funcs)
	}
	s.base = l.baseCtx
}

// stringAttr evaluates an optional string attribute: def when absent,
// null or wrong. set tells whether it held a string.
func (l *loader) stringAttr(attrs hcl.Attributes, name string, s *scope, def string) (val string, set bool) {
	a, ok := attrs[name]
	if !ok {
		return def, false
	}
	v, diags := l.evalShared(a.Expr, s, cty.String, func() string { return fmt.Sprintf("the %q argument", name) })
	l.add(diags...)
	if diags.HasErrors() || v.IsNull() {
		return def, false
	}
	return v.AsString(), true
}

// envLookup returns the last value of name in opts.Env.
func (l *loader) envLookup(name string) (string, bool) {
	val, found := "", false
	for _, kv := range l.opts.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			val, found = v, true
		}
	}
	return val, found
}
