package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// credentialAttrs are the provider arguments only a call to the platform
// needs: a command that makes none (LoadOptions.Offline) needs no value
// for the variables they read.
var credentialAttrs = map[string]bool{"login": true, "password": true}

// onlyCredentials reports whether var.name is read by the provider's login
// or password and by nothing else: then a run that makes no API call can
// do without its value, as Terraform's state list, show and output do.
// A body it cannot walk (JSON syntax) counts as a use elsewhere.
func (l *loader) onlyCredentials(name string) bool {
	inCredentials, elsewhere := false, false
	visit := func(expr hcl.Expression, credential bool) {
		for _, t := range expr.Variables() {
			if t.RootName() != "var" || len(t) < 2 {
				continue
			}
			if a, ok := t[1].(hcl.TraverseAttr); ok && a.Name == name {
				if credential {
					inCredentials = true
				} else {
					elsewhere = true
				}
			}
		}
	}
	var walk func(body *hclsyntax.Body, provider bool)
	walk = func(body *hclsyntax.Body, provider bool) {
		for an, a := range body.Attributes {
			visit(a.Expr, provider && credentialAttrs[an])
		}
		for _, b := range body.Blocks {
			walk(b.Body, false)
		}
	}
	for typ, blocks := range l.blocks {
		for _, b := range blocks {
			body, ok := b.Body.(*hclsyntax.Body)
			if !ok {
				return false
			}
			if typ == "variable" {
				continue // its own declaration (validation reads var.name)
			}
			walk(body, typ == "provider")
		}
	}
	return inCredentials && !elsewhere
}

// deferredCredential reports whether the provider argument a reads only
// variables left without a value by an offline load.
func (l *loader) deferredCredential(a *hcl.Attribute) bool {
	if a == nil || len(l.deferred) == 0 {
		return false
	}
	refs := a.Expr.Variables()
	for _, t := range refs {
		at, ok := t[min(1, len(t)-1)].(hcl.TraverseAttr)
		if t.RootName() != "var" || !ok || !l.deferred[at.Name] {
			return false
		}
	}
	return len(refs) > 0
}

// DeferredNames is Deferred for a message: "password", "login and password".
func (p *Provider) DeferredNames() string {
	return strings.Join(p.Deferred, " and ")
}
