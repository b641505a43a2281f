package reconcile

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/postform/postform/config"
	"github.com/postform/postform/internal/diag"
	"github.com/postform/postform/state"
)

// The guard rails for real money: letters cannot be recalled, so a plan
// that posts more than the limit, spends more than max_cost, or misses a
// deadline is an error, and a --target or --exclude that selects nothing
// is an error too (a typo must not read as "No changes").

// Where the posting limit in force comes from (PlanSummary.MaxPostsFrom).
const (
	LimitDefault = "default"   // config.DefaultMaxPosts
	LimitConfig  = "max_posts" // the postform block's max_posts
	LimitFlag    = "flag"      // --max-posts
)

// selected reports whether addr is in the plan: targeted (all when no
// --target) and not excluded.
func selected(addr string, opts PlanOptions) bool {
	return targeted(addr, opts.Targets) && !(len(opts.Excludes) > 0 && targeted(addr, opts.Excludes))
}

// checkSelectors reports every --target and --exclude that matches no
// address of the configuration or the state, naming the closest ones.
func checkSelectors(opts PlanOptions, known []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, sel := range []struct {
		flag string
		list []string
	}{{"--target", opts.Targets}, {"--exclude", opts.Excludes}} {
		for _, a := range sel.list {
			if matchesSome(a, known) {
				continue
			}
			detail := fmt.Sprintf("%s=%s matches no letter of the configuration or the state, so nothing was planned for it.", sel.flag, a)
			if close := closest(a, known); len(close) > 0 {
				detail += " Did you mean " + strings.Join(close, ", ") + "?"
			} else if len(known) == 0 {
				detail += " The configuration and the state hold no letter."
			}
			detail += " An address is mailing.NAME (every instance) or mailing.NAME[\"KEY\"], as `postform state list` and the plan show them."
			diags = append(diags, diag.NewDiag(diag.CodeNoMatch, hcl.DiagError, "No letter matches "+sel.flag, detail, nil))
		}
	}
	return diags
}

func matchesSome(sel string, known []string) bool {
	for _, k := range known {
		if targeted(k, []string{sel}) {
			return true
		}
	}
	return false
}

// closest names up to three addresses (or mailing names) nearest to sel
// by edit distance, when they are near enough to be what was meant.
func closest(sel string, known []string) []string {
	cands := map[string]bool{}
	for _, k := range known {
		cands[k] = true
		if i := strings.IndexByte(k, '['); i > 0 {
			cands[k[:i]] = true
		}
	}
	type scored struct {
		s string
		d int
	}
	var all []scored
	for c := range cands {
		all = append(all, scored{c, levenshtein.Distance(sel, c, nil)})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].d != all[j].d {
			return all[i].d < all[j].d
		}
		return all[i].s < all[j].s
	})
	var out []string
	limit := max(3, len(sel)/2)
	for _, c := range all {
		if len(out) == 3 || c.d > limit {
			break
		}
		out = append(out, c.s)
	}
	return out
}

// knownAddresses are every address of the configuration and the state.
func knownAddresses(cfg *config.Config, st *state.State) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range cfg.Mailings {
		seen[m.Address] = true
		out = append(out, m.Address)
	}
	out = append(out, st.AddressesWhere(func(a string, _ *state.Mailing) bool { return !seen[a] })...)
	return out
}

// applySchedule holds back the letters whose send_after is later than now
// and reports every letter still unposted past its post_by.
func (p *Plan) applySchedule(now time.Time) {
	for _, ch := range p.Changes {
		if ch.Action != ActionCreate && ch.Action != ActionReplace {
			continue
		}
		m := ch.Desired
		sch := m.Schedule
		if !sch.PostBy.IsZero() && now.After(sch.PostBy) {
			p.Diagnostics = append(p.Diagnostics, diag.NewDiag(diag.CodePastDeadline, hcl.DiagError,
				"Letter past its deadline",
				fmt.Sprintf("%s had to be posted by %s (post_by), and it is now %s: it is still not posted. Posting it late may be worthless or harmful: move post_by if a late letter is still wanted, or remove the mailing.",
					m.Address, config.FormatTime(sch.PostBy), config.FormatTime(now.In(sch.PostBy.Location()))),
				sch.PostByRange))
		}
		if !sch.SendAfter.IsZero() && now.Before(sch.SendAfter) {
			ch.Action = ActionScheduled
			ch.Reason = "scheduled: not posted before " + config.FormatTime(sch.SendAfter)
		}
	}
}

