package experiment_test

import (
	"context"
	"database/sql"
	"log/slog"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/demo"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/stats"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
)

var now = time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)

type ledgerly struct {
	db   *duckstore.DB
	seg  *engine.Engine
	site int64
}

func fillLedgerly(t testing.TB, users int) *ledgerly {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	db, err := duckstore.Open(ctx, filepath.Join(dir, "d.duckdb"), duckstore.Options{MemoryLimit: "1GB", Threads: 2}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.OpenDisk(filepath.Join(dir, "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recording.New(recording.Config{Store: db, Blobs: blobs, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	seg := engine.New(db, compiler.DuckDB{}, func() time.Time { return now })
	surveys := survey.New(db, seg, log, nil)
	site, _, err := db.CreateSite(ctx, "Ledgerly", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := demo.Services{DB: db, Surveys: surveys, Feedback: feedback.New(db, surveys, log, nil), Recordings: rec, Segments: seg}
	if _, err := demo.FillSaaS(ctx, svc, site.ID, demo.Config{Users: users, Recordings: 10, Seed: 2, Now: now}); err != nil {
		t.Fatal(err)
	}
	return &ledgerly{db: db, seg: seg, site: site.ID}
}

// TestOnboardingExperiment reads the demo's experiment and checks it
// against a computation of its own, in SQL written here, on the same
// data: the exposed counts, the conversions, the interval and the
// p-value; and that completion moves and the other goal does not.
func TestOnboardingExperiment(t *testing.T) {
	l := fillLedgerly(t, 3000)
	r := experiment.NewReader(l.db, l.seg, compiler.DuckDB{}, func() time.Time { return now })
	saved, err := l.db.ListExperiments(context.Background(), l.site)
	if err != nil || len(saved) != 1 {
		t.Fatalf("the demo's experiments: %v %v", saved, err)
	}
	def, err := experiment.Parse(saved[0].Definition)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Results(context.Background(), l.site, def)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d ms; variants %+v; multiple %d; SRM %+v", res.TookMS, res.Variants, res.Multiple, res.SRM)
	for _, g := range res.Goals {
		for _, a := range g.Arms {
			t.Logf("%s %s: %d/%d = %.3f [%.3f, %.3f] lift %v p %v q %v sig %v", g.Goal.Name, a.Variant, a.Conversions, a.Users,
				a.Rate, a.Interval.Low, a.Interval.High, deref(a.Lift), deref(a.P), deref(a.Q), a.Significant)
		}
	}
	// The oracle: each user's variant and whether they completed
	// onboarding (the event, at or after the variant was set).
	want := map[string][2]int64{}
	rows, err := l.db.SQL().Query(`
		SELECT v.s, count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events e WHERE e.site_id = v.site_id
			AND e.user_key = v.entity_key AND e.kind = 2 AND e.name = 'Onboarding Completed' AND e.ts >= h.first))
		FROM attr_current v JOIN (SELECT entity_key, min(set_at) AS first FROM attr_history
			WHERE site_id = ? AND key = 'ab_variant' GROUP BY entity_key) h ON h.entity_key = v.entity_key
		WHERE v.site_id = ? AND v.key = 'ab_variant' AND h.first >= ? GROUP BY v.s`, l.site, l.site, def.Start)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		var n, c int64
		if err := rows.Scan(&v, &n, &c); err != nil {
			t.Fatal(err)
		}
		want[v] = [2]int64{n, c}
	}
	rows.Close()
	completion, other := res.Goals[0], res.Goals[1]
	for _, a := range completion.Arms {
		w := want[a.Variant]
		if a.Users != w[0] || a.Conversions != w[1] {
			t.Errorf("variant %s: %d of %d converted, the oracle says %d of %d", a.Variant, a.Conversions, a.Users, w[1], w[0])
		}
		in := stats.Wilson(w[1], w[0], 0.95)
		if math.Abs(in.Low-a.Interval.Low) > 1e-12 || math.Abs(in.High-a.Interval.High) > 1e-12 {
			t.Errorf("variant %s: interval %v, want %v", a.Variant, a.Interval, in)
		}
	}
	b := completion.Arms[1]
	wantP := stats.TwoProportions(want["A"][1], want["A"][0], want["B"][1], want["B"][0]).P
	if b.P == nil || math.Abs(*b.P-wantP) > 1e-12 {
		t.Errorf("p %v, want %v", deref(b.P), wantP)
	}
	if !b.Significant || *b.Lift <= 0 {
		t.Errorf("completion: B is not significantly better: %+v", b)
	}
	if o := other.Arms[1]; o.Significant {
		t.Errorf("%s: B differs significantly (p %v); the demo generates no effect there", other.Goal.Name, deref(o.P))
	}
	if res.SRM.Mismatch {
		t.Errorf("sample ratio mismatch: %+v", res.SRM)
	}
	if len(res.Breakdown) != 1 || res.Breakdown[0].Variants[0].Users >= res.Variants[0].Users {
		t.Errorf("breakdown: %+v", res.Breakdown)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

var _ = sql.ErrNoRows
