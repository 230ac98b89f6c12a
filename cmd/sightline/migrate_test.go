package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/blob/s3blob"
	"github.com/sightline/sightline/internal/blob/s3blob/s3test"
	"github.com/sightline/sightline/internal/migrate"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/testsvc"
)

// A demo data folder moves into ClickHouse and S3 with every site's
// counts equal; a second run is refused, a resumed one keeps what is
// there, and a target that lost data fails the check loudly.
func TestMigrateDemoFolder(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"demo", "--data", dir, "--users", "300"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	srv := s3test.Start(t)
	srv.CreateBucket(t, "recordings")
	s3test.SetEnv(t)
	s3URL := srv.URL("recordings", "prod")
	dsn := testsvc.ClickHouse(t)
	migrateRun := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(append([]string{"migrate", "--data", dir}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	got, err := migrateRun("--clickhouse", dsn, "--s3", s3URL)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, got)
	}
	t.Logf("migrate printed:\n%s", got)
	// Not a terminal: a plain line per table, no bar.
	for _, table := range []string{"events", "sessions", "identities", "attr_history", "recordings", "recording_chunks", "recording chunks"} {
		if !regexp.MustCompile(`(?m)^migrate: ` + table + ` +\d+ (rows|blobs) in `).MatchString(got) {
			t.Errorf("no progress line for %s:\n%s", table, got)
		}
	}
	if strings.Contains(got, "\r") || strings.Contains(got, "DIFFERS") || !strings.Contains(got, "every count matches") {
		t.Fatalf("migrate printed:\n%s", got)
	}
	// Two sites, five figures each, all ok.
	if n := len(regexp.MustCompile(`(?m) ok$`).FindAllString(got, -1)); n != 10 {
		t.Errorf("%d counts ok, want 10 (2 sites × 5):\n%s", n, got)
	}

	// Independently of the command's own comparison: the rows and blobs
	// are there.
	ctx := context.Background()
	src, err := duckstore.Open(ctx, filepath.Join(dir, "sightline.duckdb"), duckstore.Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := chstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	for _, q := range []struct{ duck, ch string }{
		{"SELECT count(*) FROM events", "SELECT count() FROM events"},
		{"SELECT count(*) FROM recordings", "SELECT count() FROM recordings"},
		{"SELECT count(*) FROM recording_chunks", "SELECT count() FROM recording_chunks"},
		{"SELECT count(DISTINCT entity_key) FROM identities", "SELECT count(DISTINCT entity_key) FROM identities"},
	} {
		var want int64
		var have uint64
		if err := src.SQL().QueryRowContext(ctx, q.duck).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if err := ch.SQL().QueryRowContext(ctx, q.ch).Scan(&have); err != nil {
			t.Fatal(err)
		}
		if want == 0 || int64(have) != want {
			t.Errorf("%s: %d in ClickHouse, %d in the data folder", q.duck, have, want)
		}
	}
	src.Close()
	disk, err := blob.OpenDisk(filepath.Join(dir, "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	s3c, _ := s3blob.ParseURL(s3URL)
	s3c.Creds = s3test.Creds()
	s3, err := s3blob.New(ctx, s3c)
	if err != nil {
		t.Fatal(err)
	}
	diskKeys, s3Keys := listKeys(t, disk), listKeys(t, s3)
	if len(diskKeys) == 0 || !slices.Equal(diskKeys, s3Keys) {
		t.Fatalf("%d blobs on disk, %d in S3 (or different keys)", len(diskKeys), len(s3Keys))
	}
	if a, b := readBlob(t, disk, diskKeys[0]), readBlob(t, s3, diskKeys[0]); !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatalf("blob %s: %d bytes on disk, %d in S3", diskKeys[0], len(a), len(b))
	}

	// Again: the filled target is refused.
	if got, err := migrateRun("--clickhouse", dsn, "--s3", s3URL); err == nil || !strings.Contains(got+err.Error(), "already") {
		t.Fatalf("a second migration: %v\n%s", err, got)
	}
	// Resumed after losing a blob: the rest is kept, the blob copied.
	if err := s3.Delete(ctx, diskKeys[1]); err != nil {
		t.Fatal(err)
	}
	got, err = migrateRun("--clickhouse", dsn, "--s3", s3URL, "--resume")
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, got)
	}
	if !regexp.MustCompile(`(?m)^migrate: events +\d+ rows, already copied$`).MatchString(got) ||
		!strings.Contains(got, "1 recording chunks copied to S3") || !strings.Contains(got, "already there") {
		t.Errorf("resume printed:\n%s", got)
	}

	// The target loses data: the check fails, naming what differs.
	if _, err := ch.SQL().ExecContext(ctx, "TRUNCATE TABLE recordings"); err != nil {
		t.Fatal(err)
	}
	if err := s3.Delete(ctx, diskKeys[0]); err != nil {
		t.Fatal(err)
	}
	got, err = migrateRun("--clickhouse", dsn, "--s3", s3URL, "--check")
	if err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("check after losing data: %v\n%s", err, got)
	}
	differs := regexp.MustCompile(`(?m)^.*DIFFERS$`).FindAllString(got, -1)
	if len(differs) != 3 || !strings.Contains(strings.Join(differs, "\n"), "recording chunks") {
		t.Errorf("want 3 lines marked DIFFERS (recordings of both sites, one site's chunks):\n%s", got)
	}

	// A fresh ClickHouse but a filled S3: refused before anything is
	// copied.
	fresh := testsvc.ClickHouse(t)
	if got, err := migrateRun("--clickhouse", fresh, "--s3", s3URL); err == nil || !strings.Contains(err.Error(), "S3 already holds blobs") {
		t.Fatalf("into a filled S3: %v\n%s", err, got)
	}
	fch, err := chstore.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer fch.Close()
	var n uint64
	if err := fch.SQL().QueryRowContext(ctx, "SELECT count() FROM events").Scan(&n); err != nil || n != 0 {
		t.Errorf("the refused migration copied %d events (%v)", n, err)
	}

	// An unreachable PostgreSQL fails before anything is copied.
	if _, err := migrateRun("--clickhouse", fresh, "--postgres", "postgres://x@127.0.0.1:1/db?connect_timeout=2"); err == nil ||
		!strings.Contains(err.Error(), "PostgreSQL") {
		t.Errorf("--postgres unreachable: %v", err)
	}
	if _, err := migrateRun(); err == nil || !strings.Contains(err.Error(), "--clickhouse") {
		t.Errorf("no target: %v", err)
	}
}

