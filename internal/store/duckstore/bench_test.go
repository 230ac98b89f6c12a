package duckstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// BenchmarkWrite measures the store's write path alone: batches of
// realistic messages (5% identify, 35% page, 60% track) over 100k users.
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db := open(b, filepath.Join(b.TempDir(), "b.duckdb"))
			defer db.Close()
			site, _, err := db.CreateSite(context.Background(), "bench", nil)
			if err != nil {
				b.Fatal(err)
			}
			seq := 0
			batch := make([]store.Message, size)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range batch {
					seq++
					m := store.Message{SiteID: site.ID, MessageID: fmt.Sprintf("m%d", seq),
						UserID:    fmt.Sprintf("u%d", seq*7919%100000),
						Timestamp: t0.Add(time.Duration(seq) * time.Millisecond), ReceivedAt: t0,
						Context: store.Context{Browser: "Chrome", OS: "Windows", DeviceType: "desktop", Country: "NO"}}
					switch r := seq % 20; {
					case r == 0:
						m.Kind = store.KindIdentify
						m.Traits = attr.Flatten(map[string]any{"plan": []string{"free", "pro", "team"}[seq%3], "ltv": float64(seq % 1000)})
					case r < 8:
						m.Kind = store.KindPage
						m.Page = store.Page{Path: "/reports", URL: "https://app.example.com/reports"}
					default:
						m.Kind = store.KindTrack
						m.Name = "Clicked Export"
						m.Properties = `{"format":"csv","rows":1200}`
					}
					batch[i] = m
				}
				if _, err := db.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			// Acknowledged is not enough: count until it is all applied.
			if err := db.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkBulkEvents measures the bulk path's event appends, the bulk of a
// generated load, including the final commit and writer reload.
func BenchmarkBulkEvents(b *testing.B) {
	ctx := context.Background()
	db := open(b, filepath.Join(b.TempDir(), "b.duckdb"))
	defer db.Close()
	site, _, err := db.CreateSite(ctx, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	bulk, err := db.Bulk(ctx)
	if err != nil {
		b.Fatal(err)
	}
	user := bulk.NewUser(site.ID, t0, "u1")
	s := &store.Session{Start: t0, End: t0.Add(time.Hour), Pages: 1, Events: 1, EntryPage: "/reports"}
	session := bulk.Session(site.ID, user, s)
	m := store.Message{SiteID: site.ID, Kind: store.KindTrack, Name: "Export", Properties: `{"format":"csv"}`,
		Page: store.Page{URL: "https://app.example.com/reports", Path: "/reports", Title: "Reports"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.MessageID = strconv.Itoa(i)
		m.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		m.ReceivedAt = m.Timestamp
		bulk.Event(user, session, &m)
	}
	if err := bulk.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
