package config

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/internal/termtext"
)

// Format returns src in canonical HCL layout (what "postform fmt" writes).
// A file that does not parse is returned unchanged, with its syntax errors.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	_, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	withCode(diags, diag.CodeSyntax)
	if diags.HasErrors() {
		return src, diags
	}
	return hclwrite.Format(src), diags
}

// WriteDiagnostics renders diags with their source snippets, each summary
// prefixed by its code ("Error: [PF101] Duplicate job name"). With color
// (a terminal) details are wrapped at 100 columns; without, not at all.
// Write errors are ignored: there is nowhere left to report them.
func (c *Config) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) {
	var files map[string]*hcl.File
	if c != nil {
		files = c.Files
	}
	width := uint(0)
	if color {
		width = 100
	}
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		cp := *d
		if code := diag.Code(d); code != "" {
			cp.Summary = "[" + code + "] " + d.Summary
		}
		// file:line:col first, the form editors and CI annotations jump to;
		// the text writer then shows the source line.
		if d.Subject != nil && d.Subject.Filename != "" {
			cp.Summary = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, cp.Summary)
		}
		out[i] = &cp
	}
	_ = hcl.NewDiagnosticTextWriter(w, escapedSources(files), width, color).WriteDiagnostics(out)
}

// escapedSources gives the diagnostic writer copies of the sources whose
// control characters are made visible: it quotes source lines, and a
// checkout's file can hold terminal escapes as well as the platform's text.
func escapedSources(files map[string]*hcl.File) map[string]*hcl.File {
	out := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		out[name] = f
		if f == nil {
			continue
		}
		lines := bytes.Split(f.Bytes, []byte("\n"))
		changed := false
		for i, line := range lines {
			text := strings.TrimSuffix(string(line), "\r")
			if esc := termtext.Escape(text); esc != text {
				lines[i], changed = []byte(esc), true
			}
		}
		if changed {
			cp := *f
			cp.Bytes = bytes.Join(lines, []byte("\n"))
			out[name] = &cp
		}
	}
	return out
}