// On a terminal, each step draws a bar with its rate and the time left,
// then leaves a line.
func TestMigrateProgressBar(t *testing.T) {
	var buf bytes.Buffer
	m := &migrateProgress{w: &buf, tty: true}
	m.update(migrate.Progress{Step: "events", Unit: "rows", Total: 100_000})
	for done := int64(10_000); done < 100_000; done += 10_000 {
		time.Sleep(30 * time.Millisecond)
		m.update(migrate.Progress{Step: "events", Unit: "rows", Done: done, Total: 100_000})
	}
	time.Sleep(250 * time.Millisecond) // past the throttle
	m.update(migrate.Progress{Step: "events", Unit: "rows", Done: 95_000, Total: 100_000})
	m.update(migrate.Progress{Step: "events", Unit: "rows", Done: 100_000, Total: 100_000, Finished: true})
	out := buf.String()
	for _, want := range []string{"\r", "events", "rows/s", "95000/100000", "migrate: events"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the bar's output:\n%q", want, out)
		}
	}
	if !regexp.MustCompile(`\[\d+s:\d+s\]`).MatchString(out) {
		t.Errorf("no time left in the bar's output:\n%q", out)
	}
}

func listKeys(t *testing.T, s blob.Store) []string {
	t.Helper()
	var ks []string
	if err := s.List(context.Background(), "", func(k string) error { ks = append(ks, k); return nil }); err != nil {
		t.Fatal(err)
	}
	return ks
}

func readBlob(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
