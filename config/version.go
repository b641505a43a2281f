package config

import (
	"fmt"
	"strconv"
	"strings"
)

// versionAllowed reports whether version satisfies constraints, a comma
// separated list like ">= 0.1, < 2" with the operators =, !=, >, >=, <, <=
// and ~> (pessimistic: ~> 1.2 is >= 1.2, < 2.0; ~> 1.2.3 is >= 1.2.3,
// < 1.3.0). A version that is not a number (a development build) satisfies
// everything.
func versionAllowed(version, constraints string) (bool, error) {
	have, haveOK := parseVersion(version)
	allowed := true
	for _, c := range strings.Split(constraints, ",") {
		c = strings.TrimSpace(c)
		op := "="
		for _, candidate := range []string{">=", "<=", "!=", "~>", ">", "<", "="} {
			if strings.HasPrefix(c, candidate) {
				op, c = candidate, strings.TrimSpace(c[len(candidate):])
				break
			}
		}
		want, ok := parseVersion(c)
		if !ok {
			return false, fmt.Errorf("%q is not a version constraint such as \">= 0.1\"", strings.TrimSpace(constraints))
		}
		if !haveOK {
			continue
		}
		cmp := compareVersions(have.parts, want.parts)
		switch op {
		case "=":
			allowed = allowed && cmp == 0
		case "!=":
			allowed = allowed && cmp != 0
		case ">":
			allowed = allowed && cmp > 0
		case ">=":
			allowed = allowed && cmp >= 0
		case "<":
			allowed = allowed && cmp < 0
		case "<=":
			allowed = allowed && cmp <= 0
		case "~>":
			upper := append([]int(nil), want.parts...)
			i := want.given - 2 // the last given part but one is bumped
			if i < 0 {
				i = 0
			}
			upper[i]++
			for j := i + 1; j < len(upper); j++ {
				upper[j] = 0
			}
			allowed = allowed && cmp >= 0 && compareVersions(have.parts, upper) < 0
		}
	}
	return allowed, nil
}

type version struct {
	parts []int // always 3
	given int   // how many parts were written
}

func parseVersion(s string) (version, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	fields := strings.Split(s, ".")
	if s == "" || len(fields) > 3 {
		return version{}, false
	}
	v := version{parts: make([]int, 3), given: len(fields)}
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return version{}, false
		}
		v.parts[i] = n
	}
	return v, true
}

func compareVersions(a, b []int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
