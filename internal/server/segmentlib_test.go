package server_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"
)

// TestSegmentGoLibrary sends every message kind with Segment's own Go
// library, as a customer's backend would, and reads the result back through
// the API: typed traits, a company, events, the batch-level context, and an
// alias joining two users.
func TestSegmentGoLibrary(t *testing.T) {
	srv := startServer(t, nil)
	cb := &callback{}
	logs := &libLog{}
	client, err := analytics.NewWithConfig(srv.writeKey, analytics.Config{
		Endpoint:   srv.base,
		BatchSize:  10,
		Interval:   50 * time.Millisecond,
		Callback:   cb,
		Logger:     logs,
		RetryAfter: func(int) time.Duration { return 20 * time.Millisecond },
		// The library sends this once per batch, not in each message.
		DefaultContext: &analytics.Context{Locale: "nb-NO", Timezone: "Europe/Oslo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close() // on an early return; closing twice only returns ErrClosed

	signedUp := time.Date(2024, 5, 1, 9, 30, 0, 250_000_000, time.FixedZone("CEST", 2*3600))
	founded := time.Date(2011, 3, 14, 0, 0, 0, 0, time.UTC)
	msgs := []analytics.Message{
		analytics.Identify{UserId: "legacy-7", Traits: analytics.NewTraits().Set("legacy_plan", "basic")},
		analytics.Track{UserId: "legacy-7", Event: "Old Login"},
		analytics.Identify{UserId: "u-ada", Traits: analytics.NewTraits().
			SetEmail("ada@example.com").
			SetName("Ada Lovelace").
			Set("seats", 12).
			Set("ltv", 420.5).
			Set("beta", true).
			Set("signed_up_at", signedUp).
			Set("address", map[string]any{"city": "Oslo", "floor": 3})},
		analytics.Track{UserId: "u-ada", Event: "Report Exported",
			Properties: analytics.NewProperties().Set("format", "csv").Set("rows", 1200)},
		analytics.Page{UserId: "u-ada", Name: "Pricing", Properties: analytics.NewProperties().
			SetURL("https://app.example.com/pricing?plan=team").SetPath("/pricing").SetTitle("Pricing")},
		analytics.Group{UserId: "u-ada", GroupId: "acme", Traits: analytics.NewTraits().
			SetName("Acme Inc").
			Set("employees", 250).
			Set("enterprise", true).
			Set("founded", founded)},
	}
	for i := range 8 { // more than BatchSize: the library sends several batches
		msgs = append(msgs, analytics.Track{UserId: "u-ada", Event: "Report Viewed",
			Properties: analytics.NewProperties().Set("n", i)})
	}
	for _, m := range msgs {
		if err := client.Enqueue(m); err != nil {
			t.Fatalf("enqueue %T: %v", m, err)
		}
	}
	// The library sends batches concurrently, so the alias waits until
	// everything about legacy-7 is stored.
	cb.wait(t, len(msgs))
	if err := client.Enqueue(analytics.Alias{PreviousId: "legacy-7", UserId: "u-ada"}); err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatalf("close the library's client: %v", err)
	}
	sent := cb.check(t, len(msgs)+1)
	for _, line := range logs.lines() {
		t.Errorf("the library logged: %s", line)
	}

	var user struct {
		UserID     string              `json:"user_id"`
		Events     int                 `json:"events"`
		Attributes map[string]attrJSON `json:"attributes"`
		Companies  []struct {
			GroupID    string              `json:"group_id"`
			Attributes map[string]attrJSON `json:"attributes"`
		} `json:"companies"`
	}
	srv.getJSON(t, "/users/u-ada", &user)
	checkAttrs(t, "user", user.Attributes, map[string]attrJSON{
		"email":         {"ada@example.com", "string"},
		"name":          {"Ada Lovelace", "string"},
		"seats":         {12.0, "number"},
		"ltv":           {420.5, "number"},
		"beta":          {true, "boolean"},
		"signed_up_at":  {"2024-05-01T07:30:00.25Z", "datetime"},
		"address.city":  {"Oslo", "string"},
		"address.floor": {3.0, "number"},
		"legacy_plan":   {"basic", "string"}, // from legacy-7, joined by the alias
	})
	if len(user.Companies) != 1 || user.Companies[0].GroupID != "acme" {
		t.Fatalf("companies = %+v, want acme", user.Companies)
	}
	checkAttrs(t, "company", user.Companies[0].Attributes, map[string]attrJSON{
		"name":       {"Acme Inc", "string"},
		"employees":  {250.0, "number"},
		"enterprise": {true, "boolean"},
		"founded":    {"2011-03-14T00:00:00Z", "datetime"},
	})
	if user.Events != len(sent) {
		t.Errorf("u-ada has %d events; the library sent %d messages, all about u-ada or joined to it", user.Events, len(sent))
	}

	var events struct {
		Events []struct {
			Type       string         `json:"type"`
			Name       string         `json:"name"`
			MessageID  string         `json:"message_id"`
			Path       string         `json:"path"`
			URL        string         `json:"url"`
			Title      string         `json:"title"`
			Properties map[string]any `json:"properties"`
		} `json:"events"`
		NextBefore string `json:"next_before"`
	}
	srv.getJSON(t, "/users/u-ada/events?limit=100", &events)
	if events.NextBefore != "" {
		t.Errorf("next_before = %q on the only page", events.NextBefore)
	}
	got := map[string]bool{}
	for _, e := range events.Events {
		got[e.MessageID] = true
		want, ok := sent[e.MessageID]
		if !ok {
			t.Errorf("event %s %q (%s) was not sent by the library", e.Type, e.Name, e.MessageID)
			continue
		}
		if e.Type != want.kind || e.Name != want.name {
			t.Errorf("event %s is %s %q, want %s %q", e.MessageID, e.Type, e.Name, want.kind, want.name)
		}
		switch e.Name {
		case "Pricing":
			if e.Path != "/pricing" || e.URL != "https://app.example.com/pricing?plan=team" || e.Title != "Pricing" {
				t.Errorf("page = path %q url %q title %q", e.Path, e.URL, e.Title)
			}
		case "Report Exported":
			if e.Properties["format"] != "csv" || e.Properties["rows"] != 1200.0 {
				t.Errorf("track properties = %v", e.Properties)
			}
		}
	}
	for id, m := range sent {
		if !got[id] {
			t.Errorf("%s %q (%s) is not among u-ada's events", m.kind, m.name, id)
		}
	}

	var sessions struct {
		Sessions []struct {
			Locale   string `json:"locale"`
			Timezone string `json:"timezone"`
		} `json:"sessions"`
	}
	srv.getJSON(t, "/users/u-ada/sessions", &sessions)
	if len(sessions.Sessions) == 0 {
		t.Error("u-ada has no session")
	}
	for _, s := range sessions.Sessions {
		if s.Locale != "nb-NO" || s.Timezone != "Europe/Oslo" {
			t.Errorf("session locale %q, timezone %q; want the DefaultContext's nb-NO, Europe/Oslo", s.Locale, s.Timezone)
		}
	}

	// previousId now names the same user.
	var legacy struct {
		Events     int                 `json:"events"`
		Attributes map[string]attrJSON `json:"attributes"`
	}
	srv.getJSON(t, "/users/legacy-7", &legacy)
	if legacy.Events != user.Events || legacy.Attributes["email"].Value != "ada@example.com" {
		t.Errorf("legacy-7 has %d events and email %v; want u-ada's %d events and email",
			legacy.Events, legacy.Attributes["email"].Value, user.Events)
	}
}

// attrJSON is an attribute as the API shows it, without its change time.
type attrJSON struct {
	Value any    `json:"value"`
	Type  string `json:"type"`
}

func checkAttrs(t *testing.T, what string, got, want map[string]attrJSON) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s attribute %s is missing (have %v)", what, k, got)
		case g != w:
			t.Errorf("%s attribute %s = %v (%s), want %v (%s)", what, k, g.Value, g.Type, w.Value, w.Type)
		}
	}
}

