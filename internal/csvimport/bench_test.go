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
	db, site := openStore(t)
	start := time.Now()
	rep, err := csvimport.Users(context.Background(), db, site.ID, strings.NewReader(b.String()), csvimport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	written := time.Since(start)
	if err := db.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("%d rows (%d applied) logged in %s, applied in %s: %.0f rows/s", rep.Rows, rep.Applied, written.Round(time.Millisecond),
		took.Round(time.Millisecond), float64(rep.Rows)/took.Seconds())
}
