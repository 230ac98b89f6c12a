package experiment_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/demo"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/testsvc"
)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

// chStore reads a ClickHouse copy of a duckstore.
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

// TestClickHouseAgreesWithDuckDB reads the demo's onboarding experiment
// in DuckDB and in a ClickHouse copy (chstore.Copy): the same results.
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
	def := demo.OnboardingExperiment(now)
	def.Goals = append(def.Goals, experiment.Goal{Kind: "property", Event: "Invoice Sent", Property: "amount"}, onboardingFunnel)
	duck, err := experiment.NewReader(l.db, l.seg, compiler.DuckDB{}, clock).Results(ctx, l.site, def)
	if err != nil {
		t.Fatal(err)
	}
	click, err := experiment.NewReader(chs, engine.New(chs, compiler.ClickHouse{}, clock), compiler.ClickHouse{}, clock).Results(ctx, l.site, def)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DuckDB %d ms, ClickHouse %d ms; %+v", duck.TookMS, click.TookMS, duck.Variants)
	duck.TookMS, click.TookMS = 0, 0
	a, b := rounded(t, duck), rounded(t, click)
	if duck.Variants[0].Users == 0 || duck.Goals[3].Arms[1].Conversions == 0 || !reflect.DeepEqual(a, b) {
		t.Errorf("DuckDB %v\nClickHouse %v", a, b)
	}
}

// rounded is v as JSON values with every number rounded to 9 significant
// digits: the databases add floating-point sums in different orders.
func rounded(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case float64:
			f, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 9, 64), 64)
			return f
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return x
	}
	return walk(out)
}
