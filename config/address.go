package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FormatAddress returns a mailing's address: mailing.NAME, or with a
// for_each key mailing.NAME["KEY"], the key quoted with Go escapes.
func FormatAddress(name, key string, hasKey bool) string {
	if !hasKey {
		return "mailing." + name
	}
	// Built on the stack and copied once: Quote and the concatenation
	// were two allocations per letter.
	var buf [128]byte
	b := append(buf[:0], "mailing."...)
	b = append(b, name...)
	b = append(b, '[')
	b = strconv.AppendQuote(b, key)
	return string(append(b, ']'))
}

// ParseAddress is the inverse of FormatAddress, for addresses given on the
// command line (--replace, import, state mv). The "mailing." prefix may be
// omitted.
func ParseAddress(addr string) (name, key string, hasKey bool, err error) {
	rest := strings.TrimPrefix(strings.TrimSpace(addr), "mailing.")
	name = rest
	if i := strings.IndexByte(rest, '['); i >= 0 {
		name = rest[:i]
		idx := rest[i:]
		if !strings.HasSuffix(idx, "]") {
			return "", "", false, fmt.Errorf("invalid address %q: missing ] after the key", addr)
		}
		key, err = strconv.Unquote(idx[1 : len(idx)-1])
		if err != nil {
			return "", "", false, fmt.Errorf("invalid address %q: the key must be a quoted string, as in mailing.%s[\"key\"]", addr, name)
		}
		hasKey = true
	}
	if !hclsyntax.ValidIdentifier(name) {
		return "", "", false, fmt.Errorf("invalid address %q: expected mailing.NAME or mailing.NAME[\"KEY\"]", addr)
	}
	return name, key, hasKey, nil
}
