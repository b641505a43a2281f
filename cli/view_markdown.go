package cli

import (
	"fmt"
	"strings"

	"github.com/postform/postform/internal/termtext"
	"github.com/postform/postform/reconcile"
)

// markdownLimit keeps a pull-request comment under GitHub's 65,536
// characters with room for a header the workflow adds.
const markdownLimit = 60000

// foldAfter is how many rows a section shows before folding the rest.
const foldAfter = 20

// renderMarkdown writes a plan as a pull-request comment: the summary line
// first, then what will be posted, then what is blocked or forgotten, long
// lists folded, never over markdownLimit characters.
func renderMarkdown(doc *reconcile.PlanDocument) string {
	var b strings.Builder
	s := doc.Summary
	fmt.Fprintf(&b, "**Plan: %d to post, %d to forget, %d blocked", s.Post, s.Forget, s.Blocked)
	if s.Update > 0 {
		fmt.Fprintf(&b, ", %d to update", s.Update)
	}
	if s.Scheduled > 0 {
		fmt.Fprintf(&b, ", %d scheduled for later", s.Scheduled)
	}
	b.WriteString(".**")
	if s.Errors > 0 {
		fmt.Fprintf(&b, " :x: %d error(s): this plan cannot be applied.", s.Errors)
	} else if s.Post+s.Forget+s.Update == 0 {
		b.WriteString(" No changes.")
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "%s. %s.\n\n", mdEscape(limitLine(s)), mdEscape(postageLine(s)))

	var posts, blocked, forgets, updates, scheduled []reconcile.PlanChange
	for _, c := range doc.Changes {
		switch c.Action {
		case reconcile.ActionCreate, reconcile.ActionReplace:
			posts = append(posts, c)
		case reconcile.ActionBlocked:
			blocked = append(blocked, c)
		case reconcile.ActionForget:
			forgets = append(forgets, c)
		case reconcile.ActionUpdate:
			updates = append(updates, c)
		case reconcile.ActionScheduled:
			scheduled = append(scheduled, c)
		}
	}
	// Each section is rendered with what is left of the budget, in order of
	// importance: what blocks the plan first, then what it posts.
	var sections []func(budget int) string
	if len(blocked) > 0 {
		rows := make([]string, len(blocked))
		for i, c := range blocked {
			rows[i] = fmt.Sprintf("| %s | %s | %s |", mdCode(c.Address), mdEscape(c.Reason), mdRecipient(c, doc.RecipientsShown))
		}
		sections = append(sections, func(budget int) string {
			return mdTable(fmt.Sprintf("### :no_entry: %d blocked", len(blocked)), "| Letter | Why | To |\n|---|---|---|", rows, budget)
		})
	}
	for _, d := range doc.Diagnostics {
		where := ""
		if d.Range != nil {
			where = fmt.Sprintf(" (%s:%d)", mdEscape(d.Range.Filename), d.Range.Line)
		}
		text := fmt.Sprintf("> **%s%s: %s**%s  \n> %s\n", mdEscape(severityTitle(d.Severity)), mdEscape(codeSuffix(d.Code)), mdEscape(d.Summary), where, mdEscape(d.Detail))
		sections = append(sections, func(int) string { return text })
	}
	if len(posts) > 0 {
		rows := make([]string, len(posts))
		for i, c := range posts {
			var files []string
			pages := 0
			for _, f := range c.Files {
				name := mdCode(f.File)
				if f.RealPath != "" {
					name += " → " + mdCode(f.RealPath)
				}
				if f.Subject != "" {
					// A rendered letter's file is a hash: its subject says what it is.
					name = "letter " + mdEscape(fmt.Sprintf("%q", f.Subject)) + " (" + name + ")"
				}
				files = append(files, name)
				pages += f.Pages
			}
			again := ""
			if c.Action == reconcile.ActionReplace {
				again = " **will post AGAIN**"
			}
			rows[i] = fmt.Sprintf("| %s%s | %s | %s | %d | %s |", mdCode(c.Address), again, mdEscape(c.Service), strings.Join(files, ", "), pages, mdRecipient(c, doc.RecipientsShown))
		}
		sections = append(sections, func(budget int) string {
			return mdTable(fmt.Sprintf("### :mailbox_with_mail: %d to post", len(posts)), "| Letter | Service | Documents | Pages | To |\n|---|---|---|---:|---|", rows, budget)
		})
	}
	if len(scheduled) > 0 {
		rows := make([]string, len(scheduled))
		for i, c := range scheduled {
			rows[i] = fmt.Sprintf("| %s | %s | %s |", mdCode(c.Address), mdEscape(c.Reason), mdRecipient(c, doc.RecipientsShown))
		}
		sections = append(sections, func(budget int) string {
			return mdTable(fmt.Sprintf("### :calendar: %d scheduled for later (not posted by this run)", len(scheduled)), "| Letter | When | To |\n|---|---|---|", rows, budget)
		})
	}
	if len(updates) > 0 {
		rows := make([]string, len(updates))
		for i, c := range updates {
			var ids []string
			for _, e := range c.Edits {
				ids = append(ids, mdEscape(e.PackGroupID))
			}
			rows[i] = fmt.Sprintf("| %s | edit pack group %s |", mdCode(c.Address), strings.Join(ids, ", "))
		}
		sections = append(sections, func(budget int) string {
			return mdTable(fmt.Sprintf("### :pencil2: %d to update", len(updates)), "| Letter | Change |\n|---|---|", rows, budget)
		})
	}
	if len(forgets) > 0 {
		rows := make([]string, len(forgets))
		for i, c := range forgets {
			sent := "-"
			if c.PriorRecipient != nil {
				sent = mdEscape(shownRecipient(c.PriorRecipient, doc.RecipientsShown))
			}
			rows[i] = fmt.Sprintf("| %s | %s | %s | %s |", mdCode(c.Address), mdEscape(dash(c.PriorJobID)), mdEscape(c.Reason), sent)
		}
		sections = append(sections, func(budget int) string {
			return mdTable(fmt.Sprintf("### :warning: %d to forget (no longer tracked; nothing is unsent)", len(forgets)), "| Letter | Job | Why | Sent to |\n|---|---|---|---|", rows, budget)
		})
	}
	// Keep room for the truncation notice and each later section's title.
	const reserve = 300
	for i, render := range sections {
		sec := render(markdownLimit - b.Len() - reserve*(len(sections)-i))
		if b.Len()+len(sec) > markdownLimit-reserve {
			fmt.Fprintf(&b, "\n_… %d more section(s) left out to stay under %d characters: run `postform show` on the saved plan for all of it._\n", len(sections)-i, markdownLimit)
			break
		}
		b.WriteString(sec)
		b.WriteString("\n")
	}
	return b.String()
}

