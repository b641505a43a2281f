package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/nirva"
	"github.com/postform/postform/pdf"
)

var postformSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_version"}, {Name: "max_posts"}, {Name: "max_cost"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "backend", LabelNames: []string{"type"}},
		{Type: "review"},
		{Type: "pricing"},
	},
}

// backendSchemas are the arguments of each backend type. The backend may
// refer to variables and locals (unlike Terraform's), so that a conn_str
// can come from a sensitive variable.
var backendSchemas = map[string]*hcl.BodySchema{
	"local": {Attributes: []hcl.AttributeSchema{{Name: "path"}}},
	"pg":    {Attributes: []hcl.AttributeSchema{{Name: "conn_str"}, {Name: "schema_name"}}},
}

var providerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "endpoint", Required: true},
		{Name: "login"},
		{Name: "password"},
		{Name: "max_requests_per_second"},
		{Name: "proofs_dir"},
		{Name: "max_file_size"},
		{Name: "max_proof_size_mb"},
		{Name: "idle_timeout"},
		{Name: "request_timeout"},
		{Name: "insecure"},
		{Name: "address_window"},
	},
}

// DefaultMaxProofSizeMB is the default bound on one downloaded proof.
const DefaultMaxProofSizeMB = nirva.DefaultMaxProofSize >> 20

// maxProofSizeMB caps max_proof_size_mb: far above any real proof, and far
// from overflowing a byte count.
const maxProofSizeMB = 4096

// postformContent decodes the (single) postform block; nil when absent.
func (l *loader) postformContent() *hcl.BodyContent {
	if l.postform.done {
		return l.postform.content
	}
	l.postform.done = true
	blocks := l.uniqueBlocks("postform", false)
	if len(blocks) == 0 {
		return nil
	}
	content, diags := decodeBody(blocks[0].Body, postformSchema)
	l.add(diags...)
	l.postform.content = content
	return content
}

// postformBlock is the postform block's first nested block of type typ;
// each further one is reported as a duplicate, detail saying (with %s for
// the first one's range) that it was already declared.
func (l *loader) postformBlock(content *hcl.BodyContent, typ, detail string) *hcl.Block {
	var first *hcl.Block
	for _, b := range content.Blocks {
		if b.Type != typ {
			continue
		}
		if first != nil {
			l.add(errorf(diag.CodeDuplicate, b.DefRange.Ptr(), "Duplicate "+typ+" block", fmt.Sprintf(detail, first.DefRange)))
			continue
		}
		first = b
	}
	return first
}

func (l *loader) checkRequiredVersion() {
	content := l.postformContent()
	if content == nil {
		return
	}
	a, ok := content.Attributes["required_version"]
	if !ok {
		return
	}
	v, diags := a.Expr.Value(nil)
	l.add(classify(diags, diag.CodeInvalidValue)...)
	if diags.HasErrors() {
		return
	}
	rng := a.Expr.Range()
	if v.IsNull() || v.Type() != cty.String {
		l.add(errorf(diag.CodeWrongType, &rng, "Invalid required_version", "required_version must be a literal string such as \">= 0.1\"."))
		return
	}
	l.cfg.RequiredVersion = v.AsString()
	ok, err := versionAllowed(l.opts.Version, l.cfg.RequiredVersion)
	if err != nil {
		l.add(errorf(diag.CodeInvalidValue, &rng, "Invalid required_version", err.Error()+"."))
		return
	}
	if !ok {
		l.add(errorf(diag.CodeUnsupportedVersion, &rng, "Unsupported postform version",
			fmt.Sprintf("This configuration requires postform %s, but this is postform %s.", l.cfg.RequiredVersion, l.opts.Version)))
	}
}