// checkLimit refuses a plan that posts more letters than the limit in
// force: --max-posts, else max_posts, else config.DefaultMaxPosts.
func (p *Plan) checkLimit(cfg *config.Config, opts PlanOptions) {
	p.MaxPosts, p.MaxPostsFrom = config.DefaultMaxPosts, LimitDefault
	var subject *hcl.Range
	switch {
	case opts.MaxPosts > 0:
		p.MaxPosts, p.MaxPostsFrom = opts.MaxPosts, LimitFlag
	case cfg.Limits.MaxPostsRange != nil:
		p.MaxPosts, p.MaxPostsFrom, subject = cfg.Limits.MaxPosts, LimitConfig, cfg.Limits.MaxPostsRange
	}
	n := p.Counts().Post
	if n <= p.MaxPosts {
		return
	}
	from := map[string]string{
		LimitDefault: "the default limit, as the postform block sets no max_posts",
		LimitConfig:  "max_posts in the postform block",
		LimitFlag:    "--max-posts",
	}[p.MaxPostsFrom]
	p.Diagnostics = append(p.Diagnostics, diag.NewDiag(diag.CodeTooManyPosts, hcl.DiagError,
		"Too many letters for one plan",
		fmt.Sprintf("This plan would post %d letters, more than %d (%s). Posted letters cannot be recalled: check that the plan posts what you meant (a for_each over the wrong list?), then raise the limit with max_posts = %d in the postform block, or for this run only with --max-posts=%d. Nothing was posted.",
			n, p.MaxPosts, from, n, n),
		subject))
}

// Estimate is the postage of the letters a plan posts, by the pricing.
type Estimate struct {
	Currency string
	// Total is in cents of Currency, summed from each letter's rounded price.
	Total    int64
	Services []ServiceEstimate
}

// ServiceEstimate is one service's share of an estimate.
type ServiceEstimate struct {
	Service       string
	Letters       int
	Price         float64
	ExtraSheets   int
	PerExtraSheet float64
	Total         int64 // cents
}

// estimate prices the letters the plan posts and refuses one over
// max_cost or posting a service the pricing has no price for.
func (p *Plan) estimate(cfg *config.Config) {
	pr := cfg.Limits.Pricing
	if pr == nil {
		return
	}
	est := &Estimate{Currency: pr.Currency}
	by := map[string]*ServiceEstimate{}
	for _, ch := range p.Changes {
		if ch.Action != ActionCreate && ch.Action != ActionReplace {
			continue
		}
		m := ch.Desired
		price, ok := pr.Services[m.Service]
		if !ok {
			p.Diagnostics = append(p.Diagnostics, diag.NewDiag(diag.CodeNoPrice, hcl.DiagError,
				"No price for a service",
				fmt.Sprintf("%s posts through service %q, which the pricing block has no price for (it prices %s), so the postage of this plan cannot be estimated. Add service %q { price = … } to the pricing block.",
					ch.Address, m.Service, quoteList(pr.PricedServices()), m.Service),
				&m.DeclRange))
			continue
		}
		se := by[m.Service]
		if se == nil {
			se = &ServiceEstimate{Service: m.Service, Price: price.Price, PerExtraSheet: price.PerExtraSheet}
			by[m.Service] = se
		}
		extra := sheets(m) - 1
		se.Letters++
		se.ExtraSheets += extra
		se.Total += cents(price.Price) + int64(extra)*cents(price.PerExtraSheet)
	}
	for _, se := range by {
		est.Services = append(est.Services, *se)
		est.Total += se.Total
	}
	sort.Slice(est.Services, func(i, j int) bool { return est.Services[i].Service < est.Services[j].Service })
	p.Estimate = est
	if lim := cfg.Limits; lim.MaxCostRange != nil && est.Total > cents(lim.MaxCost) {
		p.Diagnostics = append(p.Diagnostics, diag.NewDiag(diag.CodeOverBudget, hcl.DiagError,
			"Postage over max_cost",
			fmt.Sprintf("The estimated postage of this plan is %s %s, more than max_cost = %s. Check the plan (the price list, the number of letters and their sheets), then raise max_cost in the postform block, or post fewer letters at a time with --target or --exclude. Nothing was posted.",
				Money(est.Total), est.Currency, Money(cents(lim.MaxCost))),
			lim.MaxCostRange))
	}
}

// sheets counts the sheets a letter prints on: each document's pages, on
// both sides with printMode = "2SIDE"; a document whose pages are not
// known (--skip-preflight) counts as one sheet.
func sheets(m *config.Mailing) int {
	n := 0
	for _, d := range m.Documents {
		pages := max(d.Pages, 1)
		if strings.EqualFold(m.Options["printMode"], "2SIDE") {
			pages = (pages + 1) / 2
		}
		n += pages
	}
	return max(n, 1)
}

func cents(f float64) int64 { return int64(math.Round(f * 100)) }

var numbers = message.NewPrinter(language.English)

// Money formats cents with thousands grouped: 642000 → "6,420.00".
func Money(c int64) string { return numbers.Sprintf("%.2f", float64(c)/100) }

// Count formats a count with thousands grouped: 1000 → "1,000".
func Count(n int) string { return numbers.Sprintf("%d", n) }
