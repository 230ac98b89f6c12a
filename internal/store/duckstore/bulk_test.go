package duckstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// openSmallChunks opens a store whose bulk loads commit every few rows, so
// that tests cross many chunk boundaries.
func openSmallChunks(t testing.TB, path string) *duckstore.DB {
	t.Helper()
	db, err := duckstore.Open(context.Background(), path, duckstore.Options{MemoryLimit: "256MB", Threads: 2,
		BulkChunkRows: 50, Now: func() time.Time { return t0.Add(time.Minute) }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func str(s string) attr.Value { return attr.Value{Type: attr.String, Str: s} }

// bulkUsers loads n users "bu-<i>", each with a plan that went from trial to
// pro, an ltv, a company, and one session of a page view and a track event.
func bulkUsers(t *testing.T, db *duckstore.DB, site int64, n int) duckstore.BulkStats {
	t.Helper()
	b, err := db.Bulk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signup := t0.Add(-48 * time.Hour)
	for i := range n {
		group := b.NewGroup(site, signup, fmt.Sprintf("co-%d", i))
		b.SetAttr(site, store.EntityGroup, group, "employees", attr.Value{Type: attr.Number, Num: float64(10 + i)}, signup)
		user := b.NewUser(site, signup, fmt.Sprintf("bu-%d", i), fmt.Sprintf("ba-%d", i))
		b.Link(site, user, group, signup)
		b.AttrChange(site, store.EntityUser, user, "plan", str("trial"), signup)
		b.SetAttr(site, store.EntityUser, user, "plan", str("pro"), signup.Add(time.Hour))
		b.SetAttr(site, store.EntityUser, user, "ltv", attr.Value{Type: attr.Number, Num: float64(i)}, signup)
		start := t0.Add(-2 * time.Hour).Add(time.Duration(i) * time.Second)
		s := &store.Session{Start: start, End: start.Add(5 * time.Minute), Pages: 1, Events: 2, EntryPage: "/app",
			ExitPage: "/app", Context: store.Context{DeviceType: "desktop", Browser: "Chrome", Country: "NO"}}
		sid := b.Session(site, user, s)
		if sid != s.ID {
			t.Fatalf("Session returned %d, set ID %d", sid, s.ID)
		}
		b.Event(user, sid, &store.Message{SiteID: site, Kind: store.KindPage, MessageID: fmt.Sprintf("bp-%d", i),
			Timestamp: start, ReceivedAt: start, Page: store.Page{Path: "/app", URL: "https://app.example.com/app"}})
		b.Event(user, sid, &store.Message{SiteID: site, Kind: store.KindTrack, Name: "Export", MessageID: fmt.Sprintf("bt-%d", i),
			Timestamp: s.End, ReceivedAt: s.End, Properties: `{"format":"csv"}`})
	}
	stats := b.Stats()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return stats
}

func TestBulkReadBackAndWriteAfter(t *testing.T) {
	ctx := context.Background()
	db := openSmallChunks(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	// Data written before the load: its keys and open session must survive.
	write(t, db, identify(site.ID, "early", "e1", t0, map[string]any{"plan": "free"}),
		page(site.ID, "early-anon", "early", "e2", "/home", t0))

	stats := bulkUsers(t, db, site.ID, 40)
	want := duckstore.BulkStats{Identities: 120, Groups: 40, Links: 40, AttrValues: 120, AttrChanges: 160,
		Sessions: 40, Events: 80}
	if stats != want {
		t.Fatalf("stats = %+v, want %+v", stats, want)
	}

	u, err := db.User(ctx, site.ID, store.Identity{Kind: "anonymous", ID: "ba-7"})
	if err != nil {
		t.Fatal(err)
	}
	got := attrsOf(u)
	if u.UserID != "bu-7" || got["plan"].Str != "pro" || got["ltv"].Num != 7 || u.Events != 2 || u.Sessions != 1 {
		t.Fatalf("bulk user = %+v", u)
	}
	if len(u.Groups) != 1 || u.Groups[0].ID != "co-7" || u.Groups[0].Attributes[0].Value.Num != 17 {
		t.Fatalf("groups = %+v", u.Groups)
	}
	hist, err := db.History(ctx, site.ID, store.Identity{ID: "bu-7"}, "plan")
	if err != nil || len(hist) != 2 || hist[0].Value.Str != "trial" || hist[1].Value.Str != "pro" {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	ss, err := db.UserSessions(ctx, site.ID, store.Identity{ID: "bu-7"}, 10)
	if err != nil || len(ss) != 1 || ss[0].End.Sub(ss[0].Start) != 5*time.Minute || ss[0].Context.Browser != "Chrome" {
		t.Fatalf("sessions = %+v, %v", ss, err)
	}
	evs, err := db.UserEvents(ctx, site.ID, store.Identity{ID: "bu-7"}, store.EventQuery{Limit: 10})
	if err != nil || len(evs) != 2 || evs[0].Name != "Export" || evs[0].Properties != `{"format":"csv"}` {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	cat, err := db.AttributeCatalog(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]attr.Type{}
	for _, k := range cat {
		types[k.Entity.String()+"."+k.Key] = k.Type
		if k.Key == "ltv" && (k.Users != 40 || !k.FirstSeen.Equal(t0.Add(-48*time.Hour))) {
			t.Errorf("catalog ltv = %+v", k)
		}
	}
	if types["user.plan"] != attr.String || types["user.ltv"] != attr.Number || types["group.employees"] != attr.Number {
		t.Fatalf("catalog types = %v", types)
	}

	// The normal write path continues where the load stopped.
	out := write(t, db,
		identify(site.ID, "bu-7", "w1", t0.Add(2*time.Minute), map[string]any{"plan": "enterprise", "ltv": "x"}),
		identify(site.ID, "late", "w2", t0.Add(2*time.Minute), map[string]any{"plan": "free"}),
		page(site.ID, "ba-7", "", "w3", "/pricing", t0.Add(3*time.Minute)),
		page(site.ID, "early-anon", "", "w4", "/home", t0.Add(4*time.Minute)))
	if len(out[0].Warnings) != 1 || out[0].Warnings[0].Field != "traits.ltv" {
		t.Fatalf("a bulk key's type is not enforced: %+v", out[0].Warnings)
	}
	u, _ = db.User(ctx, site.ID, store.Identity{ID: "bu-7"})
	if attrsOf(u)["plan"].Str != "enterprise" || u.Events != 4 || u.Sessions != 2 {
		t.Fatalf("after write: %+v", u)
	}
	late, _ := db.User(ctx, site.ID, store.Identity{ID: "late"})
	early, _ := db.User(ctx, site.ID, store.Identity{ID: "early"})
	if late.Key <= u.Key || early.Sessions != 1 || early.Events != 3 {
		t.Fatalf("keys or open session lost: late=%d bu-7=%d early=%+v", late.Key, u.Key, early)
	}
	var sessions, ids, keys, entities int
	q := db.SQL().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM all_sessions), (SELECT count(DISTINCT session_id) FROM all_sessions),
		(SELECT count(DISTINCT (kind, external_id)) FROM identities), (SELECT count(*) FROM identities)`)
	if err := q.Scan(&sessions, &ids, &keys, &entities); err != nil {
		t.Fatal(err)
	}
	if sessions != ids || keys != entities {
		t.Fatalf("collisions: %d sessions with %d IDs, %d identities with %d distinct", sessions, ids, entities, keys)
	}
	// A retried bulk message ID is a duplicate for the writer too.
	if out := write(t, db, page(site.ID, "ba-7", "", "bp-3", "/app", t0)); !out[0].Duplicate {
		t.Error("bulk message ID not in the dedupe window")
	}
	if n, err := db.EntityCount(ctx, site.ID); err != nil || n != 82 {
		t.Fatalf("EntityCount = %d, %v; want 82", n, err)
	}
	if n := userDaysMismatch(t, db); n != 0 {
		t.Fatalf("%d user days differ from the loaded and written events", n)
	}
}

func TestBulkTypeConflictFails(t *testing.T) {
	ctx := context.Background()
	db := openSmallChunks(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db, identify(site.ID, "early", "e1", t0, map[string]any{"seats": 3.0}))
	b, err := db.Bulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := b.NewUser(site.ID, t0, "x")
	b.SetAttr(site.ID, store.EntityUser, u, "seats", str("three"), t0)
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "seats is a number attribute") {
		t.Fatalf("Err = %v", err)
	}
	if err := b.Close(); err == nil {
		t.Fatal("Close after a type conflict returned nil")
	}
	// The store is usable and the failed load left nothing behind.
	write(t, db, identify(site.ID, "y", "e2", t0, map[string]any{"seats": 4.0}))
	if n, _ := db.EntityCount(ctx, site.ID); n != 2 {
		t.Fatalf("entities after failed load = %d, want 2", n)
	}
}
