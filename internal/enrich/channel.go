package enrich

import (
	"net/url"
	"strings"
)

// Channel names, a simplified version of GA4's default channel grouping.
const (
	ChannelDirect        = "direct"
	ChannelOrganicSearch = "organic_search"
	ChannelPaidSearch    = "paid_search"
	ChannelOrganicSocial = "organic_social"
	ChannelPaidSocial    = "paid_social"
	ChannelEmail         = "email"
	ChannelReferral      = "referral"
	ChannelAffiliate     = "affiliate"
	ChannelDisplay       = "display"
	// ChannelOther is for traffic tagged with a utm_medium that no rule
	// recognises.
	ChannelOther = "other"
)

// Channels returns every name Channel can return, in a stable order suitable
// for a dashboard legend. The slice is new on each call.
func Channels() []string {
	return []string{
		ChannelDirect, ChannelOrganicSearch, ChannelPaidSearch,
		ChannelOrganicSocial, ChannelPaidSocial, ChannelEmail,
		ChannelReferral, ChannelAffiliate, ChannelDisplay, ChannelOther,
	}
}

// UTM holds the campaign parameters of a landing page, as sent in Segment's
// context.campaign or read from the URL by ParseUTM.
type UTM struct {
	Source   string
	Medium   string
	Campaign string
	Term     string
	Content  string
}

// ParseUTM reads the utm_source, utm_medium, utm_campaign, utm_term and
// utm_content query parameters of pageURL, trimmed of spaces. Missing or
// malformed parameters are left empty.
func ParseUTM(pageURL string) UTM {
	if !strings.Contains(pageURL, "utm_") {
		return UTM{}
	}
	_, query, ok := strings.Cut(pageURL, "?")
	if !ok {
		return UTM{}
	}
	query, _, _ = strings.Cut(query, "#")
	// ParseQuery keeps the well-formed pairs even when it reports an error
	// for others, which is the tolerance a landing page needs.
	v, _ := url.ParseQuery(query)
	get := func(key string) string { return strings.TrimSpace(v.Get(key)) }
	return UTM{
		Source:   get("utm_source"),
		Medium:   get("utm_medium"),
		Campaign: get("utm_campaign"),
		Term:     get("utm_term"),
		Content:  get("utm_content"),
	}
}

// Channel classifies how a visitor arrived, from the referrer, the landing
// page URL and its campaign parameters (usually context.campaign, or
// ParseUTM(pageURL) when the client did not send them).
//
// Campaign parameters win over the referrer, as in GA4. By utm_medium
// (case-insensitive):
//   - cpc, ppc, paid, paidsearch, paid_search, paid-search: paid_search, or
//     paid_social when utm_source is a social network;
//   - paidsocial, paid_social, paid-social: paid_social;
//   - email, e-mail, e_mail, newsletter: email;
//   - social, social-network, social_network, social-media, social_media,
//     sm: organic_social;
//   - display, banner, cpm: display;
//   - affiliate, affiliates: affiliate;
//   - organic: organic_search; referral: referral (GA4's own mediums);
//   - anything else: other.
//
// With utm_source but no utm_medium, a search engine or social network
// source gives organic_search or organic_social, "email" or "newsletter"
// gives email, and any other source referral, since the link was tagged.
//
// Without campaign parameters, the referrer decides: a known search engine
// gives organic_search, a known social network organic_social, no referrer
// or one on the page's own host (ignoring "www.") direct, and any other
// referral.
func Channel(referrer, pageURL string, utm UTM) string {
	medium := strings.ToLower(strings.TrimSpace(utm.Medium))
	source := strings.ToLower(strings.TrimSpace(utm.Source))
	switch {
	case medium != "":
		return mediumChannel(medium, source)
	case source != "":
		if c := sourceChannel(source); c != "" {
			return c
		}
		return ChannelReferral
	}
	ref := hostOf(referrer)
	if ref == "" || ref == hostOf(pageURL) {
		return ChannelDirect
	}
	if c := hostChannel(ref); c != "" {
		return c
	}
	return ChannelReferral
}

