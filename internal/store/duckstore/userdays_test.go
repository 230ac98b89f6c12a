package duckstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// userDaysMismatch counts the rows that the day tables and
// events_by_name disagree with the events on: user_days grouped by user
// and day must be the events' (track, page and screen) first and last
// times and number, event_days grouped by name, user and day the track
// events', and events_by_name the track, page and screen events, and no
// more.
func userDaysMismatch(t *testing.T, db *duckstore.DB) int {
	t.Helper()
	if err := db.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var evs int
	if err := db.SQL().QueryRow("SELECT count(*) FROM events").Scan(&evs); err != nil || evs == 0 {
		t.Fatalf("no events to compare with: %d, %v", evs, err)
	}
	pairs := [][2]string{{
		`SELECT site_id, user_key, CAST(ts AS DATE) AS day, min(ts), max(ts), count(*) FROM events
			WHERE kind IN (2, 3, 4) GROUP BY site_id, user_key, day`,
		`SELECT site_id, user_key, day, min(first_ts), max(last_ts), sum(events) FROM user_days
			GROUP BY site_id, user_key, day`,
	}, {
		`SELECT site_id, name, user_key, CAST(ts AS DATE) AS day, min(ts), max(ts), count(*) FROM events
			WHERE kind = 2 GROUP BY site_id, name, user_key, day`,
		`SELECT site_id, name, user_key, day, min(first_ts), max(last_ts), sum(events) FROM event_days
			GROUP BY site_id, name, user_key, day`,
	}, {
		// events_by_name: the same events, one row each (counted, as
		// an event may repeat another's time).
		`SELECT site_id, kind, CASE WHEN kind = 2 THEN name ELSE path END, user_key, ts, count(*) FROM events
			WHERE kind IN (2, 3, 4) GROUP BY ALL`,
		`SELECT site_id, kind, name_or_path, user_key, ts, count(*) FROM events_by_name GROUP BY ALL`,
	}}
	total := 0
	for _, p := range pairs {
		var n int
		if err := db.SQL().QueryRowContext(context.Background(), `SELECT count(*) FROM ((`+p[0]+` EXCEPT `+p[1]+`)
			UNION ALL (`+p[1]+` EXCEPT `+p[0]+`))`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// TestUserDaysFollowEvents checks that user_days says what the events say
// through every way rows come and go: batches over several days, merges,
// folds, a user's erasure and retention.
func TestUserDaysFollowEvents(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site, other := newSite(t, db), newSite(t, db)
	midnight := t0.Truncate(24 * time.Hour)
	day := func(d int, h int) time.Time { return midnight.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
	write(t, db,
		identify(site.ID, "ann", "i1", day(-3, 1), map[string]any{"plan": "free"}),
		page(site.ID, "a-1", "", "p1", "/", day(-3, 2)),
		page(site.ID, "a-1", "", "p2", "/pricing", day(-3, 5)),
		store.Message{SiteID: site.ID, Kind: store.KindTrack, AnonymousID: "a-1", Name: "Export", MessageID: "t0",
			Timestamp: day(-3, 6), ReceivedAt: day(-3, 6)},
		track(site.ID, "ann", "t1", "Export", `{}`, day(-2, 3)),
		page(site.ID, "", "bob", "p3", "/", day(-2, 4)),
		page(other.ID, "", "cy", "p4", "/", day(-1, 1)))
	// Late and repeated days in later batches: several rows per day.
	write(t, db, track(site.ID, "ann", "t2", "Export", `{}`, day(-3, 23)), page(site.ID, "", "bob", "p5", "/x", day(-2, 1)))
	write(t, db, page(site.ID, "", "ann", "p6", "/", day(0, 0)))
	if n := userDaysMismatch(t, db); n != 0 {
		t.Fatalf("after writes: %d user days differ from the events", n)
	}
	// The anonymous visitor joins ann: her days are one user's.
	write(t, db, store.Message{SiteID: site.ID, Kind: store.KindIdentify, UserID: "ann", AnonymousID: "a-1",
		MessageID: "i2", Timestamp: day(0, 1), ReceivedAt: day(0, 1)})
	if n := userDaysMismatch(t, db); n != 0 {
		t.Fatalf("after a merge: %d user days differ", n)
	}
	var rows int
	count := func() int {
		if err := db.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM user_days").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	before := count()
	if _, err := db.Cluster(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := userDaysMismatch(t, db); n != 0 {
		t.Fatalf("after a fold: %d user days differ", n)
	}
	var days int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM (SELECT DISTINCT site_id, user_key, day FROM user_days)").Scan(&days); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != days || after >= before {
		t.Errorf("a fold left %d rows of %d before, for %d user days", after, before, days)
	}
	if _, err := db.EraseUser(ctx, site.ID, store.Identity{Kind: "user", ID: "bob"}); err != nil {
		t.Fatal(err)
	}
	if n := userDaysMismatch(t, db); n != 0 {
		t.Fatalf("after an erasure: %d user days differ", n)
	}
	// Ann's day -2 now has events on both sides of the cutoff below
	// (04:00): its rows are counted again from the events kept.
	write(t, db, page(site.ID, "", "ann", "p7", "/a", day(-2, 2)), track(site.ID, "ann", "t3", "Export", `{}`, day(-2, 6)))
	if _, err := db.SetRetention(ctx, site.ID, store.Retention{EventsDays: 2}); err != nil {
		t.Fatal(err)
	}
	// The cutoff falls inside day -2, after ann's Export at 03:00: it
	// goes, as do all of day -3.
	n, err := db.ExpireData(ctx, day(0, 4))
	if err != nil {
		t.Fatal(err)
	}
	if n["user_days"] == 0 {
		t.Errorf("retention expired no user day: %v", n)
	}
	if n := userDaysMismatch(t, db); n != 0 {
		t.Fatalf("after retention: %d user days differ", n)
	}
}
