package cli

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/reconcile"
)

// isTerminal reports whether r or w is an interactive terminal.
func isTerminal(f any) bool {
	if file, ok := f.(*os.File); ok {
		return term.IsTerminal(int(file.Fd()))
	}
	return false
}

func (g *globals) color() bool {
	return !g.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(g.stdout)
}

// paint wraps s in an ANSI colour when colour is on.
func (g *globals) paint(code, s string) string {
	return paintIf(g.color(), code, s)
}

// paintIf is paint with colour decided by the caller: deciding asks the
// terminal, a system call, which a plan of 100,000 letters asked twice a
// letter.
func paintIf(color bool, code, s string) string {
	if !color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

const (
	green  = "32"
	red    = "31"
	yellow = "33"
	bold   = "1"
)

func (g *globals) writeDiagnostics(cfg *config.Config, diags hcl.Diagnostics) {
	diags = escapeDiagnostics(diags)
	if cfg != nil {
		cfg.WriteDiagnostics(g.stderr, diags, !g.noColor && isTerminal(g.stderr))
		return
	}
	for _, d := range diags {
		fmt.Fprintf(g.stderr, "%s\n", d.Error())
	}
}

// escapeDiagnostics copies diags with their text made safe for a terminal.
// The engine's diagnostics (PF2xx) quote the platform and are kept on one
// line; the configuration's keep their paragraph breaks, every line escaped.
func escapeDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		cp := *d
		cp.Summary = termtext.Escape(d.Summary)
		if strings.HasPrefix(diag.Code(d), "PF2") {
			cp.Detail = termtext.Escape(d.Detail)
		} else {
			cp.Detail = escapeLines(d.Detail)
		}
		out[i] = &cp
	}
	return out
}

// escapeLines escapes each line of s, keeping the line breaks.
func escapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = termtext.Escape(l)
	}
	return strings.Join(lines, "\n")
}

// marker is the one-character sign of an action in the plan.
func marker(a reconcile.Action) (string, string) {
	switch a {
	case reconcile.ActionCreate:
		return "+", green
	case reconcile.ActionScheduled:
		return "+", ""
	case reconcile.ActionReplace:
		return "+", yellow
	case reconcile.ActionForget:
		return "-", red
	case reconcile.ActionBlocked:
		return "!", red
	case reconcile.ActionUpdate:
		return "~", yellow
	}
	return " ", ""
}

// renderPlan prints the plan for a person: every change with its marker,
// then the summary line; diagnostics go to stderr.
// doc may be a masked view (PlanDocument.View): the diagnostics are masked
// as its recipients are.
func (g *globals) renderPlan(cfg *config.Config, p *reconcile.Plan, doc *reconcile.PlanDocument) {
	g.writePlan(g.stdout, doc)
	if len(p.Diagnostics) > 0 {
		diags := p.Diagnostics
		if doc.RecipientsShown != "" {
			diags = make(hcl.Diagnostics, len(p.Diagnostics))
			for i, d := range p.Diagnostics {
				cp := *d
				cp.Summary, cp.Detail = doc.Redact(d.Summary), doc.Redact(d.Detail)
				diags[i] = &cp
			}
		}
		g.writeDiagnostics(cfg, diags)
	}
}

