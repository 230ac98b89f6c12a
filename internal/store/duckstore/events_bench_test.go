package duckstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// BenchmarkEventCatalog measures what the event catalog adds to each
// applied batch, alone: aggregating the batch's events in Go and
// appending the rows, committed (a transaction of its own, which the
// applier's batch does not need), for batches of the mix BenchmarkWrite sends (35%
// page views, 60% track events) over 20 event names with a few
// properties each. BenchmarkWrite's whole batch is the figure to compare
// it with.
func BenchmarkEventCatalog(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "b.duckdb"), Options{MemoryLimit: "256MB", Threads: 2},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
			batch := newBatch(t0)
			for i := range size {
				m := &store.Message{SiteID: 1, MessageID: fmt.Sprint(i), Timestamp: t0.Add(time.Duration(i) * time.Second)}
				switch r := i % 20; {
				case r == 0:
					m.Kind = store.KindIdentify
				case r < 8:
					m.Kind = store.KindPage
					m.Properties = `{"path":"/reports","url":"https://app.example.com/reports","title":"Reports"}`
				default:
					m.Kind = store.KindTrack
					m.Name = fmt.Sprintf("Event %d", i%20)
					m.Properties = fmt.Sprintf(`{"format":"csv","rows":%d,"source":"reports","at":"2026-11-01T10:00:00Z"}`, i)
				}
				batch.events = append(batch.events, eventRow{m: m})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				db.wmu.Lock()
				err := db.inTx(ctx, func() error { return db.appendEventCatalog(eventCatalogBatch(batch)) })
				db.wmu.Unlock()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