func (l *loader) decodeBackend() {
	l.cfg.Backend = Backend{Type: "local", Attrs: map[string]string{"path": DefaultStatePath}}
	content := l.postformContent()
	if content == nil {
		return
	}
	b := l.postformBlock(content, "backend", "A backend was already declared at %s; a configuration has one backend.")
	if b == nil {
		return
	}
	typ := b.Labels[0]
	schema, ok := backendSchemas[typ]
	if !ok {
		rng := b.LabelRanges[0]
		l.add(errorf(diag.CodeUnsupported, &rng, "Unsupported backend type",
			fmt.Sprintf("There is no backend %q; use \"local\" (a state file) or \"pg\" (PostgreSQL).", typ)))
		return
	}
	bc, diags := decodeBody(b.Body, schema)
	l.add(diags...)
	s := l.baseScope("a backend block")
	attrs := map[string]string{}
	for _, as := range schema.Attributes {
		def := ""
		if typ == "local" && as.Name == "path" {
			def = DefaultStatePath
		}
		if v, _ := l.stringAttr(bc.Attributes, as.Name, s, def); v != "" {
			attrs[as.Name] = v
		}
	}
	l.cfg.Backend = Backend{Type: typ, Attrs: attrs, DeclRange: b.DefRange}
}

func (l *loader) decodeProvider() {
	p := &l.cfg.Provider
	*p = Provider{ProofsDir: DefaultProofsDir, MaxFileSize: DefaultMaxFileSize, MaxProofSize: nirva.DefaultMaxProofSize, Window: pdf.DefaultWindow}
	var chosen *hcl.Block
	for _, b := range l.uniqueBlocks("provider", true) {
		if b.Labels[0] != "nirva" {
			rng := b.LabelRanges[0]
			l.add(errorf(diag.CodeUnsupported, &rng, "Unsupported provider",
				fmt.Sprintf("postform posts through the Nirva API only: the provider block must be provider \"nirva\", not %q.", b.Labels[0])))
			continue
		}
		chosen = b
	}
	if chosen == nil {
		if len(l.blocks["mailing"]) > 0 && !l.diags.HasErrors() {
			l.add(errorf(diag.CodeMissingArgument, l.blocks["mailing"][0].DefRange.Ptr(), "Missing provider block",
				"A configuration with mailings needs a provider \"nirva\" block saying where to post them, e.g.\n\n  provider \"nirva\" {\n    endpoint = \"sandbox\"\n  }"))
		}
		return
	}
	p.DeclRange = chosen.DefRange
	content, diags := decodeBody(chosen.Body, providerSchema)
	l.add(diags...)
	s := l.baseScope("the provider block")
	attrs := content.Attributes

	if a, ok := attrs["insecure"]; ok {
		v, diags := s.eval(a.Expr, l.funcs, cty.Bool, `the "insecure" argument`)
		l.add(diags...)
		if !diags.HasErrors() && !v.IsNull() {
			p.Insecure = v.True()
		}
	}
	ep, set := l.stringAttr(attrs, "endpoint", s, "")
	p.Endpoint = ep
	if set && ep != "sandbox" {
		l.checkEndpoint(attrs["endpoint"], ep, p.Insecure)
	}
	deferred := map[string]bool{}
	for _, name := range []string{"login", "password"} {
		if l.deferredCredential(attrs[name]) {
			deferred[name] = true
			p.Deferred = append(p.Deferred, name)
			delete(attrs, name) // not evaluated, and no POSTFORM_ fallback
		}
	}
	p.Login, _ = l.stringAttr(attrs, "login", s, "")
	if _, ok := attrs["login"]; !ok && !deferred["login"] {
		p.Login, _ = l.envLookup("POSTFORM_LOGIN")
	}
	p.Password, _ = l.stringAttr(attrs, "password", s, "")
	if _, ok := attrs["password"]; !ok && !deferred["password"] {
		p.Password, _ = l.envLookup("POSTFORM_PASSWORD")
	}
	p.ProofsDir, _ = l.stringAttr(attrs, "proofs_dir", s, DefaultProofsDir)

	if a, ok := attrs["max_requests_per_second"]; ok {
		if f, ok := l.numberAttr(a, s); ok {
			if f < 0 {
				l.add(errorf(diag.CodeInvalidValue, a.Expr.Range().Ptr(), "Invalid max_requests_per_second", "max_requests_per_second must be zero (no limit) or more."))
			}
			p.MaxRequestsPerSecond = f
		}
	}
	if a, ok := attrs["max_proof_size_mb"]; ok {
		if f, ok := l.numberAttr(a, s); ok {
			if f < 1 || f > maxProofSizeMB || f != float64(int64(f)) {
				l.add(errorf(diag.CodeInvalidValue, a.Expr.Range().Ptr(), "Invalid max_proof_size_mb",
					fmt.Sprintf("max_proof_size_mb is a whole number of MiB from 1 to %d (default %d).", maxProofSizeMB, DefaultMaxProofSizeMB)))
			} else {
				p.MaxProofSize = int64(f) << 20
			}
		}
	}
	// A stalled platform ends the run: these bound each call (the client's
	// defaults apply when unset).
	for _, t := range []struct {
		name string
		dst  *time.Duration
	}{{"idle_timeout", &p.IdleTimeout}, {"request_timeout", &p.RequestTimeout}} {
		if v, set := l.stringAttr(attrs, t.name, s, ""); set {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > 24*time.Hour {
				l.add(errorf(diag.CodeInvalidValue, attrs[t.name].Expr.Range().Ptr(), "Invalid "+t.name,
					fmt.Sprintf("%s is a duration such as \"30s\" or \"2m\", more than zero and at most 24h; got %q.", t.name, v)))
				continue
			}
			*t.dst = d
		}
	}
	if a, ok := attrs["address_window"]; ok {
		if w, ok := l.windowAttr(a, s, "the provider block"); ok {
			p.Window = w
		}
	}
	if a, ok := attrs["max_file_size"]; ok {
		if f, ok := l.numberAttr(a, s); ok {
			if f < 1 || f != float64(int64(f)) {
				l.add(errorf(diag.CodeInvalidValue, a.Expr.Range().Ptr(), "Invalid max_file_size", "max_file_size is a whole number of bytes, at least 1."))
			} else {
				p.MaxFileSize = int64(f)
			}
		}
	}
}