// mediumChannel classifies by a lower-case, non-empty utm_medium.
func mediumChannel(medium, source string) string {
	switch medium {
	case "cpc", "ppc", "paid", "paidsearch", "paid_search", "paid-search":
		if sourceChannel(source) == ChannelOrganicSocial {
			return ChannelPaidSocial
		}
		return ChannelPaidSearch
	case "paidsocial", "paid_social", "paid-social":
		return ChannelPaidSocial
	case "email", "e-mail", "e_mail", "newsletter":
		return ChannelEmail
	case "social", "social-network", "social_network", "social-media", "social_media", "sm":
		return ChannelOrganicSocial
	case "display", "banner", "cpm":
		return ChannelDisplay
	case "affiliate", "affiliates":
		return ChannelAffiliate
	case "organic":
		return ChannelOrganicSearch
	case "referral":
		return ChannelReferral
	}
	return ChannelOther
}

// sourceChannel classifies a lower-case utm_source, which may be a host
// ("t.co", "news.google.com"), a brand ("google", "facebook") or a common
// abbreviation ("fb", "ig"). It returns "" when the source is not known.
func sourceChannel(source string) string {
	switch source {
	case "fb", "ig", "x", "hackernews", "hn":
		return ChannelOrganicSocial
	case "email", "e-mail", "newsletter":
		return ChannelEmail
	}
	if strings.Contains(source, ".") {
		return hostChannel(source)
	}
	return brandChannel(source)
}

// hostChannel classifies a lower-case host name as organic_search or
// organic_social, or returns "" when it is neither. A brand matches as any
// label followed by another ("google." matches www.google.co.uk and the
// Android app com.google.android.googlequicksearchbox); a short domain
// matches itself and its subdomains ("t.co", "x.com").
func hostChannel(host string) string {
	if host == "com.google.android.gm" {
		// The Gmail app, which the brand rule would take for Google Search.
		return ChannelEmail
	}
	for rest := host; rest != ""; {
		switch rest {
		case "t.co", "x.com", "lnkd.in", "news.ycombinator.com", "fb.com", "youtu.be":
			return ChannelOrganicSocial
		}
		label, after, more := strings.Cut(rest, ".")
		if !more {
			break
		}
		if c := brandChannel(label); c != "" {
			return c
		}
		if label == "search" && strings.HasPrefix(after, "brave.") {
			return ChannelOrganicSearch
		}
		rest = after
	}
	return ""
}

// brandChannel classifies a single lower-case label or brand name.
func brandChannel(label string) string {
	switch label {
	case "google", "bing", "duckduckgo", "yahoo", "yandex", "baidu", "ecosia":
		return ChannelOrganicSearch
	case "facebook", "instagram", "twitter", "linkedin", "reddit", "pinterest", "youtube", "tiktok":
		return ChannelOrganicSocial
	}
	return ""
}

// hostOf returns the lower-case host of a URL without port, userinfo or a
// leading "www.", or "" when there is none. It accepts URLs without a scheme
// ("example.com/page") and never allocates unless the host has upper case.
func hostOf(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	if _, after, ok := strings.Cut(s, "://"); ok {
		s = after
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
	} else if i := strings.IndexByte(s, ':'); i >= 0 && !isPort(s[i+1:]) {
		// An opaque URL such as "about:blank" or "mailto:x@y" has no host.
		return ""
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		// An IPv6 literal, "[2001:db8::1]:8080".
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return ""
		}
		s = s[1:end]
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	return strings.TrimPrefix(s, "www.")
}

// isPort reports whether s starts with a port number ended by the end of the
// host, as in "example.com:8080/path".
func isPort(s string) bool {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	return n > 0 && (n == len(s) || strings.IndexByte("/?#", s[n]) >= 0)
}
