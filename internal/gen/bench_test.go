package gen_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// BenchmarkRun generates 2,000 people (about 100k events) per iteration,
// each into a site of its own, through duckstore's bulk path.
func BenchmarkRun(b *testing.B) {
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(b.TempDir(), "g.duckdb"), duckstore.Options{MemoryLimit: "512MB"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var events int64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		site, _, err := db.CreateSite(ctx, "bench "+strconv.Itoa(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		bulk, err := db.Bulk(ctx)
		if err != nil {
			b.Fatal(err)
		}
		stats, err := gen.Run(ctx, bulk, site.ID, gen.Config{Users: 2000, Seed: int64(i), Now: now}, nil)
		if cerr := bulk.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		events += stats.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
