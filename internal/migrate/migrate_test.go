package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/blob/s3blob"
	"github.com/sightline/sightline/internal/blob/s3blob/s3test"
	"github.com/sightline/sightline/internal/migrate"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// The recordings' chunks alone (no ClickHouse): copied with their
// progress, refused a second time, resumed, and compared per site — a
// site that only the target has shows as a difference.
func TestBlobsOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := duckstore.Open(ctx, filepath.Join(dir, "s.duckdb"), duckstore.Options{MemoryLimit: "256MB", Threads: 1},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	site, _, err := db.CreateSite(ctx, "Shop", []string{"https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	disk, err := blob.OpenDisk(filepath.Join(dir, "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		key := fmt.Sprintf("%d/rec_%02d/%08d.zst", site.ID, i/4, i%4)
		if err := disk.Put(ctx, key, []byte(key)); err != nil {
			t.Fatal(err)
		}
	}
	srv := s3test.Start(t)
	srv.CreateBucket(t, "rec")
	c, _ := s3blob.ParseURL(srv.URL("rec", "prod"))
	c.Creds = s3test.Creds()
	s3, err := s3blob.New(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var calls []migrate.Progress
	o := migrate.Options{Source: db.SQL(), Sites: db.Sites(ctx), SourceBlobs: disk, S3: s3, Workers: 3,
		Progress: func(p migrate.Progress) { calls = append(calls, p) }}
	res, err := migrate.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blobs != n || res.BlobsKept != 0 || len(res.Rows) != 0 {
		t.Errorf("result %+v", res)
	}
	last := calls[len(calls)-1]
	if len(calls) != n+2 || !last.Finished || last.Done != n || last.Total != n || last.Step != migrate.ChunksStep {
		t.Errorf("%d progress calls, last %+v", len(calls), last)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].Done < calls[i-1].Done {
			t.Fatalf("progress went back: %+v after %+v", calls[i], calls[i-1])
		}
	}
	if len(res.Counts) != 1 || !res.Counts[0].OK() || res.Counts[0].Source != n || !strings.Contains(res.Counts[0].Site, "(Shop)") {
		t.Errorf("counts %+v", res.Counts)
	}

	o.Progress = nil
	if _, err := migrate.Run(ctx, o); err == nil || !strings.Contains(err.Error(), "S3 already holds blobs") {
		t.Errorf("a second run: %v", err)
	}
	// Resumed after losing three blobs: those three are copied.
	for i := range 3 {
		if err := s3.Delete(ctx, fmt.Sprintf("%d/rec_00/%08d.zst", site.ID, i)); err != nil {
			t.Fatal(err)
		}
	}
	o.Resume = true
	if res, err = migrate.Run(ctx, o); err != nil || res.Blobs != 3 || res.BlobsKept != n-3 {
		t.Errorf("resumed: %+v, %v", res, err)
	}

	// A blob of a site the source does not have.
	if err := s3.Put(ctx, "999/rec_x/00000000.zst", []byte("x")); err != nil {
		t.Fatal(err)
	}
	counts, err := migrate.Compare(ctx, o)
	if !errors.Is(err, migrate.ErrMismatch) || len(counts) != 2 {
		t.Fatalf("compare: %v, %+v", err, counts)
	}
	if c := counts[1]; c.SiteID != 999 || c.OK() || c.Target != 1 || !strings.Contains(c.Site, "not in the source") {
		t.Errorf("the stray site: %+v", c)
	}
}
