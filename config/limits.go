package config

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/internal/diag"
)

// DefaultMaxPosts is how many letters one plan may post when the postform
// block sets no max_posts. Letters cannot be recalled and cost money: a
// for_each over the wrong CSV must stop at a plan a person can still read
// whole, not at ten thousand letters. 100 covers a small business's monthly
// run; a larger mailing says so in its configuration (or --max-posts).
const DefaultMaxPosts = 100

// Limits are the postform block's guard rails, checked by the plan.
type Limits struct {
	// MaxPosts is how many letters one plan may post (DefaultMaxPosts
	// unless max_posts says otherwise).
	MaxPosts int
	// MaxPostsRange is where max_posts is written; nil for the default.
	MaxPostsRange *hcl.Range
	// MaxCost bounds the estimated postage of one plan, in the pricing's
	// currency; 0 with MaxCostRange nil means no bound.
	MaxCost      float64
	MaxCostRange *hcl.Range
	// Pricing, when configured, prices each letter a plan posts.
	Pricing *Pricing
}

// Pricing is postform { pricing { currency = "EUR" service "NAME" { … } } }.
type Pricing struct {
	Currency string
	// Services are the prices by service name as mailings write it.
	Services  map[string]Price
	DeclRange hcl.Range
}

// Price is what one letter of a service costs, in the pricing's currency:
// Price for its first sheet, PerExtraSheet for each further sheet.
type Price struct {
	Price, PerExtraSheet float64
}

var pricingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "currency", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "service", LabelNames: []string{"name"}}},
}

var priceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "price", Required: true}, {Name: "per_extra_sheet"}},
}

// maxPostsCap keeps max_posts a count a person meant, far from overflow.
const maxPostsCap = 10_000_000

// decodeLimits reads max_posts, max_cost and the pricing block.
func (l *loader) decodeLimits() {
	l.cfg.Limits = Limits{MaxPosts: DefaultMaxPosts}
	content := l.postformContent()
	if content == nil {
		return
	}
	lim := &l.cfg.Limits
	s := l.baseScope("the postform block")
	if a, ok := content.Attributes["max_posts"]; ok {
		if f, ok := l.numberAttr(a, s); ok {
			if f < 1 || f > maxPostsCap || f != math.Trunc(f) {
				l.add(errorf(diag.CodeInvalidValue, a.Expr.Range().Ptr(), "Invalid max_posts",
					fmt.Sprintf("max_posts is how many letters one plan may post: a whole number from 1 to %d (default %d).", maxPostsCap, DefaultMaxPosts)))
			} else {
				lim.MaxPosts, lim.MaxPostsRange = int(f), a.Expr.Range().Ptr()
			}
		}
	}
	if a, ok := content.Attributes["max_cost"]; ok {
		if f, ok := l.numberAttr(a, s); ok {
			if f < 0 {
				l.add(errorf(diag.CodeInvalidValue, a.Expr.Range().Ptr(), "Invalid max_cost", "max_cost is the most one plan may spend on postage, in the pricing's currency: zero or more."))
			} else {
				lim.MaxCost, lim.MaxCostRange = f, a.Expr.Range().Ptr()
			}
		}
	}
	pricing := l.postformBlock(content, "pricing", "A pricing block was already declared at %s.")
	if pricing != nil {
		lim.Pricing = l.decodePricing(pricing)
	}
	if lim.MaxCostRange != nil && pricing == nil {
		l.add(errorf(diag.CodeMissingArgument, lim.MaxCostRange, "max_cost without pricing",
			"max_cost bounds the estimated postage, which needs a price per service: add a pricing block to the postform block, e.g.\n\n  pricing {\n    currency = \"EUR\"\n    service \"Lettre recommandée avec AR\" {\n      price           = 6.42\n      per_extra_sheet = 0.15\n    }\n  }"))
	}
}

func (l *loader) decodePricing(b *hcl.Block) *Pricing {
	bc, diags := decodeBody(b.Body, pricingSchema)
	l.add(diags...)
	if diags.HasErrors() {
		return nil
	}
	s := l.baseScope("the pricing block")
	p := &Pricing{Services: map[string]Price{}, DeclRange: b.DefRange}
	p.Currency, _ = l.stringAttr(bc.Attributes, "currency", s, "")
	p.Currency = strings.TrimSpace(p.Currency)
	if p.Currency == "" {
		l.add(errorf(diag.CodeInvalidValue, bc.Attributes["currency"].Expr.Range().Ptr(), "Empty currency", "currency names the pricing's currency, such as \"EUR\"."))
	}
	for _, sb := range bc.Blocks {
		name := sb.Labels[0]
		if _, dup := p.Services[name]; dup {
			l.add(errorf(diag.CodeDuplicate, sb.DefRange.Ptr(), "Duplicate service price", fmt.Sprintf("The pricing block prices service %q twice.", name)))
			continue
		}
		sc, diags := decodeBody(sb.Body, priceSchema)
		l.add(diags...)
		if diags.HasErrors() {
			continue
		}
		var pr Price
		for _, f := range []struct {
			name string
			dst  *float64
		}{{"price", &pr.Price}, {"per_extra_sheet", &pr.PerExtraSheet}} {
			a, ok := sc.Attributes[f.name]
			if !ok {
				continue
			}
			if v, ok := l.numberAttr(a, s); ok {
				if v < 0 {
					l.add(errorf(diag.CodeInvalidValue, a.Expr.Range().Ptr(), "Invalid "+f.name, fmt.Sprintf("%s of service %q is an amount in %s: zero or more.", f.name, name, p.Currency)))
				}
				*f.dst = v
			}
		}
		p.Services[name] = pr
	}
	return p
}

// PricedServices lists the services the pricing names, sorted.
func (p *Pricing) PricedServices() []string {
	out := make([]string, 0, len(p.Services))
	for n := range p.Services {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
