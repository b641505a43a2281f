package nirva

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ secret, in, want string }{
		{"ab", "ab", "REDACTED"},
		{"ab", "password ab rejected", "password REDACTED rejected"},
		{"ab", `{"password":"ab"}`, `{"password":"REDACTED"}`},
		{"ab", "pw=ab;ab", "pw=REDACTED;REDACTED"},
		{"ab", "a cab, a tab, abc", "a cab, a tab, abc"}, // inside words: kept, documented
		{"ab", "été ab ça", "été REDACTED ça"},
		{"7", "job 7 of 17", "job REDACTED of 17"},
		{"!!", "wow!!!", "wowREDACTED!"},
		{`a"`, `bad "a\"" here`, `bad "REDACTED" here`}, // the JSON-escaped form
		{"a b", "q=a+b", "q=REDACTED"},                  // the URL-encoded form
		{"s3cret-pass", "xs3cret-passx", "xREDACTEDx"},  // long: anywhere
		{"", "anything", "anything"},
	} {
		if got := redact(tc.in, tc.secret); got != tc.want {
			t.Errorf("redact(%q, %q) = %q, want %q", tc.in, tc.secret, got, tc.want)
		}
	}
}

// FuzzRedact: after redaction a long secret appears nowhere and a short
// one nowhere as a whole token (secrets sharing a letter with the
// replacement are left out: the replacement itself could then spell them).
func FuzzRedact(f *testing.F) {
	f.Add("password ab rejected", "ab")
	f.Add("s3cret-pass s3cret-pass", "s3cret-pass")
	f.Add(`{"p":"a\"b"}`, `a"b`)
	f.Fuzz(func(t *testing.T, s, secret string) {
		got := redact(s, secret)
		if secret == "" || strings.ContainsAny(secret, Redacted) {
			return
		}
		if len(secret) >= minSubstringSecret && strings.Contains(got, secret) {
			t.Fatalf("redact(%q, %q) = %q still holds it", s, secret, got)
		}
		if replaceTokens(got, secret) != got {
			t.Fatalf("redact(%q, %q) = %q still holds it as a token", s, secret, got)
		}
	})
}
