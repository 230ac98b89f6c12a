package gen_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

var _ gen.Sink = (*duckstore.Bulk)(nil)

var now = time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)

// generated opens a fresh store and generates cfg's Ledgerly into a new
// site.
func generated(t testing.TB, cfg gen.Config) (*duckstore.DB, store.Site, gen.Stats) {
	t.Helper()
	return generatedBy(t, gen.Run, cfg)
}

// generatedBy opens a fresh store and generates cfg into a new site with
// run, gen.Run or gen.RunShop.
func generatedBy(t testing.TB, run func(context.Context, gen.Sink, int64, gen.Config, func(gen.Progress)) (gen.Stats, error),
	cfg gen.Config) (*duckstore.DB, store.Site, gen.Stats) {
	t.Helper()
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "g.duckdb"), duckstore.Options{MemoryLimit: "512MB",
		Threads: 2, Now: func() time.Time { return now }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, _, err := db.CreateSite(ctx, "Ledgerly", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Bulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Now.IsZero() {
		cfg.Now = now
	}
	stats, err := run(ctx, b, site.ID, cfg, nil)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return db, site, stats
}

// fingerprint summarises the generated content, independent of row order.
func fingerprint(t *testing.T, db *duckstore.DB, site int64) [4]int64 {
	t.Helper()
	var f [4]int64
	err := db.SQL().QueryRow(`SELECT
		(SELECT sum(hash(message_id, name, path, ts, properties::VARCHAR, user_key, session_id) % 1000003) FROM events WHERE site_id = $1),
		(SELECT sum(hash(session_id, started_at, ended_at, page_count, browser, channel) % 1000003) FROM sessions WHERE site_id = $1),
		(SELECT sum(hash(entity_key, key, s, n, b, t, changed_at) % 1000003) FROM attr_current WHERE site_id = $1),
		(SELECT sum(hash(external_id, entity_key) % 1000003) FROM identities WHERE site_id = $1)`, site).
		Scan(&f[0], &f[1], &f[2], &f[3])
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDeterministic(t *testing.T) {
	cfg := gen.Config{Users: 500, Seed: 7}
	db1, s1, st1 := generated(t, cfg)
	db2, s2, st2 := generated(t, cfg)
	if st1 != st2 {
		t.Fatalf("same seed, different stats:\n%+v\n%+v", st1, st2)
	}
	if f1, f2 := fingerprint(t, db1, s1.ID), fingerprint(t, db2, s2.ID); f1 != f2 {
		t.Fatalf("same seed, different data: %v vs %v", f1, f2)
	}
	cfg.Seed = 8
	db3, s3, st3 := generated(t, cfg)
	if st3 == st1 || fingerprint(t, db3, s3.ID) == fingerprint(t, db1, s1.ID) {
		t.Fatal("another seed gave the same data")
	}
	if st1.Users+st1.Anonymous != 500 || st1.Anonymous != 50 || st1.Companies != 112 {
		t.Errorf("people = %+v", st1)
	}
	// About 50 events per person, as asked.
	if per := float64(st1.Events) / 500; per < 35 || per > 65 {
		t.Errorf("%.1f events per person, want about 50", per)
	}
}

func TestAttributeTypes(t *testing.T) {
	db, site, stats := generated(t, gen.Config{Users: 500, Seed: 1})
	cat, err := db.AttributeCatalog(context.Background(), site.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[store.Entity]map[string]attr.Type{store.EntityUser: gen.UserKeys(), store.EntityGroup: gen.GroupKeys()}
	seen := map[attr.Type]bool{}
	var users int64
	for _, k := range cat {
		typ, ok := want[k.Entity][k.Key]
		if !ok {
			t.Errorf("unexpected %s key %s", k.Entity, k.Key)
			continue
		}
		delete(want[k.Entity], k.Key)
		if k.Type != typ {
			t.Errorf("%s %s is %s, want %s", k.Entity, k.Key, k.Type, typ)
		}
		if k.Users == 0 || k.FirstSeen.After(now) {
			t.Errorf("%s %s: %+v", k.Entity, k.Key, k)
		}
		if k.Entity == store.EntityUser {
			seen[k.Type] = true
			users += k.Users
		}
	}
	for e, keys := range want {
		for k := range keys {
			t.Errorf("%s key %s missing from the catalog", e, k)
		}
	}
	if len(seen) != 4 {
		t.Errorf("user attribute types = %v, want all four", seen)
	}
	if users+int64(stats.Companies)*int64(len(gen.GroupKeys())) != stats.AttrValues {
		t.Errorf("catalog counts %d user values, stats %d values in all", users, stats.AttrValues)
	}
}

func TestGeneratedUsersReadable(t *testing.T) {
	ctx := context.Background()
	db, site, _ := generated(t, gen.Config{Users: 500, Seed: 1})
	// The most active user.
	var userID string
	var events int
	if err := db.SQL().QueryRow(`SELECT i.external_id, count(*) FROM events e
		JOIN identities i ON i.entity_key = e.user_key AND i.kind = 1
		GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 1`).Scan(&userID, &events); err != nil {
		t.Fatal(err)
	}
	id := store.Identity{Kind: "user", ID: userID}
	u, err := db.User(ctx, site.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]attr.Value{}
	for _, a := range u.Attributes {
		attrs[a.Key] = a.Value
	}
	if u.Events != events || u.Sessions == 0 || len(u.AnonymousIDs) == 0 || len(u.Groups) != 1 ||
		len(u.Groups[0].Attributes) != len(gen.GroupKeys()) || len(attrs) < 16 {
		t.Fatalf("user = %+v", u)
	}
	if attrs["signed_up_at"].Type != attr.Datetime || attrs["ltv"].Type != attr.Number ||
		attrs["beta"].Type != attr.Boolean || attrs["email"].Type != attr.String {
		t.Errorf("attributes = %v", attrs)
	}
	if !attrs["last_login"].Time.Equal(u.LastSeen.Truncate(time.Second).Add(time.Second)) {
		t.Errorf("last_login %v, last event %v", attrs["last_login"].Time, u.LastSeen)
	}
	sessions, err := db.UserSessions(ctx, site.ID, id, 1000)
	if err != nil || len(sessions) != u.Sessions {
		t.Fatalf("sessions = %d, %v; user has %d", len(sessions), err, u.Sessions)
	}
	for _, s := range sessions {
		if s.Events == 0 || s.Pages == 0 || s.EntryPage == "" || s.Context.Browser == "" || s.End.Before(s.Start) {
			t.Fatalf("session = %+v", s)
		}
	}
	hist, err := db.History(ctx, site.ID, id, "plan")
	if err != nil || len(hist) == 0 {
		t.Fatalf("plan history = %+v, %v", hist, err)
	}
	if p, ok := attrs["plan"]; ok && !hist[len(hist)-1].Value.Equal(p) {
		t.Errorf("plan %v, last change %v", p, hist[len(hist)-1])
	}
}

func TestWriteAfterGenerate(t *testing.T) {
	ctx := context.Background()
	db, site, _ := generated(t, gen.Config{Users: 500, Seed: 1})
	before, err := db.User(ctx, site.ID, store.Identity{ID: "u-1"})
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(time.Minute)
	msgs := []store.Message{
		{SiteID: site.ID, Kind: store.KindIdentify, UserID: "u-1", MessageID: "w1", Timestamp: at, ReceivedAt: at,
			Traits: attr.Flatten(map[string]any{"plan": "enterprise", "seats": "many"})},
		{SiteID: site.ID, Kind: store.KindPage, AnonymousID: before.AnonymousIDs[0], MessageID: "w2", Timestamp: at,
			ReceivedAt: at, Page: store.Page{Path: "/dashboard"}},
		{SiteID: site.ID, Kind: store.KindIdentify, UserID: "newcomer", MessageID: "w3", Timestamp: at, ReceivedAt: at,
			Traits: attr.Flatten(map[string]any{"plan": "trial"})},
	}
	out, err := db.Write(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out[0].Warnings) != 1 || out[0].Warnings[0].Field != "traits.seats" {
		t.Errorf("seats is a generated number key; warnings = %+v", out[0].Warnings)
	}
	after, err := db.User(ctx, site.ID, store.Identity{ID: "u-1"})
	if err != nil {
		t.Fatal(err)
	}
	var plan string
	for _, a := range after.Attributes {
		if a.Key == "plan" {
			plan = a.Value.Str
		}
	}
	if plan != "enterprise" || after.Events != before.Events+2 || after.Sessions != before.Sessions+1 {
		t.Fatalf("after write: plan %q, events %d→%d, sessions %d→%d", plan, before.Events, after.Events,
			before.Sessions, after.Sessions)
	}
	var maxKey, newKey, sessions, ids int64
	if err := db.SQL().QueryRow(`SELECT (SELECT max(entity_key) FROM identities WHERE external_id <> 'newcomer'),
			(SELECT entity_key FROM identities WHERE external_id = 'newcomer'),
			(SELECT count(*) FROM all_sessions), (SELECT count(DISTINCT session_id) FROM all_sessions)`).
		Scan(&maxKey, &newKey, &sessions, &ids); err != nil {
		t.Fatal(err)
	}
	if newKey <= maxKey || sessions != ids {
		t.Fatalf("collision: new key %d, max generated %d; %d sessions, %d IDs", newKey, maxKey, sessions, ids)
	}
}

// TestSignals checks that a realistic share of sessions has frustration
// signals, that the hot spots have more, and that each session's stored
// counts agree with its events.
func TestSignals(t *testing.T) {
	db, site, _ := generated(t, gen.Config{Users: 500, Seed: 1})
	var sessions, withSignal, rageCheckout, mismatched int
	err := db.SQL().QueryRow(`
		WITH ev AS (
			SELECT session_id, count(*) FILTER (name = '$rage_click') AS rage,
				count(*) FILTER (name = '$dead_click') AS dead, count(*) FILTER (name = '$u_turn') AS uturn,
				count(*) FILTER (name = '$error') AS errs,
				count(*) FILTER (name = '$rage_click' AND path = '/invoices/new') AS rage_new
			FROM events WHERE site_id = $1 GROUP BY ALL)
		SELECT count(*), count(*) FILTER (s.rage_clicks + s.dead_clicks + s.u_turns + s.errors > 0),
			coalesce(sum(ev.rage_new), 0),
			count(*) FILTER (s.rage_clicks <> coalesce(ev.rage, 0) OR s.dead_clicks <> coalesce(ev.dead, 0)
				OR s.u_turns <> coalesce(ev.uturn, 0) OR s.errors <> coalesce(ev.errs, 0))
		FROM all_sessions s LEFT JOIN ev USING (session_id) WHERE s.site_id = $1`, site.ID).
		Scan(&sessions, &withSignal, &rageCheckout, &mismatched)
	if err != nil {
		t.Fatal(err)
	}
	share := float64(withSignal) / float64(sessions)
	if share < 0.03 || share > 0.3 || rageCheckout == 0 || mismatched != 0 {
		t.Fatalf("%d sessions, %.1f%% with signals, %d rage clicks on /invoices/new, %d with counts unlike their events",
			sessions, 100*share, rageCheckout, mismatched)
	}
	t.Logf("%d sessions, %.1f%% with signals, %d rage clicks on /invoices/new", sessions, 100*share, rageCheckout)
}
