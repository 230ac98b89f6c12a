package duckstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// eventGen makes random events: names that differ by case and spacing,
// every catalogued kind (and identifies, which the catalog leaves out),
// both sources, and properties of every JSON type, with keys that differ
// by case, date-like strings, long values, nested objects and arrays.
type eventGen struct {
	r   *rand.Rand
	seq int
}

var (
	genNames = []string{"Export", "export", "Export ", "Order Completed", "$click", "Pricing", "é", ""}
	genKeys  = []string{"format", "Format", "rows", "at", "nested", "list", "flag", "none", "a.b", `q"k`, "nul\x00a", "nul\x00b", "😀"}
)

func (g *eventGen) value(key string) any {
	switch g.r.IntN(10) {
	case 0:
		return fmt.Sprintf("%s-%d", key, g.r.IntN(8))
	case 1:
		return []string{"2024-05-01", "2024-05-01T10:00:00Z", "2024-02-30", "2024-05-01 10:00:00.5"}[g.r.IntN(4)]
	case 2:
		return float64(g.r.IntN(2000)) / 4
	case 3:
		return g.r.IntN(2) == 0
	case 4:
		return nil
	case 5:
		return map[string]any{"x": g.r.IntN(3), "y": []any{"a"}}
	case 6:
		return []any{g.r.IntN(3), "b"}
	case 7:
		return fmt.Sprintf("a long value that the catalog cuts to sixty-four characters, number %d", g.r.IntN(100))
	}
	return strconv.Itoa(g.r.IntN(50)) // digits in a string stay a string
}

func (g *eventGen) message(site int64, users int) store.Message {
	g.seq++
	at := t0.Add(-time.Duration(g.r.IntN(5000)) * time.Minute)
	m := store.Message{SiteID: site, MessageID: fmt.Sprintf("ev-%d", g.seq), Timestamp: at, ReceivedAt: at,
		UserID: fmt.Sprintf("u%d", g.r.IntN(users)), Source: store.Source(g.r.IntN(2))}
	switch g.r.IntN(10) {
	case 0:
		m.Kind = store.KindIdentify
		m.Traits = attr.Flatten(map[string]any{"plan": "pro"})
		return m
	case 1, 2:
		m.Kind = store.KindPage
	case 3:
		m.Kind = store.KindScreen
	default:
		m.Kind = store.KindTrack
	}
	m.Name = genNames[g.r.IntN(len(genNames))]
	props := map[string]any{}
	for range g.r.IntN(4) {
		k := genKeys[g.r.IntN(len(genKeys))]
		props[k] = g.value(k)
	}
	if len(props) > 0 || g.r.IntN(2) == 0 {
		b, _ := json.Marshal(props)
		m.Properties = string(b)
	}
	return m
}

