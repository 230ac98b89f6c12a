package segment

import (
	"sort"
	"strings"
)

// suggest returns up to three candidates close to word by edit distance,
// nearest first, and only those close enough to be a likely typo.
func suggest(word string, candidates []string) []string {
	if len(word) > 200 {
		return nil // no one mistypes a key this long
	}
	lw := strings.ToLower(word)
	limit := len([]rune(word)) / 3
	limit = max(1, min(limit, 3))
	type near struct {
		s string
		d int
	}
	var found []near
	seen := make(map[string]bool)
	for _, c := range candidates {
		if c == word || seen[c] {
			continue
		}
		seen[c] = true
		d := editDistance(lw, strings.ToLower(c))
		if d <= limit {
			found = append(found, near{c, d})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].d != found[j].d {
			return found[i].d < found[j].d
		}
		return found[i].s < found[j].s
	})
	var out []string
	for i := 0; i < len(found) && i < 3; i++ {
		out = append(out, found[i].s)
	}
	return out
}

// didYouMean returns `; did you mean "a"?` (or "a" or "b", …) for the
// suggestions, or "".
func didYouMean(word string, candidates []string) string {
	s := suggest(word, candidates)
	if len(s) == 0 {
		return ""
	}
	return "; did you mean " + orList(s) + "?"
}

// orList quotes words and joins them: "a", "b" or "c".
func orList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = `"` + w + `"`
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// editDistance is the Levenshtein distance between a and b in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
