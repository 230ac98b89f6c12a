package survey_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
)

var benchUsers = flag.Int("survey.users", 20000, "people the survey benchmarks generate")

// BenchmarkOffers times GET /t/surveys' decision on a generated site
// (-survey.users people, 90 days of activity) with one live survey
// targeting an attribute + behaviour segment on the app's pages:
//
//   - other page: the URL rule excludes; answered from memory.
//   - dismissed: the frequency query excludes; no segment check.
//   - member check, first time: every rule passes up to the segment,
//     which the database evaluates for a user not checked before (as
//     after any write of the user's: a page view makes the next check a
//     first one).
//   - member check, repeated: the same, for 180 users checked over and
//     over with no write in between: answered by the engine's membership
//     cache after the first round.
//
// Run with -survey.users=1000000 for the SPEC's scale (generation takes a
// few minutes).
func BenchmarkOffers(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(ctx, filepath.Join(b.TempDir(), "bench.duckdb"), duckstore.Options{MemoryLimit: "256MB"}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	site, _, err := db.CreateSite(ctx, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	bulk, err := db.Bulk(ctx)
	if err != nil {
		b.Fatal(err)
	}
	stats, err := gen.Run(ctx, bulk, site.ID, gen.Config{Users: *benchUsers, Seed: 1, Now: now}, nil)
	if cerr := bulk.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d users, %d events", *benchUsers, stats.Events)
	eng := engine.New(db, compiler.DuckDB{}, func() time.Time { return now })
	svc := survey.New(db, eng, log, nil)
	sv, err := svc.Create(ctx, site.ID, []byte(`{"name":"NPS","questions":[{"id":"q","type":"nps","prompt":"p"}],
		"targeting":{"segment":{"text":"plan = \"pro\" and did(\"Report Exported\", 30d)"},
		"urls":[{"match":"starts_with","value":"https://app.example.com/app"}],"frequency":{"once":true,"dismiss_days":30}}}`))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.SetStatus(ctx, site.ID, sv.ID, survey.StatusLive); err != nil {
		b.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, "SELECT external_id FROM identities WHERE site_id = ? AND kind = 1 ORDER BY id_hash", site.ID)
	if err != nil {
		b.Fatal(err)
	}
	var users []string
	for rows.Next() {
		var u string
		rows.Scan(&u)
		users = append(users, u)
	}
	rows.Close()
	users, fresh := users[:200], users[200:]
	dismissed := users[:20]
	for _, u := range dismissed {
		if err := db.Dismiss(ctx, store.Dismissal{SiteID: site.ID, SurveyID: sv.ID, AnonymousID: "a-" + u, UserID: u, At: now}); err != nil {
			b.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		users []string
		page  string
	}{
		{"other page", users, "https://app.example.com/blog"},
		{"dismissed", dismissed, "https://app.example.com/app/reports"},
		{"member check, first time", fresh, "https://app.example.com/app/reports"},
		{"member check, repeated", users[20:], "https://app.example.com/app/reports"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			// The first request loads the site's surveys and history.
			if _, err := svc.Offers(ctx, site.ID, survey.Visitor{AnonymousID: "warm-up", URL: c.page}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			offered := 0
			for i := 0; b.Loop(); i++ {
				u := c.users[i%len(c.users)]
				out, err := svc.Offers(ctx, site.ID, survey.Visitor{AnonymousID: "a-" + u, UserID: u, URL: c.page, Device: "desktop"})
				if err != nil {
					b.Fatal(err)
				}
				offered += len(out)
			}
			b.ReportMetric(float64(offered)/float64(b.N), "offered/op")
			if c.name == "member check, first time" && b.N > len(c.users) {
				b.Logf("%d checks of %d users: some were repeats, answered from the cache", b.N, len(c.users))
			}
		})
	}
}
