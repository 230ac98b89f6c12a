package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// trackerBatch posts a batch to the tracker's endpoint as a page on the
// site's origin would.
func (s *testServer) trackerBatch(t *testing.T, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/t/batch?k="+s.writeKey, strings.NewReader(body))
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Content-Type", "text/plain")
	if code, out := do(t, req); code != http.StatusOK {
		t.Fatalf("tracker batch: %d %v", code, out)
	}
}

func TestInstallCheck(t *testing.T) {
	s := startServer(t, nil)
	install := func() map[string]any {
		t.Helper()
		var out map[string]any
		s.getJSON(t, "/install", &out)
		return out
	}
	if got := install(); got["last_event_at"] != nil || got["events_24h"] != 0.0 || got["last_source"] != "" || got["last_page_url"] != "" {
		t.Fatalf("a new site: %v, want nothing received", got)
	}

	// A server call: no page.
	if code, out := s.send(t, "/v1/track", `{"userId":"u1","event":"signed_up"}`); code != 200 {
		t.Fatalf("track: %d %v", code, out)
	}
	got := install()
	if got["last_source"] != "server" || got["events_24h"] != 1.0 || got["last_page_url"] != "" {
		t.Fatalf("after a server call: %v", got)
	}
	at, err := time.Parse(time.RFC3339Nano, got["last_event_at"].(string))
	if err != nil || time.Since(at) > time.Minute {
		t.Fatalf("last_event_at = %v (%v), want just now", got["last_event_at"], err)
	}

	// The browser tracker, from a page; an old timestamp still counts as
	// arriving now.
	s.trackerBatch(t, `{"batch":[{"type":"page","anonymousId":"a1","timestamp":"2020-01-01T00:00:00Z",
		"context":{"page":{"url":"https://app.example.com/pricing?x=1","path":"/pricing"}}}]}`)
	got = install()
	if got["last_source"] != "tracker" || got["events_24h"] != 2.0 || got["last_page_url"] != "https://app.example.com/pricing?x=1" {
		t.Fatalf("after a tracker batch: %v", got)
	}

	// Then a server call again: the source follows the last message, the
	// page stays the last one that named a page.
	s.send(t, "/v1/identify", `{"userId":"u2","traits":{"plan":"pro"}}`)
	got = install()
	if got["last_source"] != "server" || got["events_24h"] != 3.0 || got["last_page_url"] != "https://app.example.com/pricing?x=1" {
		t.Fatalf("after another server call: %v", got)
	}

	// Another site's token sees nothing of this one.
	if code, _ := s.get(t, store.ScopeRead, "/install"); code != 200 {
		t.Fatalf("read token: %d", code)
	}
	other := startServer(t, nil)
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+"/install", nil)
	req.Header.Set("Authorization", "Bearer "+other.tokens[store.ScopeAdmin])
	if code, _ := do(t, req); code != http.StatusUnauthorized && code != http.StatusNotFound {
		t.Errorf("another server's token: %d, want 401 or 404", code)
	}
}

func TestUsersListWithAttributesAndLastSeen(t *testing.T) {
	s := startServer(t, nil)
	for _, body := range []string{
		`{"userId":"u1","traits":{"plan":"pro","ltv":420,"beta":true},"timestamp":"2025-03-01T10:00:00Z"}`,
		`{"userId":"u2","traits":{"plan":"free"},"timestamp":"2025-03-02T10:00:00Z"}`,
	} {
		if code, out := s.send(t, "/v1/identify", body); code != 200 {
			t.Fatalf("identify: %d %v", code, out)
		}
	}
	s.send(t, "/v1/track", `{"userId":"u1","event":"export","timestamp":"2025-03-05T12:00:00Z"}`)
	type row struct {
		UserID     string `json:"user_id"`
		LastSeen   string `json:"last_seen"`
		Attributes map[string]struct {
			Value any    `json:"value"`
			Type  string `json:"type"`
		} `json:"attributes"`
	}
	var page struct {
		Users []row `json:"users"`
	}
	s.getJSON(t, "/users?prefix=u&attributes=plan,ltv,missing", &page)
	if len(page.Users) != 2 {
		t.Fatalf("users = %+v", page.Users)
	}
	u1, u2 := page.Users[0], page.Users[1]
	if u1.UserID != "u1" || u1.LastSeen != "2025-03-05T12:00:00Z" || u2.LastSeen != "2025-03-02T10:00:00Z" {
		t.Errorf("last seen: %+v %+v", u1, u2)
	}
	if len(u1.Attributes) != 2 || u1.Attributes["plan"].Value != "pro" || u1.Attributes["ltv"].Type != "number" ||
		u2.Attributes["plan"].Value != "free" || len(u2.Attributes) != 1 {
		t.Errorf("attributes: %+v %+v", u1.Attributes, u2.Attributes)
	}
	// Without ?attributes the rows carry none.
	var plain struct {
		Users []row `json:"users"`
	}
	s.getJSON(t, "/users?attr=plan&value=pro", &plain)
	if len(plain.Users) != 1 || plain.Users[0].UserID != "u1" || plain.Users[0].Attributes != nil {
		t.Errorf("by attribute, no columns: %+v", plain.Users)
	}
	code, out := s.get(t, store.ScopeRead, "/users?attributes="+strings.Repeat("a,", 60))
	if code != 400 || errorCode(out) != "invalid_parameter" {
		t.Errorf("60 attributes: %d %v", code, out)
	}
}
