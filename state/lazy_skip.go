package state

import (
	"encoding/binary"
)

// skipComposite is skipValue for the object or array at b[i], eight bytes
// at a time: a terminal letter's detail, skipped whole by a plan, is most
// of a state's bytes, and its strings are too short for skipString's runs
// to pay (a quote every few bytes). Each word gives, without a branch, its
// quotes, which bytes are inside a string (the parity of the quotes so
// far), and its brackets outside strings; only a word where the depth may
// reach zero is looked at byte by byte. A backslash anywhere (an escape,
// rare in a state) or a value without an end gives ok false:
// skipValue's byte-wise loop then reads the value, and FuzzSkipValue
// checks that both agree.
func skipComposite(b []byte, i int) (end int, ok bool) {
	depth := 0
	var inString uint64 // highs when the previous word ended inside a string
	for ; i < len(b); i += 8 {
		var x uint64
		if len(b)-i >= 8 {
			x = binary.LittleEndian.Uint64(b[i:])
		} else {
			// The last bytes, padded with zeros (no quote, no bracket);
			// a loop, not a copy, keeps this loop free of calls.
			for k := len(b) - 1; k >= i; k-- {
				x = x<<8 | uint64(b[k])
			}
		}
		if hasByte(x, '\\') {
			return 0, false
		}
		// in: the high bit of each byte at or after an odd number of
		// quotes since the string state at the word's start (a prefix
		// XOR over the bytes), so set inside strings; a quote itself is
		// no bracket, whichever side it is given.
		in := bytesEqual(x, '"')
		in ^= in << 8
		in ^= in << 16
		in ^= in << 32
		in ^= inString
		// c|0x20 is '{' for '{' and '[' only, '}' for '}' and ']' only.
		y := x | lows*0x20
		open := bytesEqual(y, '{') &^ in
		closing := bytesEqual(y, '}') &^ in
		if n := countHigh(closing); depth > n {
			depth += countHigh(open) - n // cannot reach zero in this word
		} else {
			for k := uint(7); k < 64; k += 8 {
				switch {
				case open>>k&1 != 0:
					depth++
				case closing>>k&1 != 0:
					if depth--; depth == 0 {
						return i + int(k/8) + 1, true
					}
				}
			}
		}
		inString = -(in >> 63) & highs
	}
	return 0, false
}

// countHigh counts the bytes of m with their high bit set, m having no
// other bit: the bytes' bits summed into the top byte by a multiply,
// without the call bits.OnesCount64 costs where POPCNT is not assumed.
func countHigh(m uint64) int { return int((m >> 7) * lows >> 56) }

// bytesEqual returns x with the high bit set in each byte equal to c and
// every other bit clear: exact per byte (no borrow crosses a byte), which
// hasByte is not.
func bytesEqual(x uint64, c byte) uint64 {
	const lows7 = 0x7f7f7f7f7f7f7f7f
	y := x ^ lows*uint64(c)
	return ^((y&lows7 + lows7) | y | lows7)
}
