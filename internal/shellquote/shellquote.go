// Package shellquote quotes the words of a command postform suggests, so
// that it can be pasted into a POSIX shell as is: an address such as
// mailing.notice["alpha"] loses its quotes to the shell unless quoted.
package shellquote

import "strings"

// Quote returns s as one POSIX shell word: unchanged when it holds only
// characters no shell treats specially, else in single quotes (a single
// quote inside is closed, escaped with a backslash, and reopened).
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Flag is --name=VALUE with VALUE quoted as one word.
func Flag(name, value string) string {
	return "--" + name + "=" + Quote(value)
}

func unsafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./:,+@%=", r)
}
