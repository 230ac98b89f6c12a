package compare_test

import (
	"context"
	"database/sql"
	"math"
	"os"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/testsvc"
)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

// chStore reads a ClickHouse copy of a duckstore: the segment engine and
// the comparison run their SQL there.
type chStore struct {
	*duckstore.DB
	ch *chstore.DB
}

func (s *chStore) SQL() *sql.DB                   { return s.ch.SQL() }
func (s *chStore) Sync(ctx context.Context) error { return s.ch.Sync(ctx) }
func (s *chStore) OutOfMemory(err error) bool     { return s.ch.OutOfMemory(err) }
func (s *chStore) CurrentAttributes(context.Context, int64, []int64, []string) (map[int64][]store.AttrState, error) {
	return nil, nil
}

// TestClickHouseAgreesWithDuckDB runs the same comparison on the demo's
// Ledgerly in DuckDB and in a ClickHouse copy (chstore.Copy): the groups,
// the metrics and every row must be the same.
func TestClickHouseAgreesWithDuckDB(t *testing.T) {
	l := fillLedgerly(t, 1000)
	ctx := context.Background()
	ch, err := chstore.Open(ctx, testsvc.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	if _, err := ch.Copy(ctx, l.db.SQL()); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	chs := &chStore{DB: l.db, ch: ch}
	chSeg := engine.New(chs, compiler.ClickHouse{}, clock)
	duckFunnels, err := insight.New(l.seg, l.db)
	if err != nil {
		t.Fatal(err)
	}
	chFunnels, err := insight.New(chSeg, chs)
	if err != nil {
		t.Fatal(err)
	}
	funnels := [2]compare.Funnels{duckFunnels, chFunnels}
	for _, req := range []compare.Request{
		// Everyone else: the groups do not overlap, one query reads both.
		{A: parse(t, `plan = "enterprise" or did("Export", 30d) >= 3`), From: now.Add(-60 * 24 * time.Hour), To: now,
			Questions: l.questions},
		// Two segments that overlap: each group is read on its own.
		{A: parse(t, `plan = "enterprise" or did("Export", 30d) >= 3`), B: parse(t, `did("Export", 30d)`),
			From: now.Add(-60 * 24 * time.Hour), To: now, Questions: l.questions},
	} {
		kinds := agree(t, l, chs, chSeg, funnels, req)
		for _, k := range []string{"days_since", "company", "answer"} {
			if kinds[k] == 0 {
				t.Errorf("no %s row was compared", k)
			}
		}
	}
}

// onboarding is a funnel of the demo's sign-up and onboarding, whose
// conversion each comparison adds to its side by side.
var onboarding = insight.Funnel{Steps: []insight.Event{insight.Event(`"did(\"Signed Up\")"`),
	insight.Event(`"visited(\"/onboarding/step-1\")"`), insight.Event(`"did(\"Onboarding Completed\")"`)}, Window: "14d"}

// agree runs req on DuckDB and ClickHouse, each with the funnel
// onboarding computed by its own insights engine (funnels: DuckDB's,
// then ClickHouse's), and compares the results; it returns how many
// rows there were of each kind, and of date-time attributes
// (days_since).
func agree(t *testing.T, l *ledgerly, chs *chStore, chSeg *engine.Engine, funnels [2]compare.Funnels, req compare.Request) map[string]int {
	t.Helper()
	ctx := context.Background()
	clock := func() time.Time { return now }
	duck, err := compare.New(l.db, l.seg, compiler.DuckDB{}, clock).Compare(ctx, l.site, req)
	if err != nil {
		t.Fatal(err)
	}
	click, err := compare.New(chs, chSeg, compiler.ClickHouse{}, clock).Compare(ctx, l.site, req)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range []*compare.Result{duck, click} {
		if err := res.AddFunnel(ctx, funnels[i], l.site, "Onboarding", onboarding); err != nil {
			t.Fatal(err)
		}
	}
	if f := duck.Metrics[len(duck.Metrics)-1]; f.Key != "funnel_conversion" || f.NA == 0 || f.NB == 0 {
		t.Errorf("the funnel's row: %v (entered %d/%d)", f, f.NA, f.NB)
	}
	t.Logf("DuckDB %d ms, ClickHouse %d ms, %d rows", duck.TookMS, click.TookMS, len(duck.Rows))
	if duck.A.Size != click.A.Size || duck.B.Size != click.B.Size {
		t.Fatalf("sizes: DuckDB %d/%d, ClickHouse %d/%d", duck.A.Size, duck.B.Size, click.A.Size, click.B.Size)
	}
	same := func(what string, x, y compare.Row) {
		t.Helper()
		if math.Abs(x.A-y.A) > 1e-6*math.Max(1, math.Abs(x.A)) || math.Abs(x.B-y.B) > 1e-6*math.Max(1, math.Abs(x.B)) ||
			x.NA != y.NA || x.NB != y.NB || math.Abs(x.P-y.P) > 1e-6 {
			t.Errorf("%s: DuckDB %v (n %d/%d), ClickHouse %v (n %d/%d)", what, x, x.NA, x.NB, y, y.NA, y.NB)
		}
	}
	for i := range duck.Metrics {
		same("metric", duck.Metrics[i], click.Metrics[i])
	}
	byKey := map[[4]string]compare.Row{}
	for _, r := range click.Rows {
		byKey[[4]string{r.Kind, r.Key, r.Value, r.Measure}] = r
	}
	if len(click.Rows) != len(duck.Rows) {
		t.Errorf("DuckDB %d rows, ClickHouse %d", len(duck.Rows), len(click.Rows))
	}
	kinds := map[string]int{}
	for _, r := range duck.Rows {
		kinds[r.Kind]++
		if r.Measure == "days_since" {
			kinds["days_since"]++
		}
		c, ok := byKey[[4]string{r.Kind, r.Key, r.Value, r.Measure}]
		if !ok {
			t.Errorf("ClickHouse has no row %v", r)
			continue
		}
		same("row", r, c)
	}
	return kinds
}
