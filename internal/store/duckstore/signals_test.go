package duckstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

func track(site int64, user, msgID, name, props string, at time.Time) store.Message {
	return store.Message{SiteID: site, Kind: store.KindTrack, UserID: user, MessageID: msgID, Name: name,
		Properties: props, Timestamp: at, ReceivedAt: at, Page: store.Page{Path: "/checkout"}}
}

func sessionsOf(t *testing.T, db store.Reader, site int64, user string) []store.Session {
	t.Helper()
	ss, err := db.UserSessions(context.Background(), site, store.Identity{Kind: "user", ID: user}, 10)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// TestSessionSignals counts the tracker's signal events per session, in
// the open session, after it closes, and through a replay of the
// write-ahead log after a crash.
func TestSessionSignals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	write(t, db,
		page(site.ID, "", "u1", "p1", "/checkout", at(0)),
		track(site.ID, "u1", "c1", "$click", `{"selector":"button"}`, at(1)),
		track(site.ID, "u1", "c2", "$click", `{}`, at(2)),
		track(site.ID, "u1", "r1", "$rage_click", `{"clicks":4}`, at(3)),
		track(site.ID, "u1", "s1", "$scroll", `{"depth":42.4}`, at(4)),
		track(site.ID, "u1", "s2", "$scroll", `{"depth":"deep"}`, at(5)),
		track(site.ID, "u1", "x1", "Export", `{"depth":99}`, at(6)))
	var r store.Reader = db
	want := store.Signals{Clicks: 2, RageClicks: 1, MaxScroll: 42}
	if got := sessionsOf(t, r, site.ID, "u1"); len(got) != 1 || got[0].Signals != want {
		t.Fatalf("open session: %+v, want signals %+v", got, want)
	}

	db.PauseApplier()
	write(t, db,
		track(site.ID, "u1", "d1", "$dead_click", `{}`, at(10)),
		track(site.ID, "u1", "t1", "$u_turn", `{"from_path":"/b"}`, at(11)),
		track(site.ID, "u1", "e1", "$error", `{"message":"x"}`, at(12)),
		track(site.ID, "u1", "e2", "$error", `{"message":"y"}`, at(13)),
		track(site.ID, "u1", "s3", "$scroll", `{"depth":250}`, at(14)))
	db.Crash()
	db = open(t, path)
	r = db
	want = store.Signals{Clicks: 2, RageClicks: 1, DeadClicks: 1, UTurns: 1, Errors: 2, MaxScroll: 100}
	if got := sessionsOf(t, r, site.ID, "u1"); len(got) != 1 || got[0].Signals != want {
		t.Fatalf("after replay: %+v, want signals %+v", got, want)
	}

	// An hour later: a new session with its own counts; the first one is
	// closed with its counts kept.
	write(t, db, track(site.ID, "u1", "r2", "$rage_click", `{}`, at(3600)))
	db.Close()
	db = open(t, path)
	defer db.Close()
	r = db
	got := sessionsOf(t, r, site.ID, "u1")
	if len(got) != 2 || got[0].Signals != (store.Signals{RageClicks: 1}) || got[1].Signals != want {
		t.Fatalf("two sessions: %+v", got)
	}
}

// TestMigrationGivesOldSessionsZeroSignals opens a database made by the
// schema before the signal columns, with a site, a closed and an open session, and
// checks that both read back with zero counts (Open also loads the open
// one into the writer's memory with the new columns).
func TestMigrationGivesOldSessionsZeroSignals(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	old, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,
		applied_at TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v, name := range []string{"001_init.sql", "002_wal.sql", "003_segments.sql"} {
		body, err := os.ReadFile(filepath.Join("schema", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := old.Exec("INSERT INTO schema_migrations VALUES (?, ?, ?)", v+1, name, t0); err != nil {
			t.Fatal(err)
		}
	}
	const row = `(1, ?, 5, ?, ?, 1, 1, '/a', '/a', 'desktop', 'Chrome', 'Linux', 'NO', 'nb', 'Europe/Oslo',
		'direct', '', '', '', '')`
	if _, err := old.Exec(`INSERT INTO sessions VALUES `+row, 10, t0.Add(-48*time.Hour), t0.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO open_sessions VALUES `+row, 11, t0, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO sites VALUES (1, 's_old', 'Old', 'hash', ['https://old.example.com'], ?)`, t0); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := open(t, path)
	defer db.Close()
	var n, sum int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*), sum(clicks + rage_clicks + dead_clicks + u_turns +
		errors + max_scroll) FROM all_sessions`).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 2 || sum != 0 {
		t.Fatalf("migrated sessions: %d rows, signal sum %d; want 2 and 0", n, sum)
	}
	if s, err := db.Site(ctx, "s_old"); err != nil || s.RespectDNT || s.Origins[0] != "https://old.example.com" {
		t.Fatalf("migrated site: %+v, %v", s, err)
	}
}
