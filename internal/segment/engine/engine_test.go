package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestMembersScenarios evaluates segments over small hand-written
// datasets. Each case pins down a disagreement TestOracle once found.
func TestMembersScenarios(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 34, 56, 0, time.UTC)
	identify := func(user string, at time.Time, traits map[string]any) store.Message {
		return store.Message{Kind: store.KindIdentify, UserID: user, Timestamp: at, Traits: attr.Flatten(traits)}
	}
	group := func(user, company string, traits map[string]any) store.Message {
		return store.Message{Kind: store.KindGroup, UserID: user, GroupID: company, Timestamp: now.Add(-time.Hour),
			Traits: attr.Flatten(traits)}
	}
	signal := func(user, name, path string, ago time.Duration) store.Message {
		return store.Message{Kind: store.KindTrack, UserID: user, Name: name, Timestamp: now.Add(-ago),
			Page: store.Page{Path: path}, Properties: "{}"}
	}
	frustrated := []store.Message{
		signal("u1", "$rage_click", "/checkout", time.Hour), signal("u1", "$rage_click", "/checkout/pay", 2*time.Hour),
		signal("u1", "$rage_click", "/home", 3*time.Hour), signal("u1", "$error", "/checkout", 40*24*time.Hour),
		signal("u2", "$dead_click", "/home", time.Hour), signal("u2", "Rage Click", "/checkout", time.Hour),
		identify("u3", now.Add(-time.Hour), map[string]any{"plan": "pro"}),
	}
	login := identify("u1", now.Add(-20*24*time.Hour), map[string]any{"last_login_at": "2026-02-23T16:37:20Z"})
	other := identify("u2", now.Add(-20*24*time.Hour), map[string]any{"last_login_at": "2026-02-24T00:00:00Z"})
	tests := []struct {
		name    string
		data    []store.Message
		saved   string // a segment to save first; segment names it as $SAVED
		segment string
		want    []string // user IDs
	}{
		{"a user in two matching companies is one member",
			[]store.Message{group("u1", "acme", map[string]any{"employees": 10.0}),
				group("u1", "globex", map[string]any{"employees": 20.0})},
			"", "company.employees is set", []string{"u1"}},
		{"between an instant and a whole day includes that day",
			[]store.Message{login, other},
			"", "last_login_at between 2026-01-22T18:14:07Z and 2026-02-23", []string{"u1"}},
		{"between an instant and a whole day, as of",
			[]store.Message{login, other},
			"", "last_login_at between 2026-01-22T18:14:07Z and 2026-02-23 as of 2026-03-01", []string{"u1"}},
		{"between a whole day and an instant ends at the instant",
			[]store.Message{login, other},
			"", "last_login_at between 2026-02-23 and 2026-02-23T16:37:20Z", []string{"u1"}},
		{"between: an instant low bound is exact",
			[]store.Message{login, other},
			"", "last_login_at between 2026-02-23T16:37:21Z and 2026-02-24", []string{"u2"}},
		{"rage clicks counted in the period", frustrated, "", "rage_clicks(1d) >= 3", []string{"u1"}},
		{"rage clicks on pages starting with a path", frustrated, "", `rage_clicks(1d, page starts_with "/checkout") = 2`, []string{"u1"}},
		{"rage clicks on one page", frustrated, "", `rage_clicks(page = "/checkout")`, []string{"u1"}},
		{"no rage clicks includes users without any signal", frustrated, "", "rage_clicks(30d) = 0", []string{"u2", "u3"}},
		{"an error outside the period does not count", frustrated, "", "errors(30d) > 0", nil},
		{"an error in all time counts", frustrated, "", `errors(page contains "check") = 1`, []string{"u1"}},
		{"dead clicks are not rage clicks", frustrated, "", "dead_clicks(7d) and not rage_clicks(7d)", []string{"u2"}},
		{"a saved segment's whole day is the whole day",
			[]store.Message{login, other},
			"last_login_at = 2026-02-23", `in_segment("$SAVED")`, []string{"u1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, site := openStore(t, now)
			msgs := slices.Clone(tt.data)
			for i := range msgs {
				msgs[i].SiteID, msgs[i].MessageID, msgs[i].ReceivedAt = site.ID, string(rune('a'+i)), msgs[i].Timestamp
			}
			if _, err := db.Write(ctx, msgs); err != nil {
				t.Fatal(err)
			}
			eng := engine.New(db, compiler.DuckDB{}, func() time.Time { return now })
			text := tt.segment
			if tt.saved != "" {
				n, err := eng.Prepare(ctx, site.ID, engine.Definition{Text: tt.saved}, "")
				if err != nil {
					t.Fatal(err)
				}
				def, err := segment.MarshalNode(n)
				if err != nil {
					t.Fatal(err)
				}
				s, err := db.SaveSegment(ctx, store.SavedSegment{SiteID: site.ID, Name: "saved", Definition: def,
					Text: segment.Format(n)})
				if err != nil {
					t.Fatal(err)
				}
				text = strings.ReplaceAll(text, "$SAVED", s.ID)
			}
			n, err := eng.Prepare(ctx, site.ID, engine.Definition{Text: text}, "")
			if err != nil {
				t.Fatal(err)
			}
			members, err := eng.Members(ctx, site.ID, n, 0, 100, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range members {
				got = append(got, m.UserID)
			}
			count, err := eng.Count(ctx, site.ID, n)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || count != int64(len(tt.want)) {
				t.Errorf("%s: members %v, count %d; want %v", text, got, count, tt.want)
			}
			for _, id := range []string{"u1", "u2", "u3"} {
				key, err := db.UserKey(ctx, site.ID, store.Identity{Kind: "user", ID: id})
				if err != nil {
					continue // not in this scenario's data
				}
				in, err := eng.Contains(ctx, site.ID, n, key)
				if err != nil || in != slices.Contains(tt.want, id) {
					t.Errorf("%s: Contains(%s) = %v, %v", text, id, in, err)
				}
			}
		})
	}
}

// openStore opens a store in a temporary folder with a fixed clock and one
// site; it is closed when the test ends.
func openStore(t *testing.T, now time.Time) (*duckstore.DB, store.Site) {
	t.Helper()
	db, err := duckstore.Open(context.Background(), filepath.Join(t.TempDir(), "s.duckdb"),
		duckstore.Options{MemoryLimit: "256MB", Threads: 1, Now: func() time.Time { return now }},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, _, err := db.CreateSite(context.Background(), "Test", []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return db, site
}
