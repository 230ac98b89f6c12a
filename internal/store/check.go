package store

import (
	"fmt"
	"unicode/utf8"
)

// InvalidText returns the name of the first field of m that is not valid
// UTF-8, or "". The database refuses such text, and its Go driver may
// crash binding it in a list, so a store refuses the message at Write;
// ingestion has refused it with a clear answer before.
func InvalidText(m *Message) string {
	for _, f := range [...]struct {
		name, value string
	}{
		{"messageId", m.MessageID}, {"userId", m.UserID}, {"anonymousId", m.AnonymousID},
		{"previousId", m.PreviousID}, {"groupId", m.GroupID}, {"name", m.Name}, {"properties", m.Properties},
		{"page.url", m.Page.URL}, {"page.path", m.Page.Path}, {"page.title", m.Page.Title},
		{"page.referrer", m.Page.Referrer}, {"context.browser", m.Context.Browser}, {"context.os", m.Context.OS},
		{"context.deviceType", m.Context.DeviceType}, {"context.country", m.Context.Country},
		{"context.locale", m.Context.Locale}, {"context.timezone", m.Context.Timezone},
		{"context.channel", m.Context.Channel}, {"context.referrer", m.Context.Referrer},
		{"context.campaign.source", m.Context.UTMSource}, {"context.campaign.medium", m.Context.UTMMedium},
		{"context.campaign.name", m.Context.UTMCampaign},
	} {
		if !utf8.ValidString(f.value) {
			return f.name
		}
	}
	for _, p := range m.Traits {
		if !utf8.ValidString(p.Key) {
			return "traits." + p.Key
		}
		if !validRaw(p.Raw) {
			return "traits." + p.Key
		}
	}
	return ""
}

// validRaw checks the strings of a trait's value as flattening left it.
func validRaw(v any) bool {
	switch v := v.(type) {
	case string:
		return utf8.ValidString(v)
	case map[string]any:
		for k, e := range v {
			if !utf8.ValidString(k) || !validRaw(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !validRaw(e) {
				return false
			}
		}
	case nil, bool, float64, int, int64:
	default:
		return utf8.ValidString(fmt.Sprint(v))
	}
	return true
}
