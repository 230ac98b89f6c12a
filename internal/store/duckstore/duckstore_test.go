package duckstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func open(t testing.TB, path string) *duckstore.DB {
	t.Helper()
	db, err := duckstore.Open(context.Background(), path, duckstore.Options{MemoryLimit: "256MB", Threads: 2,
		Now: func() time.Time { return t0.Add(time.Minute) }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newSite(t *testing.T, db *duckstore.DB) store.Site {
	t.Helper()
	s, key, err := db.CreateSite(context.Background(), "Test", []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.SiteByWriteKey(context.Background(), key); err != nil || got.ID != s.ID {
		t.Fatalf("SiteByWriteKey = %v, %v", got, err)
	}
	return s
}

func write(t *testing.T, db *duckstore.DB, msgs ...store.Message) []store.Outcome {
	t.Helper()
	out, err := db.Write(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func identify(site int64, id, msgID string, at time.Time, traits map[string]any) store.Message {
	return store.Message{SiteID: site, Kind: store.KindIdentify, UserID: id, MessageID: msgID, Timestamp: at,
		ReceivedAt: at, Traits: attr.Flatten(traits)}
}

func page(site int64, anon, user, msgID, path string, at time.Time) store.Message {
	return store.Message{SiteID: site, Kind: store.KindPage, AnonymousID: anon, UserID: user, MessageID: msgID,
		Timestamp: at, ReceivedAt: at, Page: store.Page{Path: path, URL: "https://app.example.com" + path},
		Context: store.Context{DeviceType: "desktop", Browser: "Chrome", Country: "NO"}}
}

func attrsOf(u store.User) map[string]attr.Value {
	m := map[string]attr.Value{}
	for _, a := range u.Attributes {
		m[a.Key] = a.Value
	}
	return m
}

func TestTypedAttributesAndRejection(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db, identify(site.ID, "u1", "m1", t0, map[string]any{
		"plan": "pro", "ltv": 420.0, "beta": true, "signed_up_at": "2024-05-01", "address": map[string]any{"city": "Oslo"}}))
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]attr.Type{"plan": attr.String, "ltv": attr.Number, "beta": attr.Boolean,
		"signed_up_at": attr.Datetime, "address.city": attr.String}
	got := attrsOf(u)
	if len(got) != len(want) {
		t.Fatalf("attributes = %v", got)
	}
	for k, ty := range want {
		if got[k].Type != ty {
			t.Errorf("%s type = %s, want %s", k, got[k].Type, ty)
		}
	}

	out := write(t, db, identify(site.ID, "u1", "m2", t0.Add(time.Minute), map[string]any{"ltv": "lots", "plan": "team"}))
	if len(out[0].Warnings) != 1 || out[0].Warnings[0].Field != "traits.ltv" || out[0].Warnings[0].Code != "attribute_type_mismatch" {
		t.Fatalf("warnings = %+v", out[0].Warnings)
	}
	u, _ = db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"})
	got = attrsOf(u)
	if got["plan"].Str != "team" || got["ltv"].Num != 420 {
		t.Fatalf("after rejection: plan=%v ltv=%v", got["plan"], got["ltv"])
	}
	cat, err := db.AttributeCatalog(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cat {
		if k.Key == "ltv" && (k.Rejections != 1 || k.Users != 1 || k.Type != attr.Number) {
			t.Errorf("catalog ltv = %+v", k)
		}
	}
	asOf, err := db.AttributesAsOf(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"}, t0.Add(30*time.Second))
	if err != nil || len(asOf) != 5 || attrsOf(store.User{Attributes: asOf})["plan"].Str != "pro" {
		t.Fatalf("as of before the change: %+v, %v", asOf, err)
	}
	hist, err := db.History(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"}, "plan")
	if err != nil || len(hist) != 2 || hist[0].Value.Str != "pro" || hist[1].Value.Str != "team" {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	// Unset with null; repeating a value records no change.
	write(t, db, identify(site.ID, "u1", "m3", t0.Add(2*time.Minute), map[string]any{"plan": nil, "beta": true}))
	u, _ = db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"})
	if _, ok := attrsOf(u)["plan"]; ok {
		t.Error("plan still set after null")
	}
	asOf, _ = db.AttributesAsOf(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"}, t0.Add(time.Hour))
	if _, ok := attrsOf(store.User{Attributes: asOf})["plan"]; ok || len(asOf) != 4 {
		t.Errorf("as of after the unset: %+v", asOf)
	}
	hist, _ = db.History(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"}, "")
	var beta int
	for _, h := range hist {
		if h.Key == "beta" {
			beta++
		}
	}
	if beta != 1 {
		t.Errorf("beta history has %d entries, want 1", beta)
	}
}

func TestAnonymousJoinsOnIdentifyAndDedupe(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	write(t, db,
		page(site.ID, "anon-1", "", "p1", "/pricing", t0),
		page(site.ID, "anon-1", "", "p2", "/signup", t0.Add(time.Minute)))
	// The same user is already known from another device.
	write(t, db, identify(site.ID, "u1", "i0", t0.Add(-time.Hour), map[string]any{"plan": "free"}))
	write(t, db, store.Message{SiteID: site.ID, Kind: store.KindIdentify, UserID: "u1", AnonymousID: "anon-1",
		MessageID: "i1", Timestamp: t0.Add(2 * time.Minute), ReceivedAt: t0})
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Events != 4 || u.Sessions != 1 {
		t.Fatalf("events = %d sessions = %d, want 4 and 1", u.Events, u.Sessions)
	}
	// A retried message is stored once, also after a restart.
	out := write(t, db, page(site.ID, "anon-1", "", "p2", "/signup", t0.Add(time.Minute)))
	if !out[0].Duplicate {
		t.Error("retry not reported as duplicate")
	}
	db.Close()
	db = open(t, path)
	defer db.Close()
	out = write(t, db, page(site.ID, "anon-1", "", "p1", "/pricing", t0))
	if !out[0].Duplicate {
		t.Error("retry after restart not reported as duplicate")
	}
	// The anonymous ID now resolves to u1 after a restart too.
	write(t, db, page(site.ID, "anon-1", "", "p3", "/app", t0.Add(3*time.Minute)))
	u, _ = db.User(ctx, site.ID, store.Identity{Kind: "anonymous", ID: "anon-1"})
	if u.UserID != "u1" || u.Events != 5 || u.Sessions != 1 {
		t.Fatalf("user = %+v", u)
	}
	ss, err := db.UserSessions(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"}, 10)
	if err != nil || len(ss) != 1 || ss[0].Pages != 3 || ss[0].EntryPage != "/pricing" || ss[0].ExitPage != "/app" {
		t.Fatalf("sessions = %+v, %v", ss, err)
	}
}

func TestSessionsSplitOnIdleness(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db, page(site.ID, "a", "", "1", "/a", t0), page(site.ID, "a", "", "2", "/b", t0.Add(29*time.Minute)))
	write(t, db, page(site.ID, "a", "", "3", "/c", t0.Add(60*time.Minute)))
	// Cap at 4 hours: events every 20 minutes for 5 hours.
	var msgs []store.Message
	for i := 0; i <= 15; i++ {
		msgs = append(msgs, page(site.ID, "b", "", "b"+string(rune('a'+i)), "/x", t0.Add(time.Duration(i)*20*time.Minute)))
	}
	write(t, db, msgs...)
	a, _ := db.UserSessions(ctx, site.ID, store.Identity{Kind: "anonymous", ID: "a"}, 10)
	b, _ := db.UserSessions(ctx, site.ID, store.Identity{Kind: "anonymous", ID: "b"}, 10)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("sessions: a=%d b=%d, want 2 and 2", len(a), len(b))
	}
	for _, s := range b {
		if s.End.Sub(s.Start) >= 4*time.Hour {
			t.Errorf("session %d lasts %v", s.ID, s.End.Sub(s.Start))
		}
	}
}

func TestAliasMergeAndGroups(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db,
		identify(site.ID, "old-id", "1", t0, map[string]any{"plan": "free", "ltv": 10.0}),
		identify(site.ID, "new-id", "2", t0, map[string]any{"plan": "pro"}),
		store.Message{SiteID: site.ID, Kind: store.KindAlias, UserID: "new-id", PreviousID: "old-id", MessageID: "3",
			Timestamp: t0, ReceivedAt: t0},
		store.Message{SiteID: site.ID, Kind: store.KindGroup, UserID: "new-id", GroupID: "acme", MessageID: "4",
			Timestamp: t0, ReceivedAt: t0, Traits: attr.Flatten(map[string]any{"employees": 120.0, "industry": "retail"})},
	)
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "old-id"})
	if err != nil {
		t.Fatal(err)
	}
	got := attrsOf(u)
	if got["plan"].Str != "pro" || got["ltv"].Num != 10 {
		t.Fatalf("merged attributes = %v", got)
	}
	if len(u.Groups) != 1 || u.Groups[0].ID != "acme" || len(u.Groups[0].Attributes) != 2 {
		t.Fatalf("groups = %+v", u.Groups)
	}
	// Explicit merge of an anonymous visitor.
	write(t, db, page(site.ID, "anon-9", "", "5", "/x", t0))
	if err := db.Merge(ctx, site.ID, store.Identity{Kind: "anonymous", ID: "anon-9"}, store.Identity{Kind: "user", ID: "new-id"}); err != nil {
		t.Fatal(err)
	}
	u, _ = db.User(ctx, site.ID, store.Identity{Kind: "anonymous", ID: "anon-9"})
	if u.UserID != "new-id" || u.Events != 5 {
		t.Fatalf("after merge: %+v", u)
	}
	err = db.Merge(ctx, site.ID, store.Identity{Kind: "user", ID: "nobody"}, store.Identity{Kind: "user", ID: "new-id"})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("merge of unknown user: %v", err)
	}
}

func TestChangeType(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db,
		identify(site.ID, "a", "1", t0, map[string]any{"seats": "12", "tier": "gold"}),
		identify(site.ID, "b", "2", t0, map[string]any{"seats": "3", "tier": "7"}))
	if _, err := db.ChangeType(ctx, site.ID, store.EntityUser, "tier", attr.Number); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("tier→number: %v", err)
	}
	n, err := db.ChangeType(ctx, site.ID, store.EntityUser, "seats", attr.Number)
	if err != nil || n != 2 {
		t.Fatalf("seats→number: %d, %v", n, err)
	}
	out := write(t, db, identify(site.ID, "c", "3", t0, map[string]any{"seats": 5.0}))
	if len(out[0].Warnings) != 0 {
		t.Fatalf("number accepted after change: %+v", out[0].Warnings)
	}
	found, err := db.SearchUsers(ctx, site.ID, store.UserQuery{AttrKey: "seats", AttrText: "12", Limit: 10})
	if err != nil || len(found) != 1 || found[0].UserID != "a" {
		t.Fatalf("search seats=12: %+v, %v", found, err)
	}
}

func TestEventPropertiesAreJSONObjects(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db,
		store.Message{SiteID: site.ID, Kind: store.KindTrack, UserID: "u1", Name: "Exported", MessageID: "1",
			Timestamp: t0, ReceivedAt: t0, Properties: `{"format":"csv","rows":1200}`},
		store.Message{SiteID: site.ID, Kind: store.KindTrack, UserID: "u1", Name: "Viewed", MessageID: "2",
			Timestamp: t0.Add(time.Second), ReceivedAt: t0})
	events, err := db.UserEvents(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"}, store.EventQuery{Limit: 10})
	if err != nil || len(events) != 2 {
		t.Fatalf("events = %+v, %v", events, err)
	}
	if got := events[1].Properties; got != `{"format":"csv","rows":1200}` {
		t.Errorf("properties = %s, want the object as sent", got)
	}
	if got := events[0].Properties; got != "{}" {
		t.Errorf("no properties = %s, want {}", got)
	}
	var typ, format string
	if err := db.SQL().QueryRowContext(ctx, "SELECT json_type(properties), properties->>'format' FROM events WHERE message_id = '1'").
		Scan(&typ, &format); err != nil || typ != "OBJECT" || format != "csv" {
		t.Errorf("stored properties: json_type %q, format %q, %v; want OBJECT and csv", typ, format, err)
	}
}

func TestLoggedMessagesSurviveACrashBeforeTheyAreApplied(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	write(t, db, identify(site.ID, "u1", "m1", t0, map[string]any{"plan": "pro"}))
	db.PauseApplier()
	out := write(t, db,
		identify(site.ID, "u1", "m2", t0.Add(time.Minute), map[string]any{"plan": "team", "ltv": "lots"}),
		page(site.ID, "", "u1", "m3", "/x", t0.Add(time.Minute)))
	if len(out[0].Warnings) != 0 {
		t.Fatalf("ltv was new, so any type is fine: %+v", out[0].Warnings)
	}
	db.Crash()

	db = open(t, path)
	defer db.Close()
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrsOf(u); got["plan"].Str != "team" || got["ltv"].Str != "lots" || u.Events != 3 {
		t.Fatalf("after replay: attrs %v, %d events", got, u.Events)
	}
	// The replayed messages are known: retries are still duplicates, and
	// the catalog typed ltv as a string.
	out = write(t, db, page(site.ID, "", "u1", "m3", "/x", t0.Add(time.Minute)),
		identify(site.ID, "u1", "m4", t0.Add(2*time.Minute), map[string]any{"ltv": 5.0}))
	if !out[0].Duplicate || len(out[1].Warnings) != 1 {
		t.Fatalf("after replay: %+v", out)
	}
}

func TestAliasBeforeThePreviousIDIsSeen(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db, store.Message{SiteID: site.ID, Kind: store.KindAlias, UserID: "new", PreviousID: "old", MessageID: "1",
		Timestamp: t0, ReceivedAt: t0})
	write(t, db, store.Message{SiteID: site.ID, Kind: store.KindTrack, UserID: "old", Name: "x", MessageID: "2",
		Timestamp: t0, ReceivedAt: t0},
		store.Message{SiteID: site.ID, Kind: store.KindTrack, AnonymousID: "old", Name: "y", MessageID: "3",
			Timestamp: t0, ReceivedAt: t0})
	u, err := db.User(ctx, site.ID, store.Identity{Kind: "user", ID: "new"})
	if err != nil || u.Events != 3 {
		t.Fatalf("user = %+v, %v; want the alias and both events on one user", u, err)
	}
}