// mdRecipient is a letter's recipient in its row, escaped as all outside
// text: the one-line "to" of the human plan, "-" when nothing was read.
func mdRecipient(c reconcile.PlanChange, shown string) string {
	for _, f := range c.Files {
		if lines := toLine(c, f, shown); len(lines) > 0 {
			return mdEscape(strings.TrimPrefix(lines[0], "to "))
		}
	}
	return "-"
}

// mdTable renders a titled table, folding rows past foldAfter into
// <details>, and truncating with a count when the rows would not fit.
func mdTable(title, header string, rows []string, budget int) string {
	var b strings.Builder
	b.WriteString(title + "\n\n")
	shown := rows
	var folded []string
	if len(rows) > foldAfter {
		shown, folded = rows[:foldAfter], rows[foldAfter:]
	}
	b.WriteString(header + "\n")
	for _, r := range shown {
		b.WriteString(r + "\n")
	}
	if len(folded) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>%d more</summary>\n\n%s\n", len(folded), header)
		for i, r := range folded {
			if b.Len()+len(r)+len("\n</details>\n")+80 > budget {
				fmt.Fprintf(&b, "\n_… and %d more not shown._\n", len(folded)-i)
				break
			}
			b.WriteString(r + "\n")
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

func codeSuffix(code string) string {
	if code == "" {
		return ""
	}
	return " [" + code + "]"
}

// mdMarkup escapes what markdown or HTML would read as markup; the pipe
// also ends a table cell.
var mdMarkup = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"|", `\|`, "~", `\~`, "#", `\#`, "<", "&lt;", ">", "&gt;", "&", "&amp;")

// mdEscape makes outside text (the platform's reasons, a saved plan's
// diagnostics) plain text in a pull-request comment: no markup, no line
// break, no control character.
func mdEscape(s string) string {
	return mdMarkup.Replace(termtext.Escape(strings.ReplaceAll(s, "\n", " ")))
}

// mdCode shows s as inline code inside a table cell: a fence longer than
// any run of backticks in s, so none can close it early, and pipes escaped
// (GitHub splits table cells on them even inside code).
func mdCode(s string) string {
	s = strings.ReplaceAll(termtext.Escape(s), "|", `\|`)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func severityTitle(sev string) string {
	if sev == "" {
		return ""
	}
	return strings.ToUpper(sev[:1]) + sev[1:]
}
