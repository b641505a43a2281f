package config

import (
	"fmt"
	"strings"

	goversion "github.com/hashicorp/go-version"
)

// versionAllowed reports whether version satisfies constraints, a comma
// separated list like ">= 0.1, < 2" with the operators =, !=, >, >=, <, <=
// and ~> (pessimistic: ~> 1.2 is >= 1.2, < 2.0; ~> 1.2.3 is >= 1.2.3,
// < 1.3.0), checked by hashicorp/go-version, the library Terraform checks
// its required_version with.
//
// A pre-release is checked as go-version and SemVer have it: 0.2.0-rc1 is
// not 0.2.0 and satisfies only a constraint that names a pre-release of
// 0.2.0. A development build (built from source: "X.Y.Z-dev", or no
// version number at all) satisfies everything: it is neither the release
// it precedes nor any other, and refusing it would stop every
// configuration with a required_version from loading in a source build.
func versionAllowed(version, constraints string) (bool, error) {
	cs, err := goversion.NewConstraint(constraints)
	if err != nil {
		return false, fmt.Errorf("%q is not a version constraint such as \">= 0.1\"", strings.TrimSpace(constraints))
	}
	v, err := goversion.NewVersion(version)
	if err != nil || v.Prerelease() == "dev" {
		return true, nil
	}
	return cs.Check(v), nil
}
