package compare_test

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/demo"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/stats"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
)

var now = time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)

// demoUsers is how many people the demo gets: `sightline demo` makes
// 20,000; from 10,000 power users are at least stats.MinSample, so that
// rows can be significant and rank as they do in the demo (below, the
// ranking of rows that cannot be is noise: at 3,000 there are 9 power
// users).
var demoUsers = flag.Int("compare.users", 10000, "TestPowerUsersAgainstEveryoneElse: the demo's size")

// ledgerly is the demo's Ledgerly site with its services.
type ledgerly struct {
	db        *duckstore.DB
	seg       *engine.Engine
	site      int64
	questions []compare.Question // of the demo's surveys
}

// fillLedgerly makes the demo's Ledgerly with users people.
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
	list, err := surveys.List(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &ledgerly{db: db, seg: seg, site: site.ID, questions: compare.SurveyQuestions(list)}
}

func parse(t testing.TB, text string) segment.Node {
	t.Helper()
	n, err := segment.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const powerUsers = `active_days(7d) >= 4 and session_duration(7d) >= 3h and did("Export", 30d) and plan = "enterprise"`

// TestPowerUsersAgainstEveryoneElse is the guide's finding: comparing
// power users with everyone else ranks "onboarding not completed" and its
// event among the top differences, on their own.
func TestPowerUsersAgainstEveryoneElse(t *testing.T) {
	l := fillLedgerly(t, *demoUsers)
	c := compare.New(l.db, l.seg, compiler.DuckDB{}, func() time.Time { return now })
	res, err := c.Compare(context.Background(), l.site, compare.Request{A: parse(t, powerUsers), ALabel: "Power users",
		From: now.Add(-90 * 24 * time.Hour), To: now, Questions: l.questions})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("A %d users, B %d users, %d tests, %d ms", res.A.Size, res.B.Size, res.Tests, res.TookMS)
	for _, m := range res.Metrics {
		t.Logf("metric %v", m)
	}
	kinds := map[string]int{}
	for i, r := range res.Rows {
		kinds[r.Kind]++
		if i < 25 || r.Kind == "company" || r.Kind == "answer" {
			t.Logf("%2d %v", i+1, r)
		}
	}
	t.Logf("rows by kind: %v", kinds)
	if res.A.Size < 5 || res.B.Size < 1000 {
		t.Fatalf("sizes %d and %d", res.A.Size, res.B.Size)
	}
	// Every row's segments are valid segments of the site.
	for _, r := range res.Rows[:min(60, len(res.Rows))] {
		for _, text := range []string{r.Segment, r.SegmentA, r.SegmentB} {
			if _, err := l.seg.Prepare(context.Background(), l.site, engine.Definition{Text: text}, ""); err != nil {
				t.Errorf("row %v: segment %q: %v", r, text, err)
			}
		}
	}
	const top = 20
	attrAt, eventAt := -1, -1
	for i, r := range res.Rows {
		if r.Kind == "attribute" && r.Key == "onboarding_completed" && attrAt < 0 {
			attrAt = i
			// With power users fewer than stats.MinSample (a smaller
			// demo) the row is not flagged; its adjusted p-value is
			// small. Everyone else has far more users who did not
			// complete it.
			notDone := r.B - r.A
			if r.Value == "true" {
				notDone = -notDone
			}
			if r.Q >= 0.05 || notDone < 0.3 || r.Significant != (res.A.Size >= stats.MinSample) {
				t.Errorf("onboarding_completed row: %v", r)
			}
		}
		if r.Key == "onboarding_completed" || r.Key == "Onboarding Completed" {
			t.Logf("row %d: %v", i+1, r)
		}
		if r.Kind == "event" && r.Key == "Onboarding Completed" && eventAt < 0 {
			eventAt = i
		}
	}
	if attrAt < 0 || attrAt >= top {
		t.Errorf("onboarding_completed ranks %d, want among the first %d", attrAt+1, top)
	}
	// The event happens at sign-up, before the window for most users: it
	// is logged, not held to a rank.
	t.Logf("the Onboarding Completed event ranks %d", eventAt+1)
}
