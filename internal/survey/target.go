package survey

import (
	"hash/fnv"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Visitor is who asks for surveys and where: the tracker's anonymous ID,
// the user ID once identified, the page and the device type.
type Visitor struct {
	AnonymousID string
	UserID      string
	URL         string
	Device      string // desktop, mobile, tablet; "" when unknown
}

// sampleID is what sampling hashes: the user ID when there is one, so a
// user is in or out on every device, else the anonymous ID.
func (v Visitor) sampleID() string {
	if v.UserID != "" {
		return "u:" + v.UserID
	}
	return "a:" + v.AnonymousID
}

// urlMatcher is a URL rule ready to match.
type urlMatcher struct {
	rule URLRule
	re   *regexp.Regexp // regex rules
	norm string         // exact rules: the value normalised
}

func compileURLRules(rules []URLRule) ([]urlMatcher, error) {
	out := make([]urlMatcher, 0, len(rules))
	for _, r := range rules {
		m := urlMatcher{rule: r}
		switch r.Match {
		case MatchRegex:
			re, err := regexp.Compile(r.Value)
			if err != nil {
				return nil, err
			}
			m.re = re
		case MatchExact:
			m.norm = normalizeURL(r.Value, strings.Contains(r.Value, "?"))
		}
		out = append(out, m)
	}
	return out, nil
}

// matchURL reports whether page matches any rule; no rules match every
// page.
func matchURL(ms []urlMatcher, page string) bool {
	if len(ms) == 0 {
		return true
	}
	for _, m := range ms {
		switch m.rule.Match {
		case MatchExact:
			if normalizeURL(page, strings.Contains(m.rule.Value, "?")) == m.norm {
				return true
			}
		case MatchContains:
			if strings.Contains(page, m.rule.Value) {
				return true
			}
		case MatchStartsWith:
			if strings.HasPrefix(page, m.rule.Value) {
				return true
			}
		case MatchRegex:
			if m.re.MatchString(page) {
				return true
			}
		}
	}
	return false
}

// normalizeURL is the form exact rules compare: scheme and host lowercased,
// no fragment, no trailing slash, and no query unless the rule has one.
func normalizeURL(s string, keepQuery bool) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return strings.TrimRight(s, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	if !keepQuery {
		u.RawQuery, u.ForceQuery = "", false
	}
	out := u.String()
	if q := strings.IndexByte(out, '?'); q >= 0 {
		return strings.TrimRight(out[:q], "/") + out[q:]
	}
	return strings.TrimRight(out, "/")
}

// matchDevice reports whether the device fits the survey's devices: any
// when none are listed, else only a listed one (an unknown device never).
func matchDevice(devices []string, device string) bool {
	return len(devices) == 0 || contains(devices, device)
}

// InSample reports whether a visitor falls in a survey's sample. The
// choice hashes the survey and the visitor, so it is the same on every
// request, and different surveys sample different visitors.
func InSample(surveyID, visitorID string, percent float64) bool {
	if percent >= 100 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(surveyID))
	h.Write([]byte{0})
	h.Write([]byte(visitorID))
	return float64(h.Sum64()%10000) < percent*100
}

// Seen is what a user has done with a survey before: the last time they
// completed it and the last time they dismissed it (zero when never).
type Seen struct {
	Completed time.Time
	Dismissed time.Time
}

// allows reports whether frequency lets a user who did seen be offered
// the survey at now.
func (fr Frequency) allows(seen Seen, now time.Time) bool {
	if !seen.Completed.IsZero() {
		if fr.Once || now.Before(seen.Completed.AddDate(0, 0, fr.RepeatDays)) {
			return false
		}
	}
	if !seen.Dismissed.IsZero() {
		if fr.DismissDays == 0 || now.Before(seen.Dismissed.AddDate(0, 0, fr.DismissDays)) {
			return false
		}
	}
	return true
}
