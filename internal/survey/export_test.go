package survey

import "time"

// MatchURL exposes URL matching to the tests.
func MatchURL(rules []URLRule, url string) bool {
	ms, err := compileURLRules(rules)
	if err != nil {
		panic(err)
	}
	return matchURL(ms, url)
}

// Allows exposes the frequency rule to the tests.
func Allows(fr Frequency, s Seen, now time.Time) bool { return fr.allows(s, now) }
