package server_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestAlertEnteredByTheClock: a segment.entered rule on "last_login
// older_than 7d" announces a user who enters as the clock moves on, with
// no new data about them, once; a member from the start is never
// announced; and an edit of the segment that lets another user in
// re-baselines the rule without announcing them.
func TestAlertEnteredByTheClock(t *testing.T) {
	clock := &testClock{t: time.Now().UTC()}
	s := alertServer(t, func(c *config.Config) {
		c.Now = clock.Now
		c.Alerts.ClockCheck = time.Minute
	})
	t0 := clock.Now()
	day := 24 * time.Hour
	s.identify(t, "seed", `{"plan":"free","last_login":"`+t0.Format(time.RFC3339)+`"}`)
	s.identify(t, "old", `{"last_login":"`+t0.Add(-10*day).Format(time.RFC3339)+`"}`)
	s.identify(t, "recent", `{"last_login":"`+t0.Add(-4*day).Format(time.RFC3339)+`"}`)
	rcv := newReceiver(t, 0)
	seg := s.must(t, http.StatusCreated, store.ScopeWrite, "POST", "/segments", map[string]any{"name": "Inactive", "text": `last_login older_than 7d`})
	dst := s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/destinations",
		map[string]any{"name": "Receiver", "kind": "webhook", "url": rcv.srv.URL})
	s.must(t, http.StatusCreated, store.ScopeAdmin, "POST", "/alerts/rules", map[string]any{
		"name": "Went inactive", "trigger": "segment.entered", "segment_id": seg["id"], "destination_id": dst["id"], "enabled": true})

	users := func() []string {
		var out []string
		for _, r := range rcv.requests() {
			var ev struct {
				Type string
				Data struct{ User struct{ ID string } }
			}
			json.Unmarshal(r.body, &ev)
			out = append(out, ev.Type+" "+ev.Data.User.ID)
		}
		return out
	}
	// The clock has not moved on: nothing to announce.
	clock.add(2 * time.Minute)
	time.Sleep(time.Second)
	if got := users(); len(got) != 0 {
		t.Fatalf("announced before anyone entered: %v", got)
	}
	// Four days later "recent" has not logged in for 8 days.
	clock.add(4 * day)
	waitRequests(t, rcv, 1)
	clock.add(2 * time.Minute) // another check: nobody new
	time.Sleep(time.Second)
	if got := users(); len(got) != 1 || got[0] != "segment.entered recent" {
		t.Fatalf("announced %v, want recent once", got)
	}
	// An edit lets "seed" in (4 days without a login): the rule takes
	// the new members without announcing them.
	s.must(t, http.StatusOK, store.ScopeWrite, "PUT", "/segments/"+seg["id"].(string),
		map[string]any{"name": "Inactive", "text": `last_login older_than 3d`})
	clock.add(2 * time.Minute)
	time.Sleep(1500 * time.Millisecond)
	clock.add(2 * time.Minute) // and a check after the re-baseline
	time.Sleep(1500 * time.Millisecond)
	if got := users(); len(got) != 1 {
		t.Errorf("announced %v after the segment's edit, want only recent (before it)", got)
	}
	var rules struct {
		Rules []map[string]any `json:"rules"`
	}
	s.getJSON(t, "/alerts/rules", &rules)
	if len(rules.Rules) != 1 || rules.Rules[0]["members_of"] == nil {
		t.Errorf("rules %v", rules.Rules)
	}
}
