package scaled_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/scaled"
)

// engineStore is the segment engine's store with the analytics in the
// scaled store and saved segments and change counters in a duckstore
// (PostgreSQL's, in the design).
type engineStore struct {
	*duckstore.DB
	s *scaled.DB
}

func (e *engineStore) SQL() *sql.DB                   { return e.s.SQL() }
func (e *engineStore) Sync(ctx context.Context) error { return e.s.Sync(ctx) }
func (e *engineStore) OutOfMemory(err error) bool     { return e.s.OutOfMemory(err) }

func (e *engineStore) CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error) {
	return e.s.CurrentAttributes(ctx, site, keys, names)
}

// TestEngineOnWrittenData writes one dataset through the scaled writer
// and through duckstore's, then runs segments with the engine on each
// (ClickHouse's dialect on the scaled store): counts and members must be
// equal, before and after explicit merges.
func TestEngineOnWrittenData(t *testing.T) {
	svc := newServices(t)
	ch, pg := svc.dsns(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	sc := open(t, ch, pg, clock)
	duck, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"),
		duckstore.Options{MemoryLimit: "256MB", Threads: 1, Now: clock}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { duck.Close() })
	site, _, err := duck.CreateSite(ctx, "Test", []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := dataset(site.ID, now, 40)
	for i := 0; i < len(msgs); i += 25 {
		batch := msgs[i:min(i+25, len(msgs))]
		if _, err := duck.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := duck.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	duckEng := engine.New(duck, compiler.DuckDB{}, clock)
	chEng := engine.New(&engineStore{DB: duck, s: sc}, compiler.ClickHouse{}, clock)
	segments := []string{
		`plan = "pro"`,
		`ltv > 100`,
		`identified() and plan = "pro"`,
		`not beta = true`,
		`did("Export", 30d) >= 2`,
		`did("Export", format = "csv")`,
		`visited(starts_with "/pricing")`,
		`sessions(30d) >= 2`,
		`active_days(7d) >= 2`,
		`company.industry = "retail"`,
		`plan changed to "pro" within 30d`,
		`plan = "free" as of 2026-11-10`,
		`not identified()`,
	}
	compare := func(phase string) {
		duckNames, chNames := names(t, duck, site.ID, 40), names(t, sc, site.ID, 40)
		for _, src := range segments {
			n, err := segment.Parse(src)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			dc, err := duckEng.Count(ctx, site.ID, n)
			if err != nil {
				t.Fatalf("%s, duckstore: %v", src, err)
			}
			cc, err := chEng.Count(ctx, site.ID, n)
			if err != nil {
				t.Fatalf("%s, ClickHouse: %v", src, err)
			}
			dm, cm := members(t, duckEng, site.ID, n, duckNames), members(t, chEng, site.ID, n, chNames)
			t.Logf("%s, %s: %d members", phase, src, dc)
			if dc != cc || !slices.Equal(dm, cm) {
				t.Errorf("%s, %s: duckstore %d %v, scaled %d %v", phase, src, dc, dm, cc, cm)
			}
			if dc == 0 && phase == "written" && src == `plan = "pro"` {
				t.Errorf("%s: nobody; the dataset should have pro users", src)
			}
		}
	}
	compare("written")
	// Explicit merges: an anonymous visitor into an identified user, and
	// two identified users.
	for _, m := range [][2]store.Identity{
		{{Kind: "anonymous", ID: "a2"}, {Kind: "user", ID: "u3"}},
		{{Kind: "user", ID: "u4"}, {Kind: "user", ID: "u6"}},
		{{Kind: "anonymous", ID: "a5"}, {Kind: "anonymous", ID: "a8"}},
	} {
		for _, s := range []store.Merger{duck, sc} {
			if err := s.Merge(ctx, site.ID, m[0], m[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	compare("merged")
}

// dataset returns a site's messages over the 30 days before now: visitors
// a0…a(n-1), two thirds of whom identify as u<i>, with plans that
// change, numbers, booleans, companies, page views and exports.
func dataset(site int64, now time.Time, n int) []store.Message {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	var out []store.Message
	id := 0
	msg := func(m store.Message, at time.Time) {
		id++
		m.SiteID, m.MessageID, m.Timestamp, m.ReceivedAt = site, fmt.Sprint("m", id), at, at
		out = append(out, m)
	}
	for i := range n {
		anon := fmt.Sprint("a", i)
		at := now.Add(-time.Duration(r.IntN(30*24)) * time.Hour)
		for range 1 + r.IntN(3) { // visits
			for p := range 1 + r.IntN(4) {
				path := []string{"/", "/pricing", "/pricing/teams", "/docs", "/app"}[r.IntN(5)]
				msg(store.Message{Kind: store.KindPage, AnonymousID: anon,
					Page: store.Page{Path: path, URL: "https://app.example.com" + path}}, at.Add(time.Duration(p)*time.Minute))
			}
			if r.IntN(2) == 0 {
				f := []string{"csv", "pdf"}[r.IntN(2)]
				msg(store.Message{Kind: store.KindTrack, AnonymousID: anon, Name: "Export",
					Properties: `{"format":"` + f + `","rows":` + fmt.Sprint(r.IntN(500)) + `}`}, at.Add(5*time.Minute))
			}
			at = at.Add(time.Duration(1+r.IntN(48)) * time.Hour)
			if at.After(now) {
				at = now.Add(-time.Hour)
			}
		}
		if i%3 == 2 {
			continue // stays anonymous
		}
		user := fmt.Sprint("u", i)
		plan := []string{"free", "trial", "pro"}[r.IntN(3)]
		msg(store.Message{Kind: store.KindIdentify, AnonymousID: anon, UserID: user, Traits: attr.Flatten(map[string]any{
			"plan": plan, "ltv": float64(r.IntN(300)), "beta": r.IntN(2) == 0})}, now.Add(-20*24*time.Hour).Add(time.Duration(i)*time.Minute))
		if r.IntN(2) == 0 {
			msg(store.Message{Kind: store.KindIdentify, UserID: user, Traits: attr.Flatten(map[string]any{"plan": "pro"})},
				now.Add(-3*24*time.Hour).Add(time.Duration(i)*time.Minute))
		}
		if r.IntN(3) == 0 {
			msg(store.Message{Kind: store.KindGroup, UserID: user, GroupID: fmt.Sprint("g", i%4),
				Traits: attr.Flatten(map[string]any{"industry": []string{"retail", "tech"}[i%4/2]})}, now.Add(-10*24*time.Hour))
		}
	}
	return out
}

// names maps each user key of a store to a name that does not depend on
// the store: the smallest anonymous ID a0…a(n-1) that belongs to it.
func names(t *testing.T, r store.Reader, site int64, n int) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for i := n - 1; i >= 0; i-- {
		k, err := r.UserKey(ctx, site, store.Identity{Kind: "anonymous", ID: fmt.Sprint("a", i)})
		if err != nil {
			t.Fatal(err)
		}
		out[k] = fmt.Sprint("a", i)
	}
	return out
}

// members returns a segment's members by name, sorted.
func members(t *testing.T, e *engine.Engine, site int64, n segment.Node, names map[int64]string) []string {
	t.Helper()
	ms, err := e.Members(ctx, site, n, 0, 1000, []string{"plan", "ltv", "beta"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		name, ok := names[m.Key]
		if !ok {
			name = fmt.Sprint("key ", m.Key)
		}
		// With the user ID and attributes the page shows.
		name += " " + m.UserID
		for _, a := range m.Attributes {
			name += fmt.Sprintf(" %s=%s@%s", a.Key, a.Value.Text(), a.ChangedAt.UTC().Format(time.RFC3339))
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