// bruteCatalog computes the catalog from the events table with DuckDB's
// own JSON functions and GROUP BY: an oracle independent of the
// applier's aggregation and of eventcat's scanner.
func bruteCatalog(t *testing.T, db *duckstore.DB, site int64) []store.EventInfo {
	t.Helper()
	ctx := context.Background()
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT kind, name, count(*), min(ts), max(ts), list(DISTINCT source ORDER BY source)
		FROM events WHERE site_id = ? AND kind IN (2, 3, 4) GROUP BY ALL ORDER BY kind, name`, site)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []store.EventInfo
	index := map[store.EventName]int{}
	for rows.Next() {
		var e store.EventInfo
		var sources []any
		if err := rows.Scan(&e.Kind, &e.Name, &e.Count, &e.FirstSeen, &e.LastSeen, &sources); err != nil {
			t.Fatal(err)
		}
		e.FirstSeen, e.LastSeen = e.FirstSeen.UTC(), e.LastSeen.UTC()
		for i := len(sources) - 1; i >= 0; i-- { // tracker first, as the catalog lists them
			e.Sources = append(e.Sources, store.Source(sources[i].(uint8)))
		}
		e.Properties = []store.EventProperty{}
		index[e.EventName] = len(out)
		out = append(out, e)
	}
	// Every (event, key, value) with DuckDB's JSON type; datetimes are
	// the strings attr.ParseTime reads, as for attributes.
	prows, err := db.SQL().QueryContext(ctx, `SELECT kind, name, k,
			json_type(properties, '$."' || replace(replace(k, '\', '\\'), '"', '\"') || '"'),
			json_extract_string(properties, '$."' || replace(replace(k, '\', '\\'), '"', '\"') || '"')
		FROM events, unnest(json_keys(properties)) u(k)
		WHERE site_id = ? AND kind IN (2, 3, 4) ORDER BY kind, name, k`, site)
	if err != nil {
		t.Fatal(err)
	}
	defer prows.Close()
	type pk struct {
		store.EventName
		key string
	}
	props := map[pk]*store.EventProperty{}
	values := map[pk]map[string]bool{}
	var order []pk
	for prows.Next() {
		var k pk
		var typ string
		var v *string
		if err := prows.Scan(&k.Kind, &k.Name, &k.key, &typ, &v); err != nil {
			t.Fatal(err)
		}
		p := props[k]
		if p == nil {
			p = &store.EventProperty{Key: k.key}
			props[k], values[k] = p, map[string]bool{}
			order = append(order, k)
		}
		p.Count++
		var ty eventcat.Types
		switch typ {
		case "VARCHAR":
			ty = eventcat.String
			if _, ok := attr.ParseTime(*v); ok {
				ty = eventcat.Datetime
			}
		case "BIGINT", "UBIGINT", "DOUBLE":
			ty = eventcat.Number
		case "BOOLEAN":
			ty = eventcat.Boolean
		case "NULL":
			ty = eventcat.Null
		case "OBJECT":
			ty = eventcat.Object
		case "ARRAY":
			ty = eventcat.Array
		default:
			t.Fatalf("json_type %s", typ)
		}
		p.Types = append(p.Types, ty.Names()...)
		if v != nil && (ty == eventcat.String || ty == eventcat.Datetime) {
			values[k][eventcat.CutSample(*v)] = true
		} else if v != nil {
			values[k][typ+":"+*v] = true
		}
	}
	for _, k := range order {
		p := props[k]
		p.Types = typeOrder(p.Types)
		p.Samples = nil
		for v := range values[k] {
			p.Samples = append(p.Samples, v)
		}
		i := index[k.EventName]
		out[i].Properties = append(out[i].Properties, *p)
	}
	return out
}

// typeOrder puts type names in the catalog's order, each once.
func typeOrder(names []string) []string {
	all := (eventcat.String | eventcat.Number | eventcat.Boolean | eventcat.Datetime | eventcat.Object |
		eventcat.Array | eventcat.Null).Names()
	var out []string
	for _, n := range all {
		if slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	return out
}

// checkCatalog compares the store's catalog with the oracle: names,
// counts, times, sources, property keys, types and counts exactly;
// samples as "up to five distinct values of the key, as many as it has".
func checkCatalog(t *testing.T, db *duckstore.DB, site int64) {
	t.Helper()
	got, err := db.Events(context.Background(), site, true)
	if err != nil {
		t.Fatal(err)
	}
	want := bruteCatalog(t, db, site)
	if len(got) != len(want) {
		t.Fatalf("catalog has %d events, the events table %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		wantProps, gotProps := w.Properties, g.Properties
		g.Properties, w.Properties = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
		if len(gotProps) != len(wantProps) {
			t.Fatalf("%v: properties\n got %+v\nwant %+v", w.EventName, gotProps, wantProps)
		}
		for j, wp := range wantProps {
			gp := gotProps[j]
			if gp.Key != wp.Key || gp.Count != wp.Count || !slices.Equal(gp.Types, wp.Types) {
				t.Fatalf("%v: property\n got %+v\nwant %+v", w.EventName, gp, wp)
			}
			if len(gp.Samples) != min(eventcat.MaxSamples, len(wp.Samples)) {
				t.Fatalf("%v.%s: %d samples %q of %d values %q", w.EventName, gp.Key, len(gp.Samples), gp.Samples,
					len(wp.Samples), wp.Samples)
			}
			for _, s := range gp.Samples {
				if !sampleOf(s, wp.Samples) {
					t.Fatalf("%v.%s: sample %q is not one of %q", w.EventName, gp.Key, s, wp.Samples)
				}
			}
		}
	}
}

// sampleOf reports whether s is one of the oracle's values: strings as
// they are, numbers by value, objects and arrays by type only (DuckDB
// rewrites their text).
func sampleOf(s string, values []string) bool {
	for _, v := range values {
		switch {
		case v == s:
			return true
		case len(v) > 7 && (v[:7] == "BIGINT:" || v[:7] == "DOUBLE:"):
			a, _ := strconv.ParseFloat(v[7:], 64)
			if b, err := strconv.ParseFloat(s, 64); err == nil && a == b {
				return true
			}
		case len(v) > 8 && v[:8] == "UBIGINT:":
			a, _ := strconv.ParseFloat(v[8:], 64)
			if b, err := strconv.ParseFloat(s, 64); err == nil && a == b {
				return true
			}
		case len(v) > 8 && v[:8] == "BOOLEAN:":
			if v[8:] == s {
				return true
			}
		case len(v) > 7 && (v[:7] == "OBJECT:" || v[:6] == "ARRAY:"):
			if (s[0] == '{') == (v[0] == 'O') && (s[0] == '{' || s[0] == '[') {
				return true
			}
		}
	}
	return false
}

// TestEventCatalogMatchesEvents writes random events in batches of every
// size and checks the catalog against the events after each write.
func TestEventCatalogMatchesEvents(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	other := newSite(t, db)
	g := &eventGen{r: rand.New(rand.NewPCG(12, 1))}
	for round := range 12 {
		n := []int{1, 3, 40, 400}[round%4]
		var msgs []store.Message
		for range n {
			s := site.ID
			if g.r.IntN(5) == 0 {
				s = other.ID
			}
			msgs = append(msgs, g.message(s, 30))
		}
		write(t, db, msgs...)
		checkCatalog(t, db, site.ID)
		checkCatalog(t, db, other.ID)
	}
	// A retried message is stored once, and counted once.
	n := len(bruteCatalog(t, db, site.ID))
	m := g.message(site.ID, 30)
	write(t, db, m)
	write(t, db, m)
	checkCatalog(t, db, site.ID)
	if n == 0 {
		t.Fatal("no events")
	}
}

// TestEventCatalogAfterReplay stops the store the hard way with messages
// logged but not applied, and with some applied: the next start applies
// the rest once, so that the catalog counts each event once.
func TestEventCatalogAfterReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := open(t, path)
	site := newSite(t, db)
	g := &eventGen{r: rand.New(rand.NewPCG(7, 7))}
	var batch []store.Message
	for range 300 {
		batch = append(batch, g.message(site.ID, 20))
	}
	write(t, db, batch[:100]...)
	if err := db.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.PauseApplier()
	write(t, db, batch[100:200]...)
	write(t, db, batch[200:]...)
	db.Crash()

	db = open(t, path)
	defer db.Close()
	checkCatalog(t, db, site.ID)
	var total int64
	es, err := db.Events(context.Background(), site.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		total += e.Count
	}
	catalogued := 0
	for _, m := range batch {
		if eventcat.Catalogued(m.Kind) {
			catalogued++
		}
	}
	if total != int64(catalogued) {
		t.Fatalf("catalog counts %d events, %d were sent", total, catalogued)
	}
}

// TestEventCatalogBulk loads random events through the bulk path, in
// small chunks, then writes more through the applier.
func TestEventCatalogBulk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := openSmallChunks(t, path)
	defer db.Close()
	site := newSite(t, db)
	g := &eventGen{r: rand.New(rand.NewPCG(3, 4))}
	if err := bulkEvents(t, db, site.ID, g, 700); err != nil {
		t.Fatal(err)
	}
	checkCatalog(t, db, site.ID)
	var more []store.Message
	for range 200 {
		more = append(more, g.message(site.ID, 10))
	}
	write(t, db, more...)
	checkCatalog(t, db, site.ID)
}

// bulkEvents loads n random events of new users.
func bulkEvents(t *testing.T, db *duckstore.DB, site int64, g *eventGen, n int) error {
	t.Helper()
	b, err := db.Bulk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	users := make([]int64, 10)
	for i := range users {
		users[i] = b.NewUser(site, t0.Add(-1000*time.Hour), fmt.Sprintf("bulk-%d-%d", g.seq, i))
	}
	for range n {
		m := g.message(site, 1)
		if m.Kind == store.KindIdentify {
			continue
		}
		m.Source = store.SourceServer // the bulk path's events are the server's
		b.Event(users[g.r.IntN(len(users))], 0, &m)
	}
	return b.Close()
}

// TestEventCatalogRebuilt covers the catalog's repairs: a bulk load that
// fails after committing chunks, a bulk load that never finished (the
// process died: the stale mark is left), and a database from before the
// catalog (its migration is undone and redone).
func TestEventCatalogRebuilt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	db := openSmallChunks(t, path)
	site := newSite(t, db)
	g := &eventGen{r: rand.New(rand.NewPCG(5, 6))}
	var msgs []store.Message
	for range 150 {
		msgs = append(msgs, g.message(site.ID, 10))
	}
	write(t, db, msgs...)

	t.Run("failed bulk load", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		b, err := db.Bulk(cctx)
		if err != nil {
			t.Fatal(err)
		}
		user := b.NewUser(site.ID, t0, "failing")
		for i := range 300 {
			m := g.message(site.ID, 1)
			if m.Kind == store.KindIdentify {
				continue
			}
			m.Source = store.SourceServer
			b.Event(user, 0, &m)
			if i == 200 {
				cancel() // chunks before this are committed
			}
		}
		if err := b.Close(); err == nil {
			t.Fatal("a cancelled load closed without error")
		}
		checkCatalog(t, db, site.ID)
	})

	t.Run("killed bulk load", func(t *testing.T) {
		db.Close()
		sqlDB := openRaw(t, path)
		for _, q := range []string{"DELETE FROM event_properties WHERE key = 'format'",
			"UPDATE event_catalog SET events = events + 1000",
			"INSERT INTO event_catalog_stale VALUES (now()::TIMESTAMP, 'bulk load')"} {
			if _, err := sqlDB.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		sqlDB.Close()
		db = openSmallChunks(t, path)
		checkCatalog(t, db, site.ID)
	})

	t.Run("upgrade", func(t *testing.T) {
		db.Close()
		sqlDB := openRaw(t, path)
		for _, q := range []string{"DROP TABLE event_catalog", "DROP TABLE event_properties",
			"DROP TABLE event_catalog_stale", "DELETE FROM schema_migrations WHERE version = 12"} {
			if _, err := sqlDB.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		sqlDB.Close()
		db = openSmallChunks(t, path)
		checkCatalog(t, db, site.ID)
	})
	db.Close()
}

// openRaw opens the database file without the store (no migration, no
// applier), for tests that change it underneath.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestEventUsers counts the distinct users of each event, exactly on a
// small site, against count(DISTINCT) over the events, and again after
// a merge joins two users who did the same event.
func TestEventUsers(t *testing.T) {
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"), duckstore.Options{MemoryLimit: "256MB",
		Threads: 2, EventUsersKeep: time.Nanosecond, Now: func() time.Time { return t0.Add(time.Minute) }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site := newSite(t, db)
	g := &eventGen{r: rand.New(rand.NewPCG(9, 9))}
	var msgs []store.Message
	for range 500 {
		msgs = append(msgs, g.message(site.ID, 40))
	}
	write(t, db, msgs...)
	check := func() {
		t.Helper()
		if err := db.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[store.EventName]int64{}
		rows, err := db.SQL().QueryContext(ctx, `SELECT kind, name, count(DISTINCT user_key) FROM events
			WHERE site_id = ? AND kind IN (2, 3, 4) GROUP BY ALL`, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n store.EventName
			var c int64
			if err := rows.Scan(&n.Kind, &n.Name, &c); err != nil {
				t.Fatal(err)
			}
			want[n] = c
		}
		rows.Close()
		// The first answer after a change may be the one counted before
		// it (counted again in the background); the next is fresh.
		// A busy machine may take seconds to count in the background.
		var got store.EventUsers
		for deadline := time.Now().Add(15 * time.Second); ; {
			if got, err = db.EventUsers(ctx, site.ID); err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(got.Users, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !reflect.DeepEqual(got.Users, want) || got.Approximate {
			t.Fatalf("EventUsers = %+v\nwant %v", got, want)
		}
	}
	check()
	// u1 and u2 both exported; once merged, they are one user.
	write(t, db, track(site.ID, "u1", "m-u1", "Merged export", "{}", t0), track(site.ID, "u2", "m-u2", "Merged export", "{}", t0))
	check()
	if err := db.Merge(ctx, site.ID, store.Identity{Kind: "user", ID: "u1"}, store.Identity{Kind: "user", ID: "u2"}); err != nil {
		t.Fatal(err)
	}
	check()
	got, _ := db.EventUsers(ctx, site.ID)
	if got.Users[store.EventName{Kind: store.KindTrack, Name: "Merged export"}] != 1 {
		t.Fatalf("after the merge: %v", got.Users)
	}
}

// TestEventCatalogSorted checks the catalog's order: by kind, then name.
func TestEventCatalogSorted(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	write(t, db, track(site.ID, "u", "1", "b", `{"z":1,"a":2}`, t0), track(site.ID, "u", "2", "a", "", t0),
		page(site.ID, "", "u", "3", "/x", t0))
	es, err := db.Events(context.Background(), site.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if !sort.SliceIsSorted(es, func(i, j int) bool {
		return es[i].Kind < es[j].Kind || es[i].Kind == es[j].Kind && es[i].Name < es[j].Name
	}) || len(es) != 3 || es[0].Name != "a" || len(es[0].Properties) != 0 || es[1].Properties[0].Key != "a" ||
		es[2].Kind != store.KindPage {
		t.Fatalf("Events = %+v", es)
	}
}

// TestEventCatalogFolds makes the applier fold the catalog's partial rows
// often, across restarts, and checks the catalog and its size after each
// write.
func TestEventCatalogFolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.duckdb")
	opener := func() *duckstore.DB {
		db, err := duckstore.Open(context.Background(), path, duckstore.FoldingAt(duckstore.Options{MemoryLimit: "256MB",
			Threads: 2, Now: func() time.Time { return t0.Add(time.Minute) }}, 40),
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := opener()
	site := newSite(t, db)
	g := &eventGen{r: rand.New(rand.NewPCG(21, 22))}
	for round := range 30 {
		var msgs []store.Message
		for range 1 + g.r.IntN(30) {
			msgs = append(msgs, g.message(site.ID, 15))
		}
		write(t, db, msgs...)
		checkCatalog(t, db, site.ID)
		rows, err := db.CatalogRows()
		if err != nil {
			t.Fatal(err)
		}
		// One row per event and property at most, 40 partial rows beyond,
		// and one batch's rows (8 names × 3 kinds × 14 keys).
		if limit := int64(24*15 + 40 + 24*14); rows > limit {
			t.Fatalf("round %d: the catalog holds %d rows, more than %d", round, rows, limit)
		}
		if round%10 == 9 {
			db.Close()
			db = opener()
		}
	}
	db.Close()
}
