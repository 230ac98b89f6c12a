package csvimport_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/csvimport"
)

// TestImportCost imports SIGHTLINE_IMPORT_ROWS generated rows (skipped
// when unset) and reports the rate.
func TestImportCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SIGHTLINE_IMPORT_ROWS"))
	if n == 0 {
		t.Skip("set SIGHTLINE_IMPORT_ROWS")
	}
	var b strings.Builder
	b.WriteString("user_id,plan,ltv,company,signed_up,active\n")
	plans := []string{"free", "pro", "team", "enterprise"}
	for i := range n {
		fmt.Fprintf(&b, "u%d,%s,%d.5,\"Acme %d, Inc\",2025-%02d-%02d,%v\n", i, plans[i%4], i%5000, i%5000, 1+i%12, 1+i%28, i%3 != 0)
	}
	// SIGHTLINE_IMPORT_PATHS lists the paths to time, in order, each on a
	// new store: bulk (the store's AttributeImporter) and messages (one
	// identify message a row, as before the bulk path).
	paths := strings.Split(os.Getenv("SIGHTLINE_IMPORT_PATHS"), ",")
	if paths[0] == "" {
		paths = []string{"bulk"}
	}
	for _, path := range paths {
		db, site := openStore(t)
		var st csvimport.Store = db
		if path == "messages" {
			st = messagesOnly{db}
		}
		start := time.Now()
		rep, err := csvimport.Users(context.Background(), st, site.ID, strings.NewReader(b.String()), csvimport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		written := time.Since(start)
		if err := db.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		// Again: nothing changes.
		again := time.Now()
		rep2, err := csvimport.Users(context.Background(), st, site.ID, strings.NewReader(b.String()), csvimport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rows (%d applied, %d values changed) written in %s, applied in %s: %.0f rows/s; re-import %s (%d changed, %d duplicates)",
			path, rep.Rows, rep.Applied, rep.Changed, written.Round(time.Millisecond), took.Round(time.Millisecond),
			float64(rep.Rows)/took.Seconds(), time.Since(again).Round(time.Millisecond), rep2.Changed, rep2.Duplicates)
		db.Close()
	}
}

// messagesOnly hides the store's bulk importer: the import sends one
// identify message a row.
type messagesOnly struct{ csvimport.Store }
