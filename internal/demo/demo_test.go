package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/demo"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
)

var now = time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)

// filled is a store with both demo products, shared by the tests: making
// it takes a few seconds.
type filled struct {
	db         *duckstore.DB
	svc        demo.Services
	saas, shop int64
	sum, shsum demo.Summary
}

func fill(t *testing.T) *filled {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	db, err := duckstore.Open(ctx, filepath.Join(dir, "d.duckdb"), duckstore.Options{MemoryLimit: "512MB", Threads: 2}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.OpenDisk(filepath.Join(dir, "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recording.New(recording.Config{Store: db, Blobs: blobs, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	// The data ends at now, so the segments' periods (30d…) end there too.
	segments := engine.New(db, compiler.DuckDB{}, func() time.Time { return now })
	surveys := survey.New(db, segments, log, nil)
	f := &filled{db: db, svc: demo.Services{DB: db, Surveys: surveys, Feedback: feedback.New(db, surveys, log, nil),
		Recordings: rec, Segments: segments}}
	for _, s := range []struct {
		name string
		id   *int64
		sum  *demo.Summary
		fill func(context.Context, demo.Services, int64, demo.Config) (demo.Summary, error)
		n    int
	}{{"Ledgerly", &f.saas, &f.sum, demo.FillSaaS, 3000}, {"Fernhill", &f.shop, &f.shsum, demo.FillShop, 1000}} {
		site, _, err := db.CreateSite(ctx, s.name, nil)
		if err != nil {
			t.Fatal(err)
		}
		*s.id = site.ID
		if *s.sum, err = s.fill(ctx, f.svc, site.ID, demo.Config{Users: s.n, Recordings: 60, Seed: 2, Now: now}); err != nil {
			t.Fatalf("fill %s: %v", s.name, err)
		}
		t.Logf("%s: %+v", s.name, *s.sum)
	}
	return f
}

func TestDemo(t *testing.T) {
	f := fill(t)
	t.Run("sessions count their late events", func(t *testing.T) { sessionsCountEvents(t, f) })
	t.Run("answers follow behaviour", func(t *testing.T) { answersFollowBehaviour(t, f) })
	t.Run("feedback", func(t *testing.T) { feedbackShape(t, f) })
	t.Run("recordings replay", func(t *testing.T) { recordingsReplay(t, f) })
	t.Run("saved segments", func(t *testing.T) { savedSegments(t, f) })
	t.Run("heatmap story", func(t *testing.T) { heatmapStory(t, f) })
	t.Run("insights", func(t *testing.T) { demoInsights(t, f) })
}

// sessionsCountEvents checks that every session, the survey responses'
// and feedback's included, counts exactly its events, and that each
// response and piece of feedback has its event.
func sessionsCountEvents(t *testing.T, f *filled) {
	var bad int64
	if err := f.db.SQL().QueryRow(`SELECT count(*) FROM sessions s LEFT JOIN (
			SELECT session_id, count(*) FILTER (WHERE kind IN (2, 3, 4)) AS n, count(*) FILTER (WHERE kind = 3) AS p
			FROM events GROUP BY session_id) e USING (session_id)
		WHERE e.n IS DISTINCT FROM s.event_count OR e.p IS DISTINCT FROM s.page_count`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d sessions whose counts disagree with their events", bad)
	}
	for _, c := range []struct{ event, table string }{{"$survey_response", "survey_responses"}, {"$feedback", "feedback"}} {
		var events, rows, outside int64
		if err := f.db.SQL().QueryRow(`SELECT (SELECT count(*) FROM events WHERE name = $1),
				(SELECT count(*) FROM `+c.table+`),
				(SELECT count(*) FROM events e JOIN sessions s USING (session_id)
					WHERE e.name = $1 AND (e.ts < s.started_at OR e.ts > s.ended_at OR e.user_key <> s.user_key))`,
			c.event).Scan(&events, &rows, &outside); err != nil {
			t.Fatal(err)
		}
		if events != rows || rows == 0 || outside != 0 {
			t.Errorf("%s: %d events for %d rows, %d outside their session", c.event, events, rows, outside)
		}
	}
}

// answersFollowBehaviour checks the surveys and that NPS scores follow
// what users went through: lower without onboarding or with rage clicks,
// higher for the most active.
func answersFollowBehaviour(t *testing.T, f *filled) {
	ctx := context.Background()
	list, err := f.svc.Surveys.List(ctx, f.saas)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[survey.Status]int{}
	for _, s := range list {
		statuses[s.Status]++
		if !s.CreatedAt.Equal(now.Add(-demo.Days * 24 * time.Hour)) {
			t.Errorf("survey %s created %v", s.Definition.Name, s.CreatedAt)
		}
	}
	if len(list) != 2 || statuses[survey.StatusLive] != 1 || statuses[survey.StatusEnded] != 1 {
		t.Fatalf("surveys: %v", statuses)
	}
	score := func(name, where string) float64 {
		t.Helper()
		var avg float64
		var n int
		if err := f.db.SQL().QueryRow(`SELECT avg(r.nps), count(*) FROM survey_responses r
			JOIN identities i ON i.kind = 1 AND i.external_id = r.user_id AND i.site_id = r.site_id
			WHERE r.nps IS NOT NULL AND r.site_id = ? AND `+where, f.saas).Scan(&avg, &n); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-22s %4d responses, average score %.2f", name, n, avg)
		if n < 10 {
			t.Errorf("%s: only %d responses", name, n)
		}
		return avg
	}
	onboarded := `EXISTS (SELECT 1 FROM attr_current a WHERE a.entity_key = i.entity_key AND a.key = 'onboarding_completed' AND a.b)`
	raged := `EXISTS (SELECT 1 FROM events e WHERE e.user_key = i.entity_key AND e.name = '$rage_click')`
	active := `(SELECT count(DISTINCT date_trunc('day', started_at)) FROM sessions s WHERE s.user_key = i.entity_key) >= 15`
	if a, b := score("onboarded", onboarded), score("not onboarded", "NOT "+onboarded); a <= b+0.5 {
		t.Errorf("onboarded users score %.2f, the others %.2f: want clearly higher", a, b)
	}
	if a, b := score("rage-clicked", raged), score("never rage-clicked", "NOT "+raged); a >= b {
		t.Errorf("rage-clickers score %.2f, the others %.2f: want lower", a, b)
	}
	if a, b := score("active 15+ days", active), score("less active", "NOT "+active); a <= b {
		t.Errorf("the most active score %.2f, the others %.2f: want higher", a, b)
	}
	var nps float64
	if err := f.db.SQL().QueryRow(`SELECT 100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6))
		/ count(*) FROM survey_responses WHERE nps IS NOT NULL`).Scan(&nps); err != nil {
		t.Fatal(err)
	}
	if nps < -40 || nps > 50 {
		t.Errorf("NPS %.1f: not a plausible product's", nps)
	}
}

// feedbackShape checks that feedback is on, on real pages, and lower
// where a session ran into a page's problem.
func feedbackShape(t *testing.T, f *filled) {
	ctx := context.Background()
	for _, site := range []int64{f.saas, f.shop} {
		set, err := f.svc.Feedback.Settings(ctx, site)
		if err != nil || !set.Enabled {
			t.Fatalf("site %d feedback settings %+v, %v", site, set, err)
		}
		var items, unknownPage, selectors, comments int64
		var bad, good float64
		if err := f.db.SQL().QueryRow(`SELECT count(*),
				count(*) FILTER (WHERE url NOT IN (SELECT DISTINCT url FROM events WHERE kind = 3 AND site_id = $1)),
				count(*) FILTER (WHERE selector <> ''), count(*) FILTER (WHERE comment <> ''),
				avg(rating) FILTER (WHERE EXISTS (SELECT 1 FROM events e WHERE e.site_id = $1
					AND e.name IN ('$rage_click', '$dead_click', '$error') AND e.url = f.url
					AND e.ts BETWEEN f.created_at - INTERVAL 1 MINUTE AND f.created_at)),
				avg(rating) FILTER (WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.site_id = $1
					AND e.name IN ('$rage_click', '$dead_click', '$error') AND e.url = f.url
					AND e.ts BETWEEN f.created_at - INTERVAL 1 MINUTE AND f.created_at))
			FROM feedback f WHERE site_id = $1`, site).Scan(&items, &unknownPage, &selectors, &comments, &bad, &good); err != nil {
			t.Fatal(err)
		}
		t.Logf("site %d: %d feedback, %d with a selector, %d with a comment; rating %.2f after a problem, %.2f otherwise",
			site, items, selectors, comments, bad, good)
		if items == 0 || unknownPage != 0 || selectors == 0 || comments == 0 || bad >= good-1 {
			t.Errorf("site %d: feedback not as wanted", site)
		}
	}
}

// recordingsReplay reads every recording back as the player would and
// checks that it replays: a Meta event then a full snapshot at each page
// load, events in time order within the session, and every incremental
// event aimed at a node the page has (or a mutation added).
func recordingsReplay(t *testing.T, f *filled) {
	ctx := context.Background()
	for _, site := range []int64{f.saas, f.shop} {
		rows, err := f.svc.Recordings.List(ctx, site, store.RecordingQuery{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			t.Fatalf("site %d has no recordings", site)
		}
		var rage int
		for _, r := range rows {
			if r.SessionID == 0 || r.UserKey == 0 {
				t.Errorf("recording %s matches no session or user: %+v", r.ID, r)
			}
			rage += r.Signals.RageClicks
			checkReplay(t, f, site, r)
		}
		t.Logf("site %d: %d recordings, %d rage clicks during them", site, len(rows), rage)
		if site == f.saas && rage == 0 {
			t.Error("no recording shows a rage click")
		}
	}
}

type rrEvent struct {
	Type      int   `json:"type"`
	Timestamp int64 `json:"timestamp"`
	Data      struct {
		Href      string          `json:"href"`
		Node      json.RawMessage `json:"node"`
		Source    *int            `json:"source"`
		ID        int             `json:"id"`
		Positions []struct {
			ID int `json:"id"`
		} `json:"positions"`
		Adds []struct {
			ParentID int             `json:"parentId"`
			Node     json.RawMessage `json:"node"`
		} `json:"adds"`
		Removes []struct {
			ID int `json:"id"`
		} `json:"removes"`
	} `json:"data"`
}

func checkReplay(t *testing.T, f *filled, site int64, r store.RecordingRow) {
	t.Helper()
	evs, err := f.svc.Recordings.OpenEvents(context.Background(), site, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := evs.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var list []rrEvent
	if err := json.Unmarshal(buf.Bytes(), &list); err != nil {
		t.Fatalf("recording %s: %v", r.ID, err)
	}
	if len(list) < 2 || list[0].Type != 4 || list[1].Type != 2 || list[0].Data.Href == "" {
		t.Fatalf("recording %s does not start with Meta and a full snapshot", r.ID)
	}
	ids := map[int]bool{}
	var last int64
	for i, e := range list {
		if e.Timestamp < last || e.Timestamp < r.StartedAt.UnixMilli() || e.Timestamp > r.EndedAt.UnixMilli() {
			t.Fatalf("recording %s event %d at %d: out of order or outside %v–%v", r.ID, i, e.Timestamp, r.StartedAt, r.EndedAt)
		}
		last = e.Timestamp
		switch e.Type {
		case 4:
			if i+1 >= len(list) || list[i+1].Type != 2 {
				t.Fatalf("recording %s: a Meta event without its full snapshot", r.ID)
			}
		case 2:
			ids = map[int]bool{}
			collectIDs(t, e.Data.Node, ids)
		case 3:
			aimed := []int{e.Data.ID}
			for _, p := range e.Data.Positions {
				aimed = append(aimed, p.ID)
			}
			for _, a := range e.Data.Adds {
				aimed = append(aimed, a.ParentID)
				collectIDs(t, a.Node, ids)
			}
			for _, rm := range e.Data.Removes {
				aimed = append(aimed, rm.ID)
			}
			for _, id := range aimed {
				if id != 0 && !ids[id] {
					t.Fatalf("recording %s event %d (source %d) aims at node %d, which the page does not have",
						r.ID, i, *e.Data.Source, id)
				}
			}
		}
	}
}

// collectIDs adds the IDs of a serialized node and its descendants.
func collectIDs(t *testing.T, raw json.RawMessage, ids map[int]bool) {
	t.Helper()
	var n struct {
		Type       *int              `json:"type"`
		ID         int               `json:"id"`
		ChildNodes []json.RawMessage `json:"childNodes"`
		TagName    string            `json:"tagName"`
		Attributes map[string]string `json:"attributes"`
	}
	if err := json.Unmarshal(raw, &n); err != nil || n.Type == nil || n.ID == 0 {
		t.Fatalf("not a serialized node: %s", raw)
	}
	if ids[n.ID] {
		t.Fatalf("node ID %d twice", n.ID)
	}
	if *n.Type == 2 && (n.TagName == "" || n.Attributes == nil || n.ChildNodes == nil) {
		t.Fatalf("element without tagName, attributes or childNodes: %s", raw)
	}
	ids[n.ID] = true
	for _, c := range n.ChildNodes {
		collectIDs(t, c, ids)
	}
}
