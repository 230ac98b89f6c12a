package chstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/testsvc"
)

// CopyWith reports each table's progress, and a resumed copy skips the
// complete tables, copies again the one that stopped halfway, and refuses
// a table holding more than the source.
func TestCopyProgressAndResume(t *testing.T) {
	ctx := context.Background()
	src, _ := filled(t)
	ch, err := chstore.Open(ctx, testsvc.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	var calls []chstore.CopyProgress
	copied, err := ch.CopyWith(ctx, src.SQL(), chstore.CopyOptions{Progress: func(p chstore.CopyProgress) { calls = append(calls, p) }})
	if err != nil {
		t.Fatal(err)
	}
	finished := map[string]chstore.CopyProgress{}
	for _, p := range calls {
		if p.Done > p.Total || finished[p.Table].Finished {
			t.Errorf("progress %+v after %+v", p, finished[p.Table])
		}
		if p.Finished {
			finished[p.Table] = p
		}
	}
	for table, n := range copied {
		if p := finished[table]; p.Done != n || p.Total != n || p.Skipped {
			t.Errorf("%s: %d copied, finished with %+v", table, n, p)
		}
	}
	if len(finished) != len(copied) || copied["events"] == 0 {
		t.Fatalf("%d tables finished, %d copied: %v", len(finished), len(copied), copied)
	}

	// Without Resume, a filled target is refused.
	if _, err := ch.CopyWith(ctx, src.SQL(), chstore.CopyOptions{}); err == nil || !strings.Contains(err.Error(), "already has") {
		t.Fatalf("a copy into a filled database: %v", err)
	}

	// events stopped halfway: two of its rows are there.
	for _, q := range []string{
		"CREATE TABLE events_kept ENGINE = Memory AS SELECT * FROM events",
		"TRUNCATE TABLE events",
		"INSERT INTO events SELECT * FROM events_kept LIMIT 2",
		"TRUNCATE TABLE user_groups",
	} {
		if _, err := ch.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	calls = nil
	again, err := ch.CopyWith(ctx, src.SQL(), chstore.CopyOptions{Resume: true,
		Progress: func(p chstore.CopyProgress) { calls = append(calls, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if again["events"] != copied["events"] || again["user_groups"] != copied["user_groups"] || len(again) != 2 {
		t.Errorf("resumed: copied %v, want events (%d) and user_groups (%d) only", again, copied["events"], copied["user_groups"])
	}
	skipped := 0
	for _, p := range calls {
		if p.Skipped {
			skipped++
		}
	}
	if skipped != len(copied)-2 {
		t.Errorf("%d tables skipped as complete, want %d", skipped, len(copied)-2)
	}
	var n uint64
	if err := ch.SQL().QueryRowContext(ctx, "SELECT count() FROM events").Scan(&n); err != nil || int64(n) != copied["events"] {
		t.Errorf("events after the resumed copy: %d (%v), want %d", n, err, copied["events"])
	}

	// A table with more rows than the source is not an earlier copy.
	if _, err := ch.SQL().ExecContext(ctx, "INSERT INTO events SELECT * FROM events_kept LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.CopyWith(ctx, src.SQL(), chstore.CopyOptions{Resume: true}); err == nil || !strings.Contains(err.Error(), "more than the source") {
		t.Errorf("resuming into a table with extra rows: %v", err)
	}
}
