package duckstore_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// TestEraseUserCost measures one user's erasure on a big database: set
// SIGHTLINE_ERASE_BENCH to a copy of a data folder's sightline.duckdb
// (the copy is changed; never point it at the original).
func TestEraseUserCost(t *testing.T) {
	path := os.Getenv("SIGHTLINE_ERASE_BENCH")
	if path == "" {
		t.Skip("set SIGHTLINE_ERASE_BENCH to a copy of a big sightline.duckdb")
	}
	ctx := context.Background()
	opened := time.Now()
	db, err := duckstore.Open(ctx, path, duckstore.Options{}, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Logf("opened in %s", time.Since(opened).Round(time.Millisecond))
	fi, _ := os.Stat(path)
	var site int64
	var user string
	var events int
	if err := db.SQL().QueryRowContext(ctx, `SELECT i.site_id, i.external_id, count(*) FROM identities i
		JOIN events e ON e.site_id = i.site_id AND e.user_key = i.entity_key
		WHERE i.kind = 1 GROUP BY ALL ORDER BY count(*) DESC LIMIT 1`).Scan(&site, &user, &events); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		start := time.Now()
		r, err := db.EraseUser(ctx, site, store.Identity{Kind: "user", ID: user})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(path)
		t.Logf("erasure %d of user %q (%d events): %s; file %d MB before, %d MB after; receipt %v",
			i+1, user, events, time.Since(start).Round(time.Millisecond), fi.Size()>>20, after.Size()>>20, r.Deleted)
		fi = after
		if err := db.SQL().QueryRowContext(ctx, `SELECT i.external_id, count(*) FROM identities i
			JOIN events e ON e.site_id = i.site_id AND e.user_key = i.entity_key
			WHERE i.kind = 1 AND i.site_id = ? GROUP BY ALL ORDER BY count(*) DESC LIMIT 1`, site).Scan(&user, &events); err != nil {
			t.Fatal(err)
		}
	}
}
