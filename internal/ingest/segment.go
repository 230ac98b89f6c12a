package ingest

import (
	"bytes"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/netip"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/jsoncheck"
	"github.com/sightline/sightline/internal/scrub"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/textlimit"
)

// wireMessage is a message as the Segment HTTP tracking API sends it.
type wireMessage struct {
	Type              string          `json:"type"`
	UserID            json.RawMessage `json:"userId"`
	AnonymousID       json.RawMessage `json:"anonymousId"`
	GroupID           json.RawMessage `json:"groupId"`
	PreviousID        json.RawMessage `json:"previousId"`
	Event             string          `json:"event"`
	Name              string          `json:"name"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	Context           wireContext     `json:"context"`
	Timestamp         string          `json:"timestamp"`
	OriginalTimestamp string          `json:"originalTimestamp"`
	SentAt            string          `json:"sentAt"`
	MessageID         string          `json:"messageId"`
}

type wireContext struct {
	IP        string `json:"ip"`
	UserAgent string `json:"userAgent"`
	Locale    string `json:"locale"`
	Timezone  string `json:"timezone"`
	Page      struct {
		URL      string `json:"url"`
		Path     string `json:"path"`
		Title    string `json:"title"`
		Referrer string `json:"referrer"`
	} `json:"page"`
	Campaign struct {
		Name    string `json:"name"`
		Source  string `json:"source"`
		Medium  string `json:"medium"`
		Term    string `json:"term"`
		Content string `json:"content"`
	} `json:"campaign"`
}

// check checks the strings of a batch's context, which apply to each of
// its messages; prefix names the context in the problem.
func (c *wireContext) check(prefix string) *jsoncheck.Problem {
	for _, f := range []struct{ name, value string }{
		{"ip", c.IP}, {"userAgent", c.UserAgent}, {"locale", c.Locale}, {"timezone", c.Timezone},
		{"page.url", c.Page.URL}, {"page.path", c.Page.Path}, {"page.title", c.Page.Title},
		{"page.referrer", c.Page.Referrer}, {"campaign.name", c.Campaign.Name}, {"campaign.source", c.Campaign.Source},
		{"campaign.medium", c.Campaign.Medium}, {"campaign.term", c.Campaign.Term}, {"campaign.content", c.Campaign.Content},
	} {
		if p := jsoncheck.String(prefix+"."+f.name, f.value); p != nil {
			return p
		}
	}
	return nil
}

// pageProps are the page fields Segment puts in a page call's properties.
type pageProps struct {
	URL      string `json:"url"`
	Path     string `json:"path"`
	Title    string `json:"title"`
	Referrer string `json:"referrer"`
}

// request is what a normaliser needs to know about the HTTP request a
// message came in.
type request struct {
	site       int64
	receivedAt time.Time
	sentAt     string      // the batch's sentAt, for messages without their own
	context    wireContext // the batch's context, under each message's own
	remoteAddr string
	xff        string
	source     store.Source
	// scrub removes the secrets of the site's page URLs.
	scrub scrub.Rules
}

// normalizer turns wire messages into store messages.
type normalizer struct {
	limits     Limits
	ua         *enrich.UAParser
	geo        *enrich.Geo
	trustProxy bool
	newID      func() string
}

// normalize decodes and validates one message. A returned error refuses the
// whole message; problems with single attributes are left to the store,
// which knows each key's type.
func (n *normalizer) normalize(raw json.RawMessage, kind store.Kind, req request) (store.Message, *fieldError) {
	if len(raw) > n.limits.MaxMessageBytes {
		return store.Message{}, &fieldError{"message_too_large", "",
			fmt.Sprintf("the message is %d bytes; the limit is %d", len(raw), n.limits.MaxMessageBytes)}
	}
	// Every string valid UTF-8, every number a float64, nesting bounded:
	// decided here, before anything is acknowledged, as the database would
	// refuse the message later.
	if p := jsoncheck.Check(raw, n.limits.MaxDepth); p != nil {
		return store.Message{}, &fieldError{p.Code, p.Field, p.Message}
	}
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return store.Message{}, &fieldError{"invalid_message", "", "a message must be a JSON object"}
	}
	// Decoding over the batch's context keeps every field the message's
	// own context leaves out.
	w := wireMessage{Context: req.context}
	if err := json.Unmarshal(raw, &w); err != nil {
		return store.Message{}, decodeError(err)
	}
	if kind == 0 {
		kind = store.ParseKind(w.Type)
		if kind == 0 {
			return store.Message{}, &fieldError{"invalid_type", "type",
				fmt.Sprintf("type %q is not one of identify, track, page, screen, group, alias", w.Type)}
		}
	}
	m := store.Message{SiteID: req.site, Kind: kind, ReceivedAt: req.receivedAt, MessageID: w.MessageID, Source: req.source}
	var ferr *fieldError
	if m.UserID, ferr = n.id("userId", w.UserID); ferr != nil {
		return m, ferr
	}
	if m.AnonymousID, ferr = n.id("anonymousId", w.AnonymousID); ferr != nil {
		return m, ferr
	}
	if m.GroupID, ferr = n.id("groupId", w.GroupID); ferr != nil {
		return m, ferr
	}
	if m.PreviousID, ferr = n.id("previousId", w.PreviousID); ferr != nil {
		return m, ferr
	}
	if ferr = n.limits.checkID("messageId", m.MessageID); ferr != nil {
		return m, ferr
	}
	if m.MessageID == "" {
		m.MessageID = n.newID()
	}
	if ferr = n.requireIDs(&m); ferr != nil {
		return m, ferr
	}
	if m.Timestamp, ferr = timestamp(&w, req); ferr != nil {
		return m, ferr
	}
	if ferr = n.body(&m, &w); ferr != nil {
		return m, ferr
	}
	n.context(&m, &w, req)
	req.scrub.Message(&m)
	return m, nil
}

// id reads an identifier, which Segment libraries send as a string or, from
// some languages, a number (kept as its decimal text).
func (n *normalizer) id(field string, raw json.RawMessage) (string, *fieldError) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", &fieldError{"invalid_id", field, field + " is not a valid JSON string"}
		}
	} else {
		// An integer as written: 1e3 or 1.0 would name another user than
		// 1000 or 1.
		if !integer(raw) {
			return "", &fieldError{"invalid_id", field, field + " must be a string or an integer"}
		}
		s = string(raw)
	}
	s = strings.TrimSpace(s)
	return s, n.limits.checkID(field, s)
}

// integer reports whether raw is a JSON integer without fraction or
// exponent.
func integer(raw []byte) bool {
	if len(raw) > 0 && raw[0] == '-' {
		raw = raw[1:]
	}
	if len(raw) == 0 {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (n *normalizer) requireIDs(m *store.Message) *fieldError {
	switch m.Kind {
	case store.KindAlias:
		if m.UserID == "" || m.PreviousID == "" {
			return &fieldError{"missing_id", "previousId", "alias needs both userId and previousId"}
		}
		return nil
	case store.KindGroup:
		if m.GroupID == "" {
			return &fieldError{"missing_id", "groupId", "group needs a groupId"}
		}
	}
	if m.UserID == "" && m.AnonymousID == "" {
		return &fieldError{"missing_id", "userId", "a message needs a userId or an anonymousId"}
	}
	return nil
}

// minTimestamp is the earliest event time accepted (2000-01-01), and a day
// after the server's clock the latest: earlier dates are a broken clock or
// a default value (year 1 or 1970 from an unset field), not product usage.
const minTimestamp = 946684800

func minTime() time.Time { return time.Unix(minTimestamp, 0).UTC() }

// timestamp applies Segment's clock-skew correction: when the sender says
// both when the event happened and when it sent it, the event time is moved
// by the difference between the sender's clock and ours.
func timestamp(w *wireMessage, req request) (time.Time, *fieldError) {
	field, tsText := "timestamp", w.Timestamp
	if tsText == "" {
		field, tsText = "originalTimestamp", w.OriginalTimestamp
	}
	if tsText == "" {
		return req.receivedAt, nil
	}
	ts, ok := attr.ParseTime(tsText)
	if !ok {
		return time.Time{}, &fieldError{"invalid_timestamp", field,
			fmt.Sprintf("%s %q is not an ISO-8601 date-time", field, textlimit.Cut(tsText, 64))}
	}
	sentField, sentText := "sentAt", w.SentAt
	if sentText == "" {
		sentText = req.sentAt
	}
	if sentText != "" {
		sent, ok := attr.ParseTime(sentText)
		// A sentAt that cannot be read is ignored, as Segment does; one
		// outside the range would move the time by centuries.
		if ok && (sent.Before(minTime()) || sent.After(req.receivedAt.Add(100*365*24*time.Hour))) {
			return time.Time{}, &fieldError{"invalid_timestamp", sentField,
				fmt.Sprintf("sentAt %s is outside the accepted range (%s to a century ahead)",
					sent.UTC().Format(time.RFC3339), minTime().Format("2006-01-02"))}
		}
		if ok {
			ts = req.receivedAt.Add(ts.Sub(sent))
		}
	}
	if ts.Before(minTime()) {
		return time.Time{}, &fieldError{"invalid_timestamp", field,
			fmt.Sprintf("the event time %s is before %s (after the correction by sentAt, if sent)",
				ts.UTC().Format(time.RFC3339), minTime().Format("2006-01-02"))}
	}
	if ts.After(req.receivedAt.Add(24 * time.Hour)) {
		return time.Time{}, &fieldError{"invalid_timestamp", field,
			"timestamp is more than a day in the future (check the sender's clock or sentAt)"}
	}
	return ts.UTC().Truncate(time.Microsecond), nil
}

// body reads the kind-specific fields: event name, properties, traits.
func (n *normalizer) body(m *store.Message, w *wireMessage) *fieldError {
	switch m.Kind {
	case store.KindTrack:
		m.Name = strings.TrimSpace(w.Event)
		if m.Name == "" {
			return &fieldError{"missing_event", "event", "track needs an event name"}
		}
		if ferr := n.limits.checkName("event", m.Name); ferr != nil {
			return ferr
		}
	case store.KindPage, store.KindScreen:
		m.Name = strings.TrimSpace(w.Name)
		if ferr := n.limits.checkName("name", m.Name); ferr != nil {
			return ferr
		}
	}
	props, ferr := object("properties", w.Properties)
	if ferr != nil {
		return ferr
	}
	m.Properties = props
	if m.Kind == store.KindPage || m.Kind == store.KindScreen {
		var p pageProps
		_ = json.Unmarshal([]byte(props), &p) // an object already; odd field types just leave fields empty
		m.Page = store.Page{URL: p.URL, Path: p.Path, Title: p.Title, Referrer: p.Referrer}
	}
	if m.Kind == store.KindIdentify || m.Kind == store.KindGroup {
		traits, ferr := object("traits", w.Traits)
		if ferr != nil {
			return ferr
		}
		m.Properties = traits
		var obj map[string]any
		if err := json.Unmarshal([]byte(traits), &obj); err != nil {
			return &fieldError{"invalid_traits", "traits", "traits must be a JSON object"}
		}
		if ferr := n.traits(m, obj); ferr != nil {
			return ferr
		}
	}
	return nil
}

// traits flattens and checks attribute keys and string lengths. An
// over-long key or value refuses the message: storing part of a value would
// be a silent change.
func (n *normalizer) traits(m *store.Message, obj map[string]any) *fieldError {
	pairs := attr.Flatten(obj)
	if len(pairs) > n.limits.MaxTraits {
		return &fieldError{"too_many_traits", "traits",
			fmt.Sprintf("%d attributes in one message; the limit is %d", len(pairs), n.limits.MaxTraits)}
	}
	for _, p := range pairs {
		field := "traits." + p.Key
		if p.Key == "" || len(p.Key) > n.limits.MaxKeyLength || !printable(p.Key) {
			return &fieldError{"invalid_key", field, fmt.Sprintf(
				"attribute keys must be 1 to %d bytes of printable UTF-8", n.limits.MaxKeyLength)}
		}
		if s, ok := p.Raw.(string); ok && len(s) > n.limits.MaxValueLength {
			return &fieldError{"value_too_long", field, fmt.Sprintf(
				"the value is %d bytes; the limit is %d", len(s), n.limits.MaxValueLength)}
		}
	}
	m.Traits = pairs
	return nil
}

// object checks that raw is absent, null or a JSON object, and returns it
// compacted ("{}" when absent).
func object(field string, raw json.RawMessage) (string, *fieldError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	if raw[0] != '{' {
		return "", &fieldError{"invalid_" + field, field, field + " must be a JSON object"}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", &fieldError{"invalid_" + field, field, field + " is not valid JSON"}
	}
	return buf.String(), nil
}

// context derives device, country, locale and channel. The IP address is
// used for the country lookup and then forgotten.
func (n *normalizer) context(m *store.Message, w *wireMessage, req request) {
	c := &w.Context
	// The message's own page fields win; context.page fills the gaps.
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&m.Page.URL, c.Page.URL)
	fill(&m.Page.Path, c.Page.Path)
	fill(&m.Page.Title, c.Page.Title)
	fill(&m.Page.Referrer, c.Page.Referrer)
	if m.Page.Path == "" && m.Page.URL != "" {
		m.Page.Path = pathOf(m.Page.URL)
	}
	d := n.ua.Parse(c.UserAgent)
	utm := enrich.ParseUTM(m.Page.URL)
	if c.Campaign.Source != "" || c.Campaign.Medium != "" || c.Campaign.Name != "" {
		utm = enrich.UTM{Source: c.Campaign.Source, Medium: c.Campaign.Medium, Campaign: c.Campaign.Name,
			Term: c.Campaign.Term, Content: c.Campaign.Content}
	}
	var country string
	if ip := enrich.ClientIP(req.remoteAddr, c.IP, n.trustProxy, req.xff); ip != (netip.Addr{}) {
		country = n.geo.Country(ip)
	}
	m.Context = store.Context{
		Browser:     d.Browser,
		OS:          d.OS,
		DeviceType:  d.DeviceType,
		Country:     country,
		Locale:      truncate(c.Locale, 35),
		Timezone:    truncate(c.Timezone, 64),
		Referrer:    truncate(m.Page.Referrer, 1024),
		Channel:     enrich.Channel(m.Page.Referrer, m.Page.URL, utm),
		UTMSource:   truncate(utm.Source, 256),
		UTMMedium:   truncate(utm.Medium, 256),
		UTMCampaign: truncate(utm.Campaign, 256),
	}
}

func pathOf(u string) string {
	s := u
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[j:]
		} else {
			return "/"
		}
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

func truncate(s string, n int) string { return textlimit.Cut(s, n) }

// decodeError names the field of a JSON type error.
func decodeError(err error) *fieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := te.Type.Kind().String()
		if want == "struct" || want == "map" {
			want = "object"
		}
		return &fieldError{"invalid_field", te.Field, fmt.Sprintf("%s must be a JSON %s, not %s", te.Field, want, te.Value)}
	}
	return &fieldError{"malformed_json", "", "the message is not valid JSON: " + err.Error()}
}
