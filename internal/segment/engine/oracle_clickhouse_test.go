package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
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
	chTrees    = flag.Int("oracle.clickhouse.n", 24, "TestOracleClickHouse: random segments checked per dataset")
	chDatasets = flag.Int("oracle.clickhouse.datasets", 2, "TestOracleClickHouse: random datasets, seeded oracle.seed, oracle.seed+1, …")
)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

// chBackend copies the dataset into a ClickHouse database with
// chstore.Copy, then into a second one, where it undoes some of the
// merges duckstore applied: splitDataset.
var chBackend = backend{test: "TestOracleClickHouse", open: func(t *testing.T, db *duckstore.DB) (engine.Store, *sql.DB, compiler.Dialect) {
	t.Helper()
	ctx := context.Background()
	copied, err := chstore.Open(ctx, testsvc.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { copied.Close() })
	if _, err := copied.Copy(ctx, db.SQL()); err != nil {
		t.Fatal(err)
	}
	ch, err := chstore.Open(ctx, testsvc.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	if err := splitDataset(ctx, copied.SQL(), ch.SQL()); err != nil {
		t.Fatal(err)
	}
	return &chEngineStore{DB: db, ch: ch}, ch.SQL(), compiler.ClickHouse{}
}}

// splitOffset is added to a user's key to make the key of the user it
// is split from.
const splitOffset = 1 << 40

// splits says which rows of each table with user keys go to the split
// key: about half of a split user's events, sessions, company links,
// attribute history, current attributes and identities.
var splits = map[string][2]string{ // table: key column, condition
	"events":       {"user_key", "cityHash64(message_id) % 2 = 0"},
	"sessions":     {"user_key", "cityHash64(session_id) % 2 = 0"},
	"user_groups":  {"user_key", "cityHash64(group_key) % 2 = 0"},
	"attr_history": {"entity_key", "entity = 0 AND cityHash64(key, set_at) % 2 = 0"},
	"attr_current": {"entity_key", "entity = 0 AND cityHash64(key) % 2 = 0"},
	"identities":   {"entity_key", "kind IN (1, 2) AND cityHash64(external_id) % 2 = 0"},
}

// splitDataset copies the database src (filled by chstore.Copy) into dst
// as if two thirds of the users had been merged from two: for each, some
// of its rows are moved to a new key K' = K + splitOffset, and an override
// maps K' to K, as ClickHouse holds a merge (docs/scale-out-design.md,
// c). It adds what the reads must see through: an older version of each
// override pointing elsewhere (key -1: FINAL must pick the newer), and
// under K' a later, different current value of each attribute K keeps
// (the surviving key's value must win). The users and their data are
// unchanged, so the oracle's answers are too.
func splitDataset(ctx context.Context, src, dst *sql.DB) error {
	var from string
	if err := src.QueryRowContext(ctx, "SELECT currentDatabase()").Scan(&from); err != nil {
		return err
	}
	split := "(SELECT entity_key FROM " + from + ".identities WHERE kind IN (1, 2) AND cityHash64(entity_key) % 3 != 0)"
	columns := map[string][]string{}
	rows, err := src.QueryContext(ctx, "SELECT table, name FROM system.columns WHERE database = ? ORDER BY table", from)
	if err != nil {
		return err
	}
	err = scanAll(rows, func() error {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			return err
		}
		columns[table] = append(columns[table], name)
		return nil
	})
	if err != nil {
		return err
	}
	// insert copies a table's rows with exprs (column name → expression).
	insert := func(table string, exprs map[string]string, where string) error {
		cols := columns[table]
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = c
			if e, ok := exprs[c]; ok {
				sel[i] = e + " AS " + c
			}
		}
		// The rows are chosen in a subquery: ClickHouse would read the
		// names in WHERE as the aliases of the SELECT.
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(sel, ", ") +
			" FROM (SELECT * FROM " + from + "." + table + where + ")"
		if _, err := dst.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
		return nil
	}
	for table := range columns {
		if table == "identity_overrides" {
			continue
		}
		exprs := map[string]string{}
		if s, ok := splits[table]; ok {
			key, cond := s[0], s[1]
			exprs[key] = "if(" + key + " IN " + split + " AND " + cond + ", " + key + " + " + fmt.Sprint(splitOffset) + ", " + key + ")"
		}
		if err := insert(table, exprs, ""); err != nil {
			return err
		}
	}
	// Under K', a newer value of each attribute K kept, or a newer unset:
	// K's must win.
	unset := "cityHash64(key, site_id) % 2 = 0"
	stale := map[string]string{"entity_key": "entity_key + " + fmt.Sprint(splitOffset), "is_null": "if(" + unset + ", 1, 0)",
		"s": "if(" + unset + ", NULL, concat(s, '~'))", "n": "if(" + unset + ", NULL, n + 1)",
		"b": "if(" + unset + ", NULL, if(b = 1, 0, 1))", "t": "if(" + unset + ", NULL, t + 1)",
		"changed_at": "changed_at + 1000000"}
	if err := insert("attr_current", stale, " WHERE entity_key IN "+split+" AND NOT ("+splits["attr_current"][1]+")"); err != nil {
		return err
	}
	// The overrides, then older versions of them (another part), which
	// FINAL must set aside.
	for _, o := range []struct{ into, version string }{{"entity_key", "2"}, {"-1", "1"}} {
		q := "INSERT INTO identity_overrides (site_id, from_key, into_key, merged_seq, version) SELECT DISTINCT site_id, " +
			"entity_key + " + fmt.Sprint(splitOffset) + ", " + o.into + ", 1, " + o.version + " FROM " + from +
			".identities WHERE entity_key IN " + split
		if _, err := dst.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
	}
	return nil
}

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
		if total.trees < 1000 {
			return // too few to expect every feature
		}
		for _, f := range requiredFeatures() {
			if total.features[f] == 0 {
				t.Errorf("no checked segment had %q: the generator no longer reaches it", f)
			}
		}
	})
	for i := range *chDatasets {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			total.add(checkDataset(t, seed, trees, 0, chBackend))
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

// TestOracleClickHouseWideGroups is TestOracleWideGroups on ClickHouse:
// groups of up to 100 conditions, whose did(…) conditions and current
// attributes share scans (countIf in ClickHouse's SQL).
func TestOracleClickHouseWideGroups(t *testing.T) {
	trees := 4
	if testing.Short() {
		trees = 2
	}
	t.Run("seed=50", func(t *testing.T) { checkDataset(t, 50, trees, 100, chBackend) })
}
