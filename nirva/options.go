package nirva

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// ResolveOptions turns option names and values (printMode = "2SIDE") into
// the platform's ids. Types and options are fetched once per client and
// cached. Unknown types or values give one error naming the valid ones.
func (c *Client) ResolveOptions(ctx context.Context, byName map[string]string) ([]OptionRef, error) {
	if len(byName) == 0 {
		return nil, nil
	}
	types, opts, err := c.optionCatalog(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var refs []OptionRef
	var problems []string
	for _, n := range names {
		t, ok := findOptionType(types, n)
		if !ok {
			valid := make([]string, 0, len(types))
			for _, t := range types {
				valid = append(valid, t.Name)
			}
			sort.Strings(valid)
			problems = append(problems, fmt.Sprintf("unknown option %q (valid options: %s)", n, listOrNone(valid)))
			continue
		}
		var valid []string
		found := false
		for _, o := range opts {
			if o.OptionTypeID != t.ID {
				continue
			}
			valid = append(valid, o.Value)
			if !found && o.Value == byName[n] {
				refs = append(refs, OptionRef{OptionTypeID: t.ID, OptionID: o.ID})
				found = true
			}
		}
		if !found {
			for _, o := range opts {
				if o.OptionTypeID == t.ID && strings.EqualFold(o.Value, byName[n]) {
					refs = append(refs, OptionRef{OptionTypeID: t.ID, OptionID: o.ID})
					found = true
					break
				}
			}
		}
		if !found {
			sort.Strings(valid)
			problems = append(problems, fmt.Sprintf("unknown value %q for option %s (valid values: %s)", byName[n], t.Name, listOrNone(valid)))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("nirva: %s", strings.Join(problems, "; "))
	}
	return refs, nil
}

func findOptionType(types []OptionType, name string) (OptionType, bool) {
	for _, t := range types {
		if t.Name == name {
			return t, true
		}
	}
	for _, t := range types {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return OptionType{}, false
}

func listOrNone(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, ", ")
}

// optionCatalog fetches option types and options once.
func (c *Client) optionCatalog(ctx context.Context) ([]OptionType, []Option, error) {
	c.optMu.Lock()
	defer c.optMu.Unlock()
	if c.optLoaded {
		return c.optionTypes, c.options, nil
	}
	types, err := c.OptionTypes(ctx)
	if err != nil {
		return nil, nil, err
	}
	opts, err := c.Options(ctx)
	if err != nil {
		return nil, nil, err
	}
	c.optionTypes, c.options, c.optLoaded = types, opts, true
	return types, opts, nil
}
