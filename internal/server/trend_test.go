package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
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

// TestNegatedSegmentShowsOneSize checks that a negated segment has one
// size wherever it is shown: the preview, the saved segment, the list
// with sizes, the members' pages, both exports, the users' segments, and
// the last point of its trend, whose earlier points count only the users
// there were then. Its users include one loaded in bulk weeks ago with no
// message at all (as gen and the demo load them) and one whose only
// message is stamped by a clock ahead of ours: users today, whom `not`
// must count.
func TestNegatedSegmentShowsOneSize(t *testing.T) {
	s := startServerWithBulkUser(t, "old-timer", time.Now().UTC().AddDate(0, 0, -40))
	ago := func(days int) string {
		return time.Now().UTC().AddDate(0, 0, -days).Format(time.RFC3339)
	}
	msgs := []string{
		fmt.Sprintf(`{"type":"identify","userId":"ann","traits":{"beta":true},"timestamp":%q,"messageId":"a1"}`, ago(5)),
		fmt.Sprintf(`{"type":"identify","userId":"bob","traits":{"beta":false},"timestamp":%q,"messageId":"b1"}`, ago(5)),
		fmt.Sprintf(`{"type":"track","userId":"cy","event":"export","timestamp":%q,"messageId":"c1"}`, ago(3)),
		fmt.Sprintf(`{"type":"identify","userId":"dee","traits":{"beta":false},"timestamp":%q,"messageId":"d1"}`,
			time.Now().UTC().Add(2*time.Hour).Format(time.RFC3339)),
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	save := func(name, text string) string {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"name": name, "text": text})
		code, saved := s.call(t, store.ScopeWrite, "POST", "/segments", string(body))
		if code != 201 {
			t.Fatalf("save %s: %d %v", text, code, saved)
		}
		return saved["id"].(string)
	}
	beta := save("Beta", "beta = true")
	for _, text := range []string{"not beta = true", fmt.Sprintf("not in_segment(%q)", beta)} {
		t.Run(text, func(t *testing.T) {
			id := save("Not "+text, text)
			// bob, cy, dee and old-timer; six days ago only old-timer
			// was a user, bob from five days ago, cy from three.
			const live, trend = 4, "1 2 2 3 3 3 4"
			for what, n := range s.segmentSizes(t, id, text) {
				if n != live {
					t.Errorf("%s: %d, want %d", what, n, live)
				}
			}
			for _, path := range []string{"/segments/" + id + "/trend?days=7", "/segments/trend?days=7"} {
				method, body := "GET", ""
				if !strings.HasPrefix(path, "/segments/"+id) {
					b, _ := json.Marshal(map[string]string{"text": text})
					method, body = "POST", string(b)
				}
				code, got := s.call(t, store.ScopeRead, method, path, body)
				if sizes := trendSizes(got); code != 200 || sizes != trend {
					t.Errorf("%s %s: %d %q, want %q", method, path, code, sizes, trend)
				}
			}
			for user, want := range map[string]bool{"ann": false, "bob": true, "dee": true, "old-timer": true} {
				_, body := s.call(t, store.ScopeRead, "GET", "/users/"+user+"/segments", "")
				if in := strings.Contains(fmt.Sprint(body["segments"]), id); in != want {
					t.Errorf("%s's segments %v: has %s = %v, want %v", user, body["segments"], id, in, want)
				}
				_, body = s.call(t, store.ScopeRead, "GET", "/segments/"+id+"/members/"+user, "")
				if body["member"] != want {
					t.Errorf("is %s a member: %v, want %v", user, body, want)
				}
			}
		})
	}
}

// segmentSizes returns each number the API shows for the size of the
// saved segment id (defined by text): the preview's, the segment's, the
// list's, the members counted page by page and the exports' rows.
func (s *testServer) segmentSizes(t *testing.T, id, text string) map[string]int {
	t.Helper()
	out := map[string]int{}
	def, _ := json.Marshal(map[string]string{"text": text})
	_, body := s.call(t, store.ScopeRead, "POST", "/segments/preview", string(def))
	out["preview"] = number(body["size"])
	_, body = s.call(t, store.ScopeRead, "GET", "/segments/"+id, "")
	out["segment"] = number(body["size"])
	_, body = s.call(t, store.ScopeRead, "GET", "/segments?size=true", "")
	for _, seg := range body["segments"].([]any) {
		if seg := seg.(map[string]any); seg["id"] == id {
			out["list"] = number(seg["size"])
		}
	}
	after, pages := "", 0
	for ; pages < 10; pages++ {
		_, body = s.call(t, store.ScopeRead, "GET", "/segments/"+id+"/members?limit=1&after="+after, "")
		out["members"] += len(memberIDs(t, body))
		if after = body["next_after"].(string); after == "" {
			break
		}
	}
	for _, format := range []string{"csv", "json"} {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site+"/segments/"+id+"/export?format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if format == "csv" {
			rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
			if err != nil || len(rows) == 0 {
				t.Fatalf("csv export: %v %s", err, raw)
			}
			out["csv export"] = len(rows) - 1 // the header
			continue
		}
		var list []any
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatalf("json export: %v %s", err, raw)
		}
		out["json export"] = len(list)
	}
	return out
}

func number(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func trendSizes(body map[string]any) string {
	var sizes []string
	points, _ := body["points"].([]any)
	for _, p := range points {
		sizes = append(sizes, fmt.Sprint(p.(map[string]any)["size"]))
	}
	return strings.Join(sizes, " ")
}

// startServerWithBulkUser starts a server whose site has a user loaded in
// bulk before the server started, as sightline gen and the demo load
// users: created at created, with no message at all.
func startServerWithBulkUser(t *testing.T, userID string, created time.Time) *testServer {
	t.Helper()
	ctx := context.Background()
	var site store.Site
	var writeKey string
	s := startServer(t, func(cfg *config.Config) {
		db, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if site, writeKey, err = db.CreateSite(ctx, "Loaded", []string{"https://app.example.com"}); err != nil {
			t.Fatal(err)
		}
		b, err := db.Bulk(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b.NewUser(site.ID, created, userID)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	})
	s.site, s.writeKey = site.PublicID, writeKey
	for scope := range s.tokens {
		tok, err := s.admin.CreateToken(ctx, site.PublicID, scope)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[scope] = tok.Token
	}
	return s
}
