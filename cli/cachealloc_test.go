package cli

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postform/postform/pdf"
)

// Recipients decoded from shared blocks (recipientAlloc) are the ones
// decoded each on its own, and share nothing a caller can change: an
// append to one's lines, or an edit of them, leaves every other as it was.
func TestRecipientsFromBlocksAreEachTheirOwn(t *testing.T) {
	// The first an empty list: it is read back as one, not as none.
	vals := []string{string(encodeRecipient(nil, &pdf.Recipient{Lines: []string{}}))}
	for i := range 3000 {
		r := &pdf.Recipient{Postcode: fmt.Sprint(75000 + i%20), City: strings.Repeat("Paris ", i%5), Page: i % 3, Pages: 1 + i%4}
		if i%7 != 0 {
			r.Lines = make([]string, i%9) // 0 to 8 lines, sometimes an empty list
			for j := range r.Lines {
				r.Lines[j] = fmt.Sprintf("line %d of %d%s", j, i, strings.Repeat("x", i%300))
			}
		}
		if i%50 == 0 {
			r.Lines = make([]string, 70+i%3) // longer than a block takes
			r.Problems = []pdf.Problem{{Kind: "crossing", Line: "l", Message: fmt.Sprint(i)}}
		}
		vals = append(vals, string(encodeRecipient(nil, r)))
	}
	var a recipientAlloc
	var got []*pdf.Recipient
	for i, v := range vals {
		r, ok := decodeRecipient(v, &a)
		want, wantOK := decodeRecipient(v, nil)
		if ok != wantOK || !reflect.DeepEqual(r, want) {
			t.Fatalf("%d: from blocks %#v (%v), on its own %#v (%v)", i, r, ok, want, wantOK)
		}
		got = append(got, r)
	}
	for _, r := range got {
		r.Lines = append(r.Lines, "appended")
		if len(r.Lines) > 1 {
			r.Lines[0] = "edited"
		}
		r.City += "!"
	}
	for i, v := range vals {
		want, _ := decodeRecipient(v, nil)
		want.Lines = append(want.Lines, "appended")
		if len(want.Lines) > 1 {
			want.Lines[0] = "edited"
		}
		want.City += "!"
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("%d: after every recipient was edited, %#v; want %#v", i, got[i], want)
		}
	}
}

// The sha256s a hash cache answers from shared blocks are the ones it was
// given, after many lookups fill several blocks.
func TestHashCacheSumsFromBlocks(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2026, 12, 1, 8, 49, 3, 123456789, time.UTC)
	c := openHashCache(dir)
	sha := func(i int) string {
		if i%10 == 0 {
			return fmt.Sprintf("not-hex-%d", i) // kept as a string, not as 32 bytes
		}
		return fmt.Sprintf("%064x", i*7919)
	}
	for i := range 2000 {
		c.Store(fmt.Sprintf("%s/c%04d.pdf", dir, i), 771, mtime, sha(i), 1)
	}
	c.save()
	c = loaded(openHashCache(dir))
	var sums []string
	for i := range 2000 {
		s, _, ok := c.Lookup(fmt.Sprintf("%s/c%04d.pdf", dir, i), 771, mtime)
		if !ok {
			t.Fatalf("%d not found", i)
		}
		sums = append(sums, s)
	}
	for i, s := range sums {
		if s != sha(i) {
			t.Fatalf("%d: %q, stored %q", i, s, sha(i))
		}
	}
}
