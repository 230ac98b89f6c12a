// Package scrub removes secrets from page URLs on the server, at ingest:
// a form sent by GET puts its fields in the query string, so a URL may
// carry a password, a token or an e-mail address. The browser tracker
// scrubs URLs before it sends them (web/tracker/src/scrub.ts); the server
// does it again for everything that arrives, whatever sent it (the HTTP
// API, server libraries, older trackers), for events, their clicks and
// recordings.
//
// The value of every query (and fragment) parameter whose name looks
// secret is dropped ("token=abc" becomes "token="): names matching the
// tracker's rule (password, token, secret, auth, key, session, email,
// card…) and the names in the site's list (scrub_params), unless the
// site's allow-list (keep_params) names them. The rest of the URL is left
// as it is.
package scrub

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/sightline/sightline/internal/store"
)

// secret matches parameter names that hold secrets: a part of the name,
// so that "user_password", "cardNumber" and "x-api-token" all match;
// short words only when they are the whole name or one of its parts. It is
// the tracker's rule.
var secret = regexp.MustCompile(`(?i)pass|pwd|secret|token|auth|card|cvv|cvc|ssn|iban|e-?mail|account|acct|otp|apikey|api_key|signature|session|bank|routing|(^|[^a-z])(cc|pin|key|sig|code|tel|phone)([^a-z]|$)`)

// Rules are a site's scrubbing rules.
type Rules struct {
	keep  map[string]bool // names kept as they are
	extra map[string]bool // names scrubbed besides the rule's, lower case
}

// New returns the rules of a site: keep is its allow-list (keep_params),
// extra the parameter names it scrubs besides those that look secret
// (scrub_params, compared without regard to case).
func New(keep, extra []string) Rules {
	r := Rules{keep: map[string]bool{}, extra: map[string]bool{}}
	for _, k := range keep {
		r.keep[k] = true
	}
	for _, e := range extra {
		r.extra[strings.ToLower(e)] = true
	}
	return r
}

// Secret reports whether a parameter name's value is dropped.
func (r Rules) Secret(name string) bool {
	if r.keep[name] {
		return false
	}
	return r.extra[strings.ToLower(name)] || secret.MatchString(name)
}

// URL returns u (absolute, a path, or a query string starting with "?")
// with the values of its secret parameters dropped.
func (r Rules) URL(u string) string {
	if !strings.ContainsAny(u, "?#") {
		return u
	}
	base, frag, hasFrag := strings.Cut(u, "#")
	path, query, hasQuery := strings.Cut(base, "?")
	out := path
	if hasQuery {
		out += "?" + r.params(query)
	}
	if hasFrag {
		if strings.Contains(frag, "=") {
			frag = r.params(frag)
		}
		out += "#" + frag
	}
	return out
}

// params scrubs a query string or fragment of name=value pairs.
func (r Rules) params(q string) string {
	parts := strings.Split(q, "&")
	changed := false
	for i, part := range parts {
		name, value, ok := strings.Cut(part, "=")
		if !ok || value == "" {
			continue
		}
		plain := name
		if d, err := url.QueryUnescape(name); err == nil {
			plain = d
		}
		if r.Secret(plain) {
			parts[i] = name + "="
			changed = true
		}
	}
	if !changed {
		return q
	}
	return strings.Join(parts, "&")
}

// pageProps are the properties of a page view that hold addresses.
var pageProps = []string{"url", "referrer", "search"}

// Message scrubs a message's addresses: its page's URL and referrer and,
// in a page or screen view's properties, url, referrer and search (the
// other properties are the sender's own, as they are).
func (r Rules) Message(m *store.Message) {
	m.Page.URL = r.URL(m.Page.URL)
	m.Page.Referrer = r.URL(m.Page.Referrer)
	m.Context.Referrer = r.URL(m.Context.Referrer)
	if (m.Kind != store.KindPage && m.Kind != store.KindScreen) || !strings.ContainsAny(m.Properties, "?#") {
		return
	}
	var props map[string]json.RawMessage
	if json.Unmarshal([]byte(m.Properties), &props) != nil {
		return
	}
	changed := false
	for _, k := range pageProps {
		var s string
		if raw, ok := props[k]; !ok || json.Unmarshal(raw, &s) != nil {
			continue
		}
		if c := r.URL(s); c != s {
			props[k] = marshal(c)
			changed = true
		}
	}
	if changed {
		m.Properties = string(marshal(props))
	}
}

// marshal encodes v as compact JSON without escaping &, < and >, which
// URLs are full of.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // strings and maps of raw JSON: no error
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// RecordingEvents scrubs the page URLs of a recording's rrweb events (a
// JSON array): the href of each Meta event (type 4). It returns events
// unchanged when none had anything to scrub.
func (r Rules) RecordingEvents(events []byte) []byte {
	if !bytes.Contains(events, []byte(`"href"`)) {
		return events
	}
	var list []json.RawMessage
	if json.Unmarshal(events, &list) != nil {
		return events
	}
	changed := false
	for i, raw := range list {
		var ev struct {
			Type float64 `json:"type"`
			Data struct {
				Href string `json:"href"`
			} `json:"data"`
		}
		if json.Unmarshal(raw, &ev) != nil || ev.Type != 4 || ev.Data.Href == "" {
			continue
		}
		href := r.URL(ev.Data.Href)
		if href == ev.Data.Href {
			continue
		}
		var outer, data map[string]json.RawMessage
		if json.Unmarshal(raw, &outer) != nil || json.Unmarshal(outer["data"], &data) != nil {
			continue
		}
		data["href"] = marshal(href)
		outer["data"] = marshal(data)
		list[i] = marshal(outer)
		changed = true
	}
	if !changed {
		return events
	}
	return marshal(list)
}
