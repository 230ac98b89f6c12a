package ingest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/enrich"
	"github.com/sightline/sightline/internal/store"
)

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
