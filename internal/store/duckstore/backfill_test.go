package duckstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// backfill returns track events of user u at the given minutes after from,
// with message IDs that start with prefix.
func backfill(site int64, u, prefix string, from time.Time, minutes ...int) []store.Message {
	out := make([]store.Message, len(minutes))
	for i, m := range minutes {
		out[i] = track(site, u, fmt.Sprintf("%s%d", prefix, i), "Imported", `{}`, from.Add(time.Duration(m)*time.Minute))
	}
	return out
}

// span returns n minutes from first, step apart.
func span(first, step, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = first + i*step
	}
	return out
}

// sessionShape is what the tests compare of a session.
type sessionShape struct {
	Start, End time.Time
	Events     int
}

func shapes(ss []store.Session) []sessionShape {
	out := make([]sessionShape, len(ss))
	for i, s := range ss {
		out[i] = sessionShape{s.Start.UTC(), s.End.UTC(), s.Events}
	}
	return out
}

// TestBackfillJoinsOneSession sends events far older than a user's open
// session (an import): those within the idle gap of each other share one
// session, in one write or several, and the open session is left alone.
func TestBackfillJoinsOneSession(t *testing.T) {
	old := t0.Add(-5 * time.Hour)
	at := func(min int) time.Time { return old.Add(time.Duration(min) * time.Minute) }
	live := sessionShape{t0, t0, 1}
	cases := []struct {
		name   string
		writes [][]int // minutes after old, one slice per Write
		want   []sessionShape
	}{
		{"sixty events a minute apart", [][]int{span(0, 1, 60)},
			[]sessionShape{live, {at(0), at(59), 60}}},
		{"three writes applied one by one", [][]int{span(0, 1, 20), span(20, 1, 20), span(40, 1, 20)},
			[]sessionShape{live, {at(0), at(59), 60}}},
		{"a gap longer than the idle time splits", [][]int{{0, 10, 20}, {61, 70}},
			[]sessionShape{live, {at(61), at(70), 2}, {at(0), at(20), 3}}},
		{"out of order within the gap", [][]int{{30, 50}, {10, 40}},
			[]sessionShape{live, {at(10), at(50), 4}}},
		{"capped at the session's maximum length", [][]int{span(-60, 20, 14)},
			[]sessionShape{live, {at(180), at(200), 2}, {at(-60), at(160), 12}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
			defer db.Close()
			site := newSite(t, db)
			write(t, db, page(site.ID, "", "u1", "live", "/dashboard", t0))
			for i, w := range c.writes {
				write(t, db, backfill(site.ID, "u1", fmt.Sprintf("w%d-", i), old, w...)...)
				if err := db.Sync(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			got := shapes(sessionsOf(t, db, site.ID, "u1"))
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("sessions\n got %v\nwant %v", got, c.want)
			}
			checkEventSessions(t, db, site.ID)
		})
	}
}

// checkEventSessions checks that every event's session exists once and
// counts exactly the events that name it.
func checkEventSessions(t *testing.T, db *duckstore.DB, site int64) {
	t.Helper()
	var bad int
	err := db.SQL().QueryRow(`SELECT count(*) FROM (
		SELECT e.session_id, count(*) AS n, any_value(s.event_count) AS counted, count(DISTINCT s.rowid) AS rows
		FROM events e LEFT JOIN (SELECT session_id, event_count, 0 AS rowid FROM sessions
			UNION ALL SELECT session_id, event_count, 1 FROM open_sessions) s USING (session_id)
		WHERE e.site_id = ? GROUP BY e.session_id) WHERE n <> counted OR rows <> 1`, site).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	var dup int
	if err := db.SQL().QueryRow(`SELECT count(*) - count(DISTINCT session_id) FROM all_sessions`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if bad != 0 || dup != 0 {
		t.Fatalf("%d sessions whose rows disagree with their events, %d duplicated session rows", bad, dup)
	}
}

// TestBackfillThroughReplay logs a backfill without applying it, crashes,
// and replays the log: the backfill is one session, as if nothing had
// happened. A restart then forgets the backfill session, so a later
// backfill starts a session of its own, and the first keeps its events.
func TestBackfillThroughReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	old := t0.Add(-5 * time.Hour)
	at := func(min int) time.Time { return old.Add(time.Duration(min) * time.Minute) }
	write(t, db, page(site.ID, "", "u1", "live", "/dashboard", t0))
	if err := db.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.PauseApplier()
	write(t, db, backfill(site.ID, "u1", "a", old, span(0, 1, 30)...)...)
	write(t, db, backfill(site.ID, "u1", "b", old, span(30, 1, 30)...)...)
	db.Crash()

	db = open(t, path)
	want := []sessionShape{{t0, t0, 1}, {at(0), at(59), 60}}
	if got := shapes(sessionsOf(t, db, site.ID, "u1")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after replay\n got %v\nwant %v", got, want)
	}
	checkEventSessions(t, db, site.ID)
	db.Close()

	db = open(t, path)
	defer db.Close()
	write(t, db, backfill(site.ID, "u1", "c", old, 60, 61)...)
	want = []sessionShape{{t0, t0, 1}, {at(60), at(61), 2}, {at(0), at(59), 60}}
	if got := shapes(sessionsOf(t, db, site.ID, "u1")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a restart\n got %v\nwant %v", got, want)
	}
	checkEventSessions(t, db, site.ID)
}
