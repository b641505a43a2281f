package config

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true},
		{Name: "description"},
		{Name: "sensitive"},
	},
}

// MailingStateAttrs are the state-backed attributes an output can read from
// a mailing (mailing.NAME.job_id, mailing.NAME["KEY"].tracking_numbers).
// EvalOutputs sets them to null for a mailing the state does not know yet,
// so outputs evaluate before the first apply. The attrs function passed to
// EvalOutputs may return more; these are only the ones always present.
var MailingStateAttrs = map[string]cty.Type{
	"job_id":           cty.String,
	"status":           cty.String,
	"submitted_at":     cty.String,
	"tracking_numbers": cty.List(cty.String),
}

func (l *loader) decodeOutputs() {
	mailings := map[string]bool{}
	for _, b := range l.blocks["mailing"] {
		mailings[b.Labels[0]] = true
	}
	for _, b := range l.uniqueBlocks("output", true) {
		content, diags := decodeBody(b.Body, outputSchema)
		l.add(diags...)
		if diags.HasErrors() {
			continue
		}
		o := &Output{Name: b.Labels[0], Expr: content.Attributes["value"].Expr, DeclRange: b.DefRange}
		if a, ok := content.Attributes["description"]; ok {
			o.Description = l.literal(a, cty.String).AsString()
		}
		if a, ok := content.Attributes["sensitive"]; ok {
			o.Sensitive = l.literal(a, cty.Bool).True()
		}
		s := l.baseScope(fmt.Sprintf("output %q", o.Name))
		s.mailings = mailings
		l.add(s.checkRefs(o.Expr)...)
		l.cfg.Outputs = append(l.cfg.Outputs, o)
	}
	sort.Slice(l.cfg.Outputs, func(i, j int) bool { return l.cfg.Outputs[i].Name < l.cfg.Outputs[j].Name })
}

// EvalOutputs evaluates every output. attrs gives a mailing instance's
// state-backed attributes (an object: job_id, status, tracking_numbers, …)
// by address; each mailing is then that object merged over its known
// configuration attributes (address, name, key, job_name, service, owner,
// options, proofs, content_hash). For an address attrs does not know, the
// state-backed attributes are null. A mailing with for_each is an object
// of its instances by key, like Terraform's resources.
func (c *Config) EvalOutputs(attrs func(address string) (cty.Value, bool)) (map[string]cty.Value, hcl.Diagnostics) {
	mailing := c.mailingObject(attrs)
	names := map[string]bool{}
	for n := range c.forEach {
		names[n] = true
	}
	s := &scope{vars: c.varVals, locals: c.localVals, dir: c.Dir, mailings: names, mailing: mailing}
	out := map[string]cty.Value{}
	var diags hcl.Diagnostics
	for _, o := range c.Outputs {
		s.where = fmt.Sprintf("output %q", o.Name)
		v, d := s.eval(o.Expr, c.funcs, cty.DynamicPseudoType, fmt.Sprintf("output %q", o.Name))
		diags = append(diags, d...)
		if !d.HasErrors() {
			out[o.Name] = v
		}
	}
	return out, diags
}

func (c *Config) mailingObject(attrs func(string) (cty.Value, bool)) cty.Value {
	// First collect state objects, and the type of each state attribute.
	stateTypes := map[string]cty.Type{}
	for k, t := range MailingStateAttrs {
		stateTypes[k] = t
	}
	states := map[string]map[string]cty.Value{}
	for _, m := range c.Mailings {
		if attrs == nil {
			break
		}
		v, ok := attrs(m.Address)
		if !ok || v.IsNull() || !v.IsKnown() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
			continue
		}
		st := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			st[k.AsString()] = e
			if _, seen := stateTypes[k.AsString()]; !seen || e.Type() != cty.DynamicPseudoType {
				stateTypes[k.AsString()] = e.Type()
			}
		}
		states[m.Address] = st
	}

	byName := map[string]map[string]cty.Value{}
	single := map[string]cty.Value{}
	for _, m := range c.Mailings {
		obj := map[string]cty.Value{}
		for k, t := range stateTypes {
			obj[k] = cty.NullVal(t)
		}
		for k, v := range states[m.Address] {
			obj[k] = v
		}
		for k, v := range m.configAttrs() {
			if _, fromState := states[m.Address][k]; !fromState || k == "address" {
				obj[k] = v
			}
		}
		if m.HasKey {
			if byName[m.Name] == nil {
				byName[m.Name] = map[string]cty.Value{}
			}
			byName[m.Name][m.Key] = cty.ObjectVal(obj)
		} else {
			single[m.Name] = cty.ObjectVal(obj)
		}
	}
	all := map[string]cty.Value{}
	for name, hasForEach := range c.forEach {
		switch {
		case hasForEach:
			all[name] = objectOf(byName[name])
		default:
			if v, ok := single[name]; ok {
				all[name] = v
			}
		}
	}
	return objectOf(all)
}

// configAttrs are the attributes of a mailing known from the configuration.
func (m *Mailing) configAttrs() map[string]cty.Value {
	key := cty.NullVal(cty.String)
	if m.HasKey {
		key = cty.StringVal(m.Key)
	}
	opts := cty.MapValEmpty(cty.String)
	if len(m.Options) > 0 {
		om := map[string]cty.Value{}
		for k, v := range m.Options {
			om[k] = cty.StringVal(v)
		}
		opts = cty.MapVal(om)
	}
	proofs := cty.ListValEmpty(cty.String)
	if len(m.Proofs) > 0 {
		ps := make([]cty.Value, len(m.Proofs))
		for i, p := range m.Proofs {
			ps[i] = cty.StringVal(p)
		}
		proofs = cty.ListVal(ps)
	}
	owner := cty.NullVal(cty.String)
	if m.Owner != "" {
		owner = cty.StringVal(m.Owner)
	}
	return map[string]cty.Value{
		"address":      cty.StringVal(m.Address),
		"name":         cty.StringVal(m.Name),
		"key":          key,
		"job_name":     cty.StringVal(m.JobName),
		"service":      cty.StringVal(m.Service),
		"owner":        owner,
		"options":      opts,
		"proofs":       proofs,
		"content_hash": cty.StringVal(m.ContentHash),
	}
}
