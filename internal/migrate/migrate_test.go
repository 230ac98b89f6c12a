package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/blob/s3blob"
	"github.com/sightline/sightline/internal/blob/s3blob/s3test"
	"github.com/sightline/sightline/internal/migrate"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
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
	// Ten recordings of four chunks, indexed, with their blobs; one more
	// chunk indexed without its blob, and one blob no chunk names.
	const n = 40
	now := time.Now().UTC().Truncate(time.Second)
	var recs []store.ImportedRecording
	for r := range 11 {
		rec := store.ImportedRecording{Recording: store.Recording{ID: fmt.Sprintf("rec_%02d", r), SiteID: site.ID,
			BrowserSession: fmt.Sprintf("b%d", r), AnonymousID: fmt.Sprintf("a%d", r), CreatedAt: now}}
		chunks := 4
		if r == 10 {
			chunks = 1
		}
		for seq := range chunks {
			rec.Chunks = append(rec.Chunks, store.RecordingChunk{RecordingID: rec.ID, Seq: seq,
				Start: now.Add(time.Duration(seq) * time.Second), End: now.Add(time.Duration(seq+1) * time.Second),
				Events: 3, BytesStored: 10, BytesRaw: 20, Pages: []string{"https://shop.example/"}})
			if r < 10 {
				key := recording.BlobKey(site.ID, rec.ID, seq)
				if err := disk.Put(ctx, key, []byte(key)); err != nil {
					t.Fatal(err)
				}
			}
		}
		recs = append(recs, rec)
	}
	if err := db.ImportRecordings(ctx, recs); err != nil {
		t.Fatal(err)
	}
	stray := recording.BlobKey(site.ID, "rec_gone", 0)
	if err := disk.Put(ctx, stray, []byte("x")); err != nil {
		t.Fatal(err)
	}
	missing := recording.BlobKey(site.ID, "rec_10", 0)
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
	// The chunk without its blob shows in the comparison.
	if !errors.Is(err, migrate.ErrMismatch) {
		t.Fatalf("a migration with a blob missing: %v", err)
	}
	if res.Blobs != n || res.BlobsKept != 0 || len(res.Rows) != 0 || !slices.Equal(res.Missing, []string{missing}) ||
		!slices.Equal(res.Unindexed, []string{stray}) {
		t.Errorf("result %+v", res)
	}
	if _, err := s3.Get(ctx, stray); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the blob no chunk names was copied: %v", err)
	}
	last := calls[len(calls)-1]
	if len(calls) != n+3 || !last.Finished || last.Done != n+1 || last.Total != n+1 || last.Step != migrate.ChunksStep {
		t.Errorf("%d progress calls, last %+v", len(calls), last)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].Done < calls[i-1].Done {
			t.Fatalf("progress went back: %+v after %+v", calls[i], calls[i-1])
		}
	}
	if len(res.Counts) != 1 || res.Counts[0].Source != n+1 || res.Counts[0].Target != n || !strings.Contains(res.Counts[0].Site, "(Shop)") {
		t.Errorf("counts %+v", res.Counts)
	}
	// The blob turns up: a resumed migration copies it, and the counts
	// agree.
	if err := disk.Put(ctx, missing, []byte("late")); err != nil {
		t.Fatal(err)
	}

	o.Progress = nil
	if _, err := migrate.Run(ctx, o); err == nil || !strings.Contains(err.Error(), "S3 already holds blobs") {
		t.Errorf("a second run: %v", err)
	}
	// Resumed after losing three blobs: those three are copied, and the
	// one that turned up.
	for i := range 3 {
		if err := s3.Delete(ctx, recording.BlobKey(site.ID, "rec_00", i)); err != nil {
			t.Fatal(err)
		}
	}
	o.Resume = true
	if res, err = migrate.Run(ctx, o); err != nil || res.Blobs != 4 || res.BlobsKept != n-3 || len(res.Missing) != 0 {
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