// callback records what the library reports about each message.
type callback struct {
	mu       sync.Mutex
	ok       []analytics.Message
	failures []string
}

var _ analytics.Callback = (*callback)(nil)

func (c *callback) Success(m analytics.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok = append(c.ok, m)
}

func (c *callback) Failure(m analytics.Message, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf("%T: %v", m, err))
}

// wait waits until n messages are reported sent, or one failed.
func (c *callback) wait(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		ok, failed := len(c.ok), len(c.failures)
		c.mu.Unlock()
		if failed > 0 {
			t.Fatalf("the library reported failures: %v", c.failures)
		}
		if ok >= n {
			return
		}
	}
	t.Fatalf("the library reported %d of %d messages sent within 10s", len(c.ok), n)
}

// sentMessage is what the API should show of a message the library sent.
type sentMessage struct{ kind, name string }

// check wants n successes and no failure, and returns the messages sent by
// message ID.
func (c *callback) check(t *testing.T, n int) map[string]sentMessage {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.failures {
		t.Errorf("the library reported a failure: %s", f)
	}
	if len(c.ok) != n {
		t.Errorf("the library reported %d messages sent, want %d", len(c.ok), n)
	}
	out := map[string]sentMessage{}
	for _, m := range c.ok {
		switch m := m.(type) {
		case analytics.Identify:
			out[m.MessageId] = sentMessage{"identify", ""}
		case analytics.Track:
			out[m.MessageId] = sentMessage{"track", m.Event}
		case analytics.Page:
			out[m.MessageId] = sentMessage{"page", m.Name}
		case analytics.Group:
			out[m.MessageId] = sentMessage{"group", ""}
		case analytics.Alias:
			out[m.MessageId] = sentMessage{"alias", ""}
		default:
			t.Fatalf("unexpected message %T", m)
		}
	}
	return out
}

// libLog records the library's log lines: with Verbose off it logs only
// problems (failed requests, answers other than 2xx).
type libLog struct {
	mu  sync.Mutex
	out []string
}

func (l *libLog) Logf(format string, args ...any)   { l.add("INFO: "+format, args...) }
func (l *libLog) Errorf(format string, args ...any) { l.add("ERROR: "+format, args...) }

func (l *libLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out = append(l.out, fmt.Sprintf(format, args...))
}

func (l *libLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.out...)
}