// checkEndpoint applies the client's endpoint rule (nirva.CheckEndpoint) at
// load time, so a bad endpoint is reported where it is written, before any
// plan, and the password is never sent in clear unnoticed.
func (l *loader) checkEndpoint(a *hcl.Attribute, ep string, insecure bool) {
	rng := a.Expr.Range().Ptr()
	_, warning, err := nirva.CheckEndpoint(ep, insecure)
	switch {
	case errors.Is(err, nirva.ErrInsecureEndpoint):
		l.add(errorf(diag.CodeInsecureEndpoint, rng, "Insecure endpoint", upperFirst(err.Error())+"."))
	case err != nil:
		l.add(errorf(diag.CodeInvalidEndpoint, rng, "Invalid endpoint",
			upperFirst(err.Error())+". The endpoint is the API's base URL, such as \"https://api.example.com\", or \"sandbox\" (the built-in simulator)."))
	case warning != "":
		l.add(diag.NewDiag(diag.CodeInsecureEndpoint, hcl.DiagWarning, "Insecure endpoint", warning, rng))
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (l *loader) numberAttr(a *hcl.Attribute, s *scope) (float64, bool) {
	v, diags := s.eval(a.Expr, l.funcs, cty.Number, fmt.Sprintf("the %q argument", a.Name))
	l.add(diags...)
	if diags.HasErrors() || v.IsNull() {
		return 0, false
	}
	f, _ := v.AsBigFloat().Float64()
	if v.AsBigFloat().IsInf() {
		l.add(errorf(diag.CodeInvalidValue, a.Expr.Range().Ptr(), "Invalid number", fmt.Sprintf("%s must be finite.", a.Name)))
		return 0, false
	}
	return f, true
}