// writePlan renders a plan document; plan, show and apply share it.
func (g *globals) writePlan(out io.Writer, doc *reconcile.PlanDocument) {
	// Buffered: unbuffered, each line of a plan of 100,000 letters to post
	// was a write of its own. Flushed before anything else is printed.
	w := bufio.NewWriter(out)
	defer w.Flush()
	color := g.color()
	noop := func(ch reconcile.PlanChange) bool { return ch.Action == reconcile.ActionNoop }
	if !slices.ContainsFunc(doc.Changes, func(ch reconcile.PlanChange) bool { return !noop(ch) }) {
		for _, d := range doc.Diagnostics {
			if d.Code == diag.CodeNoMatch {
				// A mistyped --target must not read as "nothing to do".
				fmt.Fprintln(w, "No plan: a --target or --exclude matches no letter (see below).")
				return
			}
		}
		fmt.Fprintf(w, "No changes. %s\n", upToDate(doc.Summary.NoOp))
		return
	}
	fmt.Fprintln(w, "postform will perform the following actions:")
	fmt.Fprintln(w)
	for _, ch := range doc.Changes {
		if noop(ch) {
			continue
		}
		sign, col := marker(ch.Action)
		fmt.Fprintf(w, "  %s %s\n", paintIf(color, col, sign), paintIf(color, bold, termtext.Escape(ch.Address)))
		for _, line := range describe(ch, doc.RecipientsShown) {
			w.WriteString("      ")
			w.WriteString(line)
			w.WriteByte('\n')
		}
	}
	fmt.Fprintln(w)
	c := doc.Summary
	summary := fmt.Sprintf("Plan: %d to post, %d to forget, %d blocked", c.Post, c.Forget, c.Blocked)
	if c.Update > 0 {
		summary += fmt.Sprintf(", %d to update", c.Update)
	}
	if c.Scheduled > 0 {
		summary += fmt.Sprintf(", %d scheduled for later (not posted by this run)", c.Scheduled)
	}
	fmt.Fprintln(w, paintIf(color, bold, summary+"."))
	fmt.Fprintln(w, limitLine(c)+".")
	fmt.Fprintln(w, termtext.Escape(postageLine(c))+".")
}

// limitLine shows the posting limit in force and how to raise it.
func limitLine(c reconcile.PlanSummary) string {
	switch c.MaxPostsFrom {
	case reconcile.LimitFlag:
		return fmt.Sprintf("Posting limit: %s letters (--max-posts)", reconcile.Count(c.MaxPosts))
	case reconcile.LimitConfig:
		return fmt.Sprintf("Posting limit: %s letters (max_posts)", reconcile.Count(c.MaxPosts))
	}
	return fmt.Sprintf("Posting limit: %s letters (the default; max_posts in the postform block raises it)", reconcile.Count(c.MaxPosts))
}

// postageLine is the estimate, or says that none is configured.
func postageLine(c reconcile.PlanSummary) string {
	if c.EstimatedPostage == nil {
		return "Estimated postage: no estimate (no pricing block is configured)"
	}
	return "Estimated postage: " + c.EstimatedPostage.Text()
}

func upToDate(n int) string {
	switch n {
	case 0:
		return "There are no letters in the configuration or the state."
	case 1:
		return "The 1 letter is posted as configured."
	}
	// "as configured", not "up to date": a posted letter may still be
	// printing (writeUnfinished says so after).
	return fmt.Sprintf("All %d letters are posted as configured.", n)
}

// describe gives the indented lines under a change's address, escaped: a
// plan quotes the platform, the state and the checkout's file names.
func describe(ch reconcile.PlanChange, shown string) []string {
	lines := describeRaw(ch, shown)
	for i, l := range lines {
		lines[i] = termtext.Escape(l)
	}
	return lines
}

