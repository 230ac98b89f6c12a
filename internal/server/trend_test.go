package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestSegmentTrendThroughHTTP checks a segment's size over past days:
// each day counts the attribute values and events of then, not of now.
func TestSegmentTrendThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	ago := func(days int) string {
		return time.Now().UTC().AddDate(0, 0, -days).Format(time.RFC3339)
	}
	msgs := []string{
		// ann is pro from 10 days ago until 1 day ago; bob pro from 3 days ago.
		fmt.Sprintf(`{"type":"identify","userId":"ann","traits":{"plan":"pro"},"timestamp":%q,"messageId":"a1"}`, ago(10)),
		fmt.Sprintf(`{"type":"identify","userId":"ann","traits":{"plan":"free"},"timestamp":%q,"messageId":"a2"}`, ago(1)),
		fmt.Sprintf(`{"type":"identify","userId":"bob","traits":{"plan":"pro"},"timestamp":%q,"messageId":"b1"}`, ago(3)),
		// cy exports 5 and 4 days ago.
		fmt.Sprintf(`{"type":"track","userId":"cy","event":"export","timestamp":%q,"messageId":"c1"}`, ago(5)),
		fmt.Sprintf(`{"type":"track","userId":"cy","event":"export","timestamp":%q,"messageId":"c2"}`, ago(4)),
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	trend := func(body map[string]any) string {
		var sizes []string
		for _, p := range body["points"].([]any) {
			sizes = append(sizes, fmt.Sprint(p.(map[string]any)["size"]))
		}
		return strings.Join(sizes, " ")
	}
	code, body := s.call(t, store.ScopeWrite, "POST", "/segments", `{"name":"Pro","text":"plan = \"pro\""}`)
	if code != 201 && code != 200 {
		t.Fatalf("save: %d %v", code, body)
	}
	id := body["id"].(string)
	// Days 12 ago … today: none, then ann (from 10 ago), bob too (from 3
	// ago), then ann leaves (1 ago).
	code, body = s.get(t, store.ScopeRead, "/segments/"+id+"/trend?days=13")
	if want := "0 0 1 1 1 1 1 1 1 2 2 1 1"; code != 200 || trend(body) != want {
		t.Fatalf("trend of plan = pro: %d %q, want %q (%v)", code, trend(body), want, body)
	}
	// Behaviour: two exports in the 48 hours before a day's end, which
	// only the day of the second export (4 ago) has.
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/trend?days=7", `{"text":"did(\"export\", 2d) >= 2"}`)
	if want := "0 0 1 0 0 0 0"; code != 200 || trend(body) != want {
		t.Fatalf("trend of did export: %d %q, want %q (%v)", code, trend(body), want, body)
	}
	// Every other week over a month: the last point is today.
	code, body = s.get(t, store.ScopeRead, "/segments/"+id+"/trend?days=30&step=14")
	pts, _ := body["points"].([]any)
	if code != 200 || len(pts) != 4 || pts[3].(map[string]any)["date"] != time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("stepped trend: %d %v", code, body)
	}
	if code, body = s.get(t, store.ScopeRead, "/segments/"+id+"/trend?days=0"); code != 400 {
		t.Fatalf("days=0: %d %v", code, body)
	}
}
