package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/postform/postform/internal/diag"
)

// evalLocals evaluates every local value in dependency order, so locals may
// refer to each other whatever order they are written in. A cycle is an
// error that names every local in it.
func (l *loader) evalLocals() {
	attrs := map[string]*hcl.Attribute{}
	for _, b := range l.blocks["locals"] {
		as, diags := decodeAttrs(b.Body)
		l.add(diags...)
		for _, name := range keysOf(as) {
			a := as[name]
			if prev, dup := attrs[name]; dup {
				l.add(errorf(diag.CodeDuplicate, a.NameRange.Ptr(), "Duplicate local value",
					fmt.Sprintf("local.%s was already defined at %s.", name, prev.NameRange)))
				continue
			}
			attrs[name] = a
		}
	}

	// declared holds a placeholder per local so that reference checks
	// accept any declared local; values replace them as they are computed.
	declared := map[string]cty.Value{}
	for name := range attrs {
		declared[name] = cty.DynamicVal
	}
	vals := map[string]cty.Value{}
	l.cfg.localVals = vals

	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string) bool
	visit = func(name string) bool {
		switch state[name] {
		case done:
			_, ok := vals[name]
			return ok
		case visiting:
			i := 0
			for stack[i] != name {
				i++
			}
			cycle := append(append([]string(nil), stack[i:]...), name)
			for j := range cycle {
				cycle[j] = "local." + cycle[j]
			}
			a := attrs[name]
			l.add(errorf(diag.CodeCycle, a.NameRange.Ptr(), "Cycle in local values",
				fmt.Sprintf("These local values refer to each other in a loop, so none can be computed: %s.", strings.Join(cycle, " → "))))
			return false
		}
		state[name] = visiting
		stack = append(stack, name)
		defer func() {
			stack = stack[:len(stack)-1]
			state[name] = done
		}()
		a := attrs[name]
		ok := true
		for _, t := range a.Expr.Variables() {
			if t.RootName() != "local" {
				continue
			}
			dep, has := traversalAttr(t)
			if _, declared := attrs[dep]; has && declared {
				if !visit(dep) {
					ok = false
				}
			}
		}
		if !ok {
			return false // the dependency's error says enough
		}
		s := &scope{vars: l.cfg.varVals, locals: declared, dir: l.cfg.Dir, where: "a local value"}
		for k, v := range vals {
			declared[k] = v
		}
		v, diags := s.eval(a.Expr, l.funcs, cty.DynamicPseudoType, "local."+name)
		l.add(diags...)
		if diags.HasErrors() {
			return false
		}
		vals[name] = v
		return true
	}
	for _, name := range keysOf(attrs) {
		if state[name] == unvisited {
			visit(name)
		}
	}
}
