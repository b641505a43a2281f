package config

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// firstSyntaxError keeps, of one file's parse errors, the first in the
// file: the parser goes on after it from a wrong idea of where strings and
// blocks end, so what follows is mostly its echo, placed in the wrong
// block (one missing quote gave fifteen errors, the real one last). The
// detail says how many were left out; warnings are kept.
func firstSyntaxError(diags hcl.Diagnostics) hcl.Diagnostics {
	var errs, rest hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		} else {
			rest = append(rest, d)
		}
	}
	if len(errs) == 0 {
		return diags
	}
	sort.SliceStable(errs, func(i, j int) bool { return startByte(errs[i]) < startByte(errs[j]) })
	first := *errs[0]
	if (first.Summary == "Invalid multi-line string" || first.Summary == "Unterminated template string") && first.Subject != nil {
		first.Detail = fmt.Sprintf("A closing quote (\") is probably missing on line %d. %s", first.Subject.Start.Line, first.Detail)
	}
	if n := len(errs) - 1; n > 0 {
		first.Detail += fmt.Sprintf("\n\n%d more syntax error(s) in this file were left out: they usually follow from this one. Fix it and run again.", n)
	}
	return append(hcl.Diagnostics{&first}, rest...)
}

func startByte(d *hcl.Diagnostic) int {
	if d.Subject == nil {
		return 1 << 62
	}
	return d.Subject.Start.Byte
}
