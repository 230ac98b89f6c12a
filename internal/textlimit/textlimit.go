// Package textlimit cuts text to a byte limit without splitting a
// character: a cut in the middle of a UTF-8 sequence leaves bytes that the
// database refuses.
package textlimit

import "unicode/utf8"

// Cut returns the longest prefix of s that is at most n bytes long and ends
// on a character boundary. Invalid bytes in s are kept as they are; only
// the cut itself never makes one.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	// Step back over continuation bytes to the start of the character
	// that the limit splits, unless it ends exactly at the limit.
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size > 1 {
		if i+size <= n {
			return s[:i+size]
		}
		return s[:i]
	}
	return s[:n]
}
