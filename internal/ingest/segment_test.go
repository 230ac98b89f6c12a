package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/store"
)

func testNormalizer() *normalizer {
	return &normalizer{limits: DefaultLimits(), ua: enrich.NewUAParser(), newID: func() string { return "generated" }}
}

var received = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestNormalize(t *testing.T) {
	n := testNormalizer()
	req := request{site: 7, receivedAt: received, remoteAddr: "127.0.0.1:5555"}
	tests := []struct {
		name  string
		kind  store.Kind
		body  string
		check func(t *testing.T, m store.Message)
	}{
		{"track", store.KindTrack, `{"userId":"u1","event":"Export","properties":{"format":"csv"},"messageId":"m1"}`,
			func(t *testing.T, m store.Message) {
				if m.Name != "Export" || m.Properties != `{"format":"csv"}` || m.MessageID != "m1" || m.SiteID != 7 {
					t.Errorf("got %+v", m)
				}
				if !m.Timestamp.Equal(received) {
					t.Errorf("timestamp %v, want the receive time", m.Timestamp)
				}
			}},
		{"numeric user id", store.KindTrack, `{"userId":42,"event":"x"}`,
			func(t *testing.T, m store.Message) {
				if m.UserID != "42" || m.MessageID != "generated" {
					t.Errorf("got %+v", m)
				}
			}},
		{"clock skew corrected", store.KindTrack,
			`{"userId":"u","event":"x","timestamp":"2026-11-29T13:00:00Z","sentAt":"2026-11-29T13:00:10Z"}`,
			func(t *testing.T, m store.Message) {
				if want := received.Add(-10 * time.Second); !m.Timestamp.Equal(want) {
					t.Errorf("timestamp %v, want %v", m.Timestamp, want)
				}
			}},
		{"page from properties with utm", store.KindPage,
			`{"anonymousId":"a","name":"Pricing","properties":{"url":"https://x.io/pricing?utm_source=news&utm_medium=email","title":"Pricing"},
			  "context":{"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1","locale":"nb-NO"}}`,
			func(t *testing.T, m store.Message) {
				if m.Page.Path != "/pricing" || m.Page.Title != "Pricing" || m.Name != "Pricing" {
					t.Errorf("page %+v", m.Page)
				}
				c := m.Context
				if c.Channel != "email" || c.UTMSource != "news" || c.DeviceType != "mobile" || c.Locale != "nb-NO" {
					t.Errorf("context %+v", c)
				}
			}},
		{"page path without url keeps the path", store.KindPage,
			`{"anonymousId":"a","properties":{"path":"/pricing"},"context":{"page":{"url":"https://x.io/other","title":"T"}}}`,
			func(t *testing.T, m store.Message) {
				if m.Page.Path != "/pricing" || m.Page.URL != "https://x.io/other" || m.Page.Title != "T" {
					t.Errorf("page %+v", m.Page)
				}
			}},
		{"identify flattens traits", store.KindIdentify, `{"userId":"u","traits":{"address":{"city":"Oslo"},"plan":"pro"}}`,
			func(t *testing.T, m store.Message) {
				if len(m.Traits) != 2 || m.Traits[0].Key != "address.city" || m.Traits[1].Key != "plan" {
					t.Errorf("traits %+v", m.Traits)
				}
			}},
		{"batch message carries its type", 0, `{"type":"group","userId":"u","groupId":"acme","traits":{"size":3}}`,
			func(t *testing.T, m store.Message) {
				if m.Kind != store.KindGroup || m.GroupID != "acme" {
					t.Errorf("got %+v", m)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ferr := n.normalize(json.RawMessage(tt.body), tt.kind, req)
			if ferr != nil {
				t.Fatalf("refused: %v", ferr)
			}
			tt.check(t, m)
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	n := testNormalizer()
	req := request{site: 1, receivedAt: received}
	long := strings.Repeat("x", 300)
	tests := []struct {
		name, body, code, field string
		kind                    store.Kind
	}{
		{"no ids", `{"event":"x"}`, "missing_id", "userId", store.KindTrack},
		{"no event", `{"userId":"u"}`, "missing_event", "event", store.KindTrack},
		{"unknown type", `{"type":"explode","userId":"u"}`, "invalid_type", "type", 0},
		{"long user id", `{"userId":"` + long + `","event":"x"}`, "id_too_long", "userId", store.KindTrack},
		{"long event name", `{"userId":"u","event":"` + long + `"}`, "name_too_long", "event", store.KindTrack},
		{"control characters", `{"userId":"u","event":"a\u0000b"}`, "invalid_name", "event", store.KindTrack},
		{"fractional id", `{"userId":1.5,"event":"x"}`, "invalid_id", "userId", store.KindTrack},
		{"properties not an object", `{"userId":"u","event":"x","properties":[1]}`, "invalid_properties", "properties", store.KindTrack},
		{"event not a string", `{"userId":"u","event":7}`, "invalid_field", "event", store.KindTrack},
		{"bad timestamp", `{"userId":"u","event":"x","timestamp":"yesterday"}`, "invalid_timestamp", "timestamp", store.KindTrack},
		{"future timestamp", `{"userId":"u","event":"x","timestamp":"2027-06-01T00:00:00Z"}`, "invalid_timestamp", "timestamp", store.KindTrack},
		{"alias without previousId", `{"userId":"u"}`, "missing_id", "previousId", store.KindAlias},
		{"group without groupId", `{"userId":"u"}`, "missing_id", "groupId", store.KindGroup},
		{"long attribute value", `{"userId":"u","traits":{"bio":"` + strings.Repeat("y", 2000) + `"}}`, "value_too_long", "traits.bio", store.KindIdentify},
		{"long attribute key", `{"userId":"u","traits":{"` + long + `":1}}`, "invalid_key", "traits." + long, store.KindIdentify},
		{"malformed", `{"userId":`, "malformed_json", "", store.KindTrack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ferr := n.normalize(json.RawMessage(tt.body), tt.kind, req)
			if ferr == nil {
				t.Fatal("accepted")
			}
			if ferr.Code != tt.code || ferr.Field != tt.field || ferr.Message == "" {
				t.Fatalf("got %+v, want code %s field %s", ferr, tt.code, tt.field)
			}
		})
	}
}

func BenchmarkNormalizeTrack(b *testing.B) {
	n := testNormalizer()
	req := request{site: 1, receivedAt: received, remoteAddr: "127.0.0.1:1"}
	body := json.RawMessage(`{"type":"track","userId":"u_123","event":"Clicked Export","properties":{"format":"csv","rows":1200,"plan":"pro"},
		"context":{"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"page":{"url":"https://app.example.com/reports?x=1","path":"/reports"},"locale":"en-US"},"timestamp":"2026-11-29T11:59:59Z","messageId":"m-1"}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ferr := n.normalize(body, 0, req); ferr != nil {
			b.Fatal(ferr)
		}
	}
}

func TestBatchContextUnderMessageContext(t *testing.T) {
	n := normalizer{limits: DefaultLimits(), ua: enrich.NewUAParser(), newID: func() string { return "id" }}
	var b wireBatch
	if err := json.Unmarshal([]byte(`{"context":{"locale":"nb-NO","timezone":"Europe/Oslo",
		"campaign":{"source":"newsletter"}},"batch":[]}`), &b); err != nil {
		t.Fatal(err)
	}
	req := request{site: 1, receivedAt: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), context: b.Context}
	tests := []struct {
		name, msg                   string
		locale, timezone, utmSource string
	}{
		{"batch context only", `{"type":"track","userId":"u","event":"e"}`, "nb-NO", "Europe/Oslo", "newsletter"},
		{"message overrides a field", `{"type":"track","userId":"u","event":"e","context":{"locale":"en-GB"}}`,
			"en-GB", "Europe/Oslo", "newsletter"},
		{"nested objects merge", `{"type":"track","userId":"u","event":"e","context":{"campaign":{"medium":"email"}}}`,
			"nb-NO", "Europe/Oslo", "newsletter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ferr := n.normalize(json.RawMessage(tt.msg), 0, req)
			if ferr != nil {
				t.Fatal(ferr)
			}
			c := m.Context
			if m.Kind != store.KindTrack || c.Locale != tt.locale || c.Timezone != tt.timezone || c.UTMSource != tt.utmSource {
				t.Errorf("context = %+v; want locale %q, timezone %q, utm_source %q", c, tt.locale, tt.timezone, tt.utmSource)
			}
		})
	}
	// A single-message call has no batch context: nothing leaks between calls.
	m, ferr := n.normalize(json.RawMessage(`{"type":"track","userId":"u","event":"e"}`), 0, request{site: 1, receivedAt: req.receivedAt})
	if ferr != nil || m.Context.Locale != "" {
		t.Errorf("without batch context: locale %q, %v", m.Context.Locale, ferr)
	}
}
