package chstore_test

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/testsvc"
)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

var now = time.Date(2026, 3, 15, 12, 34, 56, 123456000, time.UTC)

// filled returns a duckstore with a site, two users (one identified, with
// traits and a company), page views, and track events whose properties
// cover what the copy must carry over: nested objects, arrays, nulls,
// numbers DuckDB rewrites (1.50, 1e2), booleans, quotes and non-ASCII
// keys.
func filled(t *testing.T) (*duckstore.DB, int64) {
	t.Helper()
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"),
		duckstore.Options{MemoryLimit: "256MB", Threads: 1, Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, _, err := db.CreateSite(ctx, "Test", []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return now.Add(-d) }
	msgs := []store.Message{
		{Kind: store.KindIdentify, UserID: "u1", AnonymousID: "a1", Timestamp: at(time.Hour),
			Traits: attr.Flatten(map[string]any{"plan": "pro", "ltv": 12.5, "beta": true, "signed_up_at": "2026-01-02T03:04:05Z"})},
		{Kind: store.KindGroup, UserID: "u1", GroupID: "acme", Timestamp: at(50 * time.Minute),
			Traits: attr.Flatten(map[string]any{"industry": "retail"})},
		{Kind: store.KindPage, AnonymousID: "a2", Timestamp: at(40 * time.Minute),
			Page: store.Page{URL: "https://app.example.com/pricing", Path: "/pricing"}},
		{Kind: store.KindTrack, UserID: "u1", Name: "export", Timestamp: at(30 * time.Minute),
			Properties: `{"format":"csv","rows":1.50,"big":1e2,"flag":true,"none":null,"nested":{"format":"inner"},"list":[1,"two"],"quote":"say \"hi\"","clé":"é"}`},
		{Kind: store.KindTrack, AnonymousID: "a2", Name: "signup", Timestamp: at(20 * time.Minute), Properties: `{}`},
	}
	for i := range msgs {
		msgs[i].SiteID, msgs[i].ReceivedAt = site.ID, msgs[i].Timestamp
		msgs[i].MessageID = "m" + string(rune('a'+i))
	}
	if _, err := db.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return db, site.ID
}

func TestCopy(t *testing.T) {
	ctx := context.Background()
	src, site := filled(t)
	ch, err := chstore.Open(ctx, testsvc.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	copied, err := ch.Copy(ctx, src.SQL())
	if err != nil {
		t.Fatal(err)
	}

	// Every row, of every table the segment engine reads.
	for table, from := range map[string]string{"identities": "identities", "attr_keys": "attr_keys",
		"attr_current": "attr_current", "attr_history": "attr_history", "events": "events", "sessions": "all_sessions",
		"user_groups": "user_groups", "survey_responses": "survey_responses", "survey_answers": "survey_answers",
		"feedback": "feedback"} {
		var want int64
		if err := src.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+from).Scan(&want); err != nil {
			t.Fatal(err)
		}
		var got uint64
		if err := ch.SQL().QueryRowContext(ctx, "SELECT count() FROM "+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if int64(got) != want || copied[table] != want {
			t.Errorf("%s: %d rows in ClickHouse, %d reported copied; duckstore has %d", table, got, copied[table], want)
		}
	}
	if copied["events"] == 0 || copied["attr_current"] == 0 || copied["user_groups"] == 0 {
		t.Fatalf("the dataset is too thin to check: %v", copied)
	}

	// Times are microseconds, booleans UInt8.
	var ts, signedUp int64
	var beta uint8
	if err := ch.SQL().QueryRowContext(ctx, "SELECT ts FROM events WHERE name = 'export'").Scan(&ts); err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-30 * time.Minute).UnixMicro(); ts != want {
		t.Errorf("ts %d, want %d", ts, want)
	}
	if err := ch.SQL().QueryRowContext(ctx, "SELECT assumeNotNull(t) FROM attr_current WHERE key = 'signed_up_at'").Scan(&signedUp); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro(); signedUp != want {
		t.Errorf("signed_up_at %d, want %d", signedUp, want)
	}
	if err := ch.SQL().QueryRowContext(ctx, "SELECT assumeNotNull(b) FROM attr_current WHERE key = 'beta'").Scan(&beta); err != nil {
		t.Fatal(err)
	}
	if beta != 1 {
		t.Errorf("beta %d, want 1", beta)
	}

	// Each property reads in ClickHouse, through the dialect, as it does
	// in DuckDB; nulls and missing keys both as NULL.
	texts := map[string]string{"format": "csv", "rows": "1.5", "big": "100.0", "flag": "true", "none": "NULL",
		"nested": `{"format":"inner"}`, "list": `[1,"two"]`, "quote": `say "hi"`, "clé": "é", "missing": "NULL"}
	for key, want := range texts {
		duck := property(t, src.SQL(), compiler.DuckDB{}, key)
		got := property(t, ch.SQL(), compiler.ClickHouse{}, key)
		if got != duck || got != want {
			t.Errorf("property %q: ClickHouse reads %q, DuckDB %q; want %q", key, got, duck, want)
		}
	}

	// A second copy would count everything twice.
	if _, err := ch.Copy(ctx, src.SQL()); err == nil || !strings.Contains(err.Error(), "already has") {
		t.Errorf("a copy into a filled database: %v", err)
	}
	_ = site
}

// property reads a property of the export event as the dialect does,
// "NULL" for NULL.
func property(t *testing.T, db *sql.DB, d compiler.Dialect, key string) string {
	t.Helper()
	expr, args := d.Property(key)
	var v *string
	if err := db.QueryRow("SELECT "+expr+" FROM events WHERE name = 'export'", args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if v == nil {
		return "NULL"
	}
	return *v
}