func describeRaw(ch reconcile.PlanChange, shown string) []string {
	switch ch.Action {
	case reconcile.ActionCreate, reconcile.ActionReplace, reconcile.ActionScheduled:
		var lines []string
		if ch.Action == reconcile.ActionReplace {
			lines = append(lines, "WILL POST AGAIN: "+ch.Reason)
		}
		lines = append(lines, fmt.Sprintf("post %q via %q", ch.JobName, ch.Service))
		for _, d := range ch.Files {
			box := d.Box
			if box == "" {
				box = "main"
			}
			lines = append(lines, fmt.Sprintf("document %s (%s, sha256 %s) in box %s", fileName(d), pages(d.Pages), d.SHA256[:min(12, len(d.SHA256))], box))
			if d.Subject != "" {
				lines = append(lines, fmt.Sprintf("letter %q, rendered from its letter block", d.Subject))
			}
			lines = append(lines, toLine(ch, d, shown)...)
		}
		if len(ch.Options) > 0 {
			var kv []string
			for _, k := range sortedKeys(ch.Options) {
				kv = append(kv, k+"="+ch.Options[k])
			}
			lines = append(lines, "options "+strings.Join(kv, ", "))
		}
		if ch.Owner != "" {
			lines = append(lines, "for owner "+ch.Owner)
		}
		if ch.Action != reconcile.ActionReplace && ch.Reason != "new letter" {
			lines = append(lines, ch.Reason)
		}
		return lines
	case reconcile.ActionForget:
		job := ""
		if ch.PriorJobID != "" {
			job = fmt.Sprintf(" (job %s)", ch.PriorJobID)
		}
		lines := []string{"forget" + job + ": " + ch.Reason}
		if ch.PriorRecipient != nil {
			lines = append(lines, "sent to "+shownRecipient(ch.PriorRecipient, shown))
		}
		return lines
	case reconcile.ActionBlocked:
		lines := []string{"blocked: " + ch.Reason}
		for _, d := range ch.Files {
			lines = append(lines, toLine(ch, d, shown)...)
		}
		return lines
	case reconcile.ActionUpdate:
		var lines []string
		for _, e := range ch.Edits {
			lines = append(lines, "update: edit pack group "+e.PackGroupID)
		}
		return lines
	}
	return nil
}

// toLine is the "to" line under the document a letter's recipient is
// read from: who it goes to, and who the posted letter went to when that
// differs (a blocked or replaced letter). The document that was not read
// says why, under the first MAIN-box document.
func toLine(ch reconcile.PlanChange, d reconcile.PlanFile, shown string) []string {
	if d.Recipient == nil {
		if ch.AddressCheck == config.AddressSkipped && config.IsMainBox(d.Box) && firstMain(ch.Files) == d.File {
			return []string{"to (not read: preflight = { address = false })"}
		}
		return nil
	}
	line := "to " + shownRecipient(d.Recipient, shown)
	if p := ch.PriorRecipient; p != nil && p.String() != d.Recipient.String() {
		line += " (was " + shownRecipient(p, shown) + ")"
	}
	return []string{line}
}

func firstMain(files []reconcile.PlanFile) string {
	for _, f := range files {
		if config.IsMainBox(f.Box) {
			return f.File
		}
	}
	return ""
}

// shownRecipient is a recipient of a document shown as shown says (a
// view's recipients are already masked): its lines on one line.
func shownRecipient(r *reconcile.PlanRecipient, shown string) string {
	switch {
	case shown == config.RecipientsHidden:
		return "(hidden)"
	case len(r.Lines) == 0:
		return "(nothing in the address window)"
	}
	return r.String()
}

// fileName is a document as the plan names it: the path written, and
// where symbolic links lead it when elsewhere, so a reviewer sees the file
// really posted.
func fileName(d reconcile.PlanFile) string {
	if d.RealPath == "" {
		return d.File
	}
	if filepath.IsAbs(d.RealPath) {
		return d.File + " → " + d.RealPath + " (outside the working directory)"
	}
	return d.File + " → " + d.RealPath
}

func pages(n int) string {
	if n == 1 {
		return "1 page"
	}
	return fmt.Sprintf("%d pages", n)
}

// sortedKeys is m's keys in order (errors by address, options, boxes).
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// writeMachinePlan prints doc as JSON or markdown when asked; it reports
// whether it did, leaving the human view to the caller.
func (g *globals) writeMachinePlan(doc *reconcile.PlanDocument, asJSON, asMarkdown bool) (bool, error) {
	switch {
	case asJSON:
		b, err := reconcile.EncodePlanView(doc)
		if err != nil {
			return true, err
		}
		_, err = g.stdout.Write(b)
		return true, err
	case asMarkdown:
		_, err := fmt.Fprint(g.stdout, renderMarkdown(doc))
		return true, err
	}
	return false, nil
}
