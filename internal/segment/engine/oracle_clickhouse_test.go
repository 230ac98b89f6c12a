package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/testsvc"
)

// The oracle on ClickHouse: each dataset is written to a duckstore as in
// TestOracle, copied into a ClickHouse database with chstore's bulk copy,
// and the engine runs there with the ClickHouse dialect; the oracle reads
// the duckstore. The server is the one internal/testsvc starts (Debian's
// 18.16 here; SIGHTLINE_TEST_CLICKHOUSE names another); without one the
// tests skip, or fail under CI=true.

var (
	chTrees    = flag.Int("oracle.clickhouse.n", 40, "TestOracleClickHouse: random segments checked per dataset")
	chDatasets = flag.Int("oracle.clickhouse.datasets", 2, "TestOracleClickHouse: random datasets, seeded oracle.seed, oracle.seed+1, …")
)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

// chBackend copies the dataset into a new ClickHouse database.
var chBackend = backend{test: "TestOracleClickHouse", open: func(t *testing.T, db *duckstore.DB) (engine.Store, *sql.DB, compiler.Dialect) {
	t.Helper()
	ctx := context.Background()
	ch, err := chstore.Open(ctx, testsvc.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	if _, err := ch.Copy(ctx, db.SQL()); err != nil {
		t.Fatal(err)
	}
	return &chEngineStore{DB: db, ch: ch}, ch.SQL(), compiler.ClickHouse{}
}}

// chEngineStore is the engine's store with the analytics in ClickHouse and
// saved segments and change counters in the duckstore, where the scaled
// design keeps them in PostgreSQL.
type chEngineStore struct {
	*duckstore.DB
	ch *chstore.DB
}

func (s *chEngineStore) SQL() *sql.DB                   { return s.ch.SQL() }
func (s *chEngineStore) Sync(ctx context.Context) error { return s.ch.Sync(ctx) }
func (s *chEngineStore) OutOfMemory(err error) bool     { return s.ch.OutOfMemory(err) }

// CurrentAttributes is not read from ClickHouse yet; the oracle asks for
// members without attributes.
func (s *chEngineStore) CurrentAttributes(context.Context, int64, []int64, []string) (map[int64][]store.AttrState, error) {
	return nil, errors.New("current attributes are not read from ClickHouse yet")
}

// TestOracleClickHouse is TestOracle on ClickHouse: random segments over
// random datasets, members, counts, previews and single users' membership
// compared with the brute-force oracle. Run more with
// -oracle.clickhouse.n and -oracle.clickhouse.datasets.
func TestOracleClickHouse(t *testing.T) {
	base, trees := *oracleSeed, *chTrees
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	if testing.Short() {
		trees = min(trees, 10)
	}
	total := &oracleTotals{}
	t.Cleanup(func() {
		t.Logf("%d datasets (%d users), %d segments checked on ClickHouse, %d non-trivial, %d empty, %d everyone",
			*chDatasets, total.users, total.trees, total.nontrivial, total.empty, total.everyone)
	})
	for i := range *chDatasets {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			total.add(checkDataset(t, seed, trees, chBackend))
		})
	}
}

// TestOracleClickHouseHistorical is TestOracleHistorical on ClickHouse:
// trends and member lists at moments in the past (half the trees of
// TestOracleClickHouse, over as many datasets).
func TestOracleClickHouseHistorical(t *testing.T) {
	base := *oracleSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	trees := max(1, *chTrees/2)
	if testing.Short() {
		trees = min(trees, 5)
	}
	total := &historyTotals{}
	t.Cleanup(func() {
		t.Logf("%d datasets, %d trees on ClickHouse: %d trend points, %d member lists at a moment",
			*chDatasets, total.trees, total.points, total.memberLists)
	})
	for i := range *chDatasets {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			total.add(checkHistorical(t, seed, trees, chBackend))
		})
	}
}
