package engine_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

var (
	oracleTrees    = flag.Int("oracle.n", 150, "TestOracle: random segments checked per dataset")
	oracleDatasets = flag.Int("oracle.datasets", 8, "TestOracle: random datasets, seeded oracle.seed, oracle.seed+1, …")
	oracleSeed     = flag.Uint64("oracle.seed", 1, "TestOracle: seed of the first dataset (0: one from the clock)")
)

// oracleStats counts what TestOracle checked.
type oracleStats struct {
	trees, invalid, nontrivial      int
	empty, everyone, users, refused int
	features                        map[string]int // see features
}

// oracleTotals adds up the datasets' stats.
type oracleTotals struct {
	mu sync.Mutex
	oracleStats
}

func (s *oracleTotals) add(o oracleStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trees += o.trees
	s.invalid += o.invalid
	s.nontrivial += o.nontrivial
	s.empty += o.empty
	s.everyone += o.everyone
	s.users += o.users
	s.refused += o.refused
	if s.features == nil {
		s.features = map[string]int{}
	}
	for f, n := range o.features {
		s.features[f] += n
	}
}

// TestOracle checks the engine against a brute-force evaluator written
// in plain Go: random datasets go through the store's ingestion, random
// segments over their keys and values go through the text and JSON forms
// and the engine, and the members must equal what the oracle computes
// from the raw rows. Run more with -oracle.n and -oracle.datasets; a
// failure names the seed to replay with -oracle.seed=S -oracle.datasets=1.
func TestOracle(t *testing.T) {
	base, trees := *oracleSeed, *oracleTrees
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	if testing.Short() {
		trees = min(trees, 30)
	}
	total := &oracleTotals{}
	t.Cleanup(func() {
		t.Logf("%d datasets (%d users), %d segments checked, %d non-trivial (%.0f%%), %d empty, %d everyone; "+
			"%d generated trees invalid; %d attribute values refused at ingestion",
			*oracleDatasets, total.users, total.trees, total.nontrivial, 100*float64(total.nontrivial)/float64(max(total.trees, 1)),
			total.empty, total.everyone, total.invalid, total.refused)
		if total.trees < 1000 {
			return // too few to expect every feature
		}
		for _, f := range requiredFeatures() {
			if total.features[f] == 0 {
				t.Errorf("no checked segment had %q: the generator no longer reaches it", f)
			}
		}
	})
	for i := range *oracleDatasets {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			total.add(checkDataset(t, seed, trees, 0, duckBackend))
		})
	}
}

// TestOracleWideGroups checks groups of up to 100 conditions, mostly
// did(…) and user attributes, negated or not: the compiler merges them
// into one scan per table and per maxMergedTerms, with the users without
// rows (counts of 0, no attribute) in or out as the combination says.
func TestOracleWideGroups(t *testing.T) {
	trees := 12
	if testing.Short() {
		trees = 4
	}
	for seed := range uint64(2) {
		t.Run(fmt.Sprintf("seed=%d", seed+50), func(t *testing.T) {
			t.Parallel()
			checkDataset(t, seed+50, trees, 100, duckBackend)
		})
	}
}

// TestOracleDatasetsAreReproducible checks that a seed names one
// dataset, so that a failure's seed replays it.
func TestOracleDatasetsAreReproducible(t *testing.T) {
	for seed := range uint64(4) {
		a, b := generateDataset(seed, 1, oracleNow), generateDataset(seed, 1, oracleNow)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d gave two datasets", seed)
		}
	}
}

// backend is the database the engine under test reads: the dataset is
// written to a duckstore (the oracle's truth is read from there), and
// open puts it where the engine reads it, returning the engine's store,
// the database its queries run on and their dialect.
type backend struct {
	test string // the test that runs this backend, for replay commands
	open func(t *testing.T, db *duckstore.DB) (engine.Store, *sql.DB, compiler.Dialect)
}

// duckBackend runs the engine on the duckstore itself.
var duckBackend = backend{test: "TestOracle", open: func(_ *testing.T, db *duckstore.DB) (engine.Store, *sql.DB, compiler.Dialect) {
	return db, db.SQL(), compiler.DuckDB{}
}}

// oracleRun is one dataset under test.
type oracleRun struct {
	t       *testing.T
	ctx     context.Context
	seed    uint64
	db      *duckstore.DB // where the dataset was written, and segments saved
	site    int64
	eng     *engine.Engine
	sql     *sql.DB // the database the engine's queries run on
	dialect compiler.Dialect
	test    string // the test's name, for replay commands
	cat     *engine.Catalog
	w       *world
	pick    *rand.Rand // users whose membership Contains checks
}

// checkDataset checks trees random segments on the dataset of seed; wide
// is treeGen's.
func checkDataset(t *testing.T, seed uint64, trees, wide int, be backend) oracleStats {
	ctx := context.Background()
	db, site := openStore(t, oracleNow)
	stats := oracleStats{features: map[string]int{}}
	var err error
	if stats.refused, err = generateDataset(seed, site.ID, oracleNow).write(ctx, db); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	st, q, dialect := be.open(t, db)
	run := &oracleRun{t: t, ctx: ctx, seed: seed, db: db, site: site.ID, sql: q, dialect: dialect, test: be.test,
		eng: engine.New(st, dialect, func() time.Time { return oracleNow }), pick: rand.New(rand.NewPCG(seed, 3))}
	if run.cat, err = run.eng.Catalog(ctx, site.ID); err != nil { // also waits for the writes
		t.Fatal(err)
	}
	if run.w, err = loadWorld(ctx, db.SQL(), site.ID, oracleNow); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	stats.users = len(run.w.universe)
	g := &treeGen{r: rand.New(rand.NewPCG(seed, 2)), now: oracleNow, cat: run.cat, voc: newVocabulary(run.w), wide: wide}
	run.saveSegments(g)

	for attempt := 0; stats.trees < trees && attempt < 3*trees; attempt++ {
		tree := g.node(0)
		if err := segment.Validate(tree, run.cat); err != nil {
			if stats.invalid++; stats.invalid <= 3 {
				t.Logf("seed %d: generated an invalid tree: %s\n%v", seed, segment.Format(tree), err)
			}
			continue
		}
		stats.trees++
		for _, f := range features(tree, run.cat) {
			stats.features[f]++
		}
		size, ok := run.check(stats.trees, tree)
		if !ok {
			continue
		}
		switch size {
		case 0:
			stats.empty++
		case len(run.w.universe):
			stats.everyone++
		default:
			stats.nontrivial++
		}
	}
	if stats.invalid > stats.trees {
		t.Errorf("seed %d: %d of %d generated trees were invalid", seed, stats.invalid, stats.invalid+stats.trees)
	}
	return stats
}

// saveSegments saves four random segments for in_segment to name, each
// possibly naming those before it. The first compares a datetime, whose
// dates the saved JSON holds as strings.
func (run *oracleRun) saveSegments(g *treeGen) {
	for i := range 4 {
		var n segment.Node
		for n == nil {
			if i == 0 {
				n = g.attributeOf(segment.ScopeUser, attr.Datetime)
			} else {
				n = g.node(1)
			}
			if segment.Validate(n, run.cat) != nil {
				n = nil
			}
		}
		def, err := segment.MarshalNode(n)
		if err != nil {
			run.t.Fatal(err)
		}
		s, err := run.db.SaveSegment(run.ctx, store.SavedSegment{SiteID: run.site, Name: fmt.Sprintf("oracle %d", i),
			Definition: def, Text: segment.Format(n)})
		if err != nil {
			run.t.Fatal(err)
		}
		run.w.segments[s.ID] = n
		g.segments = append(g.segments, s.ID)
	}
}

// check runs one tree through the text and JSON forms and the engine and
// compares the members with the oracle's. It returns the number of
// members and whether all agreed.
func (run *oracleRun) check(i int, tree segment.Node) (int, bool) {
	t := run.t
	text := segment.Format(tree)
	parsed, err := run.roundTrip(tree)
	if err != nil {
		t.Errorf("seed %d tree %d: %s\n%v", run.seed, i, text, err)
		return 0, false
	}
	want := run.w.members(tree)
	got, err := run.members(parsed)
	if err != nil {
		t.Errorf("seed %d tree %d: %s\nmembers: %v", run.seed, i, text, err)
		return 0, false
	}
	count, err := run.eng.Count(run.ctx, run.site, parsed)
	if err != nil {
		t.Errorf("seed %d tree %d: %s\ncount: %v", run.seed, i, text, err)
		return 0, false
	}
	size, sample, err := run.eng.Preview(run.ctx, run.site, parsed, 5, nil)
	if err != nil {
		t.Errorf("seed %d tree %d: %s\npreview: %v", run.seed, i, text, err)
		return 0, false
	}
	sampleKeys := make([]int64, len(sample))
	for j, m := range sample {
		sampleKeys[j] = m.Key
	}
	if size != int64(len(want)) || !slices.Equal(sampleKeys, want[:min(5, len(want))]) {
		t.Errorf("seed %d tree %d: %s\npreview: size %d, first members %v; want %d, %v",
			run.seed, i, text, size, sampleKeys, len(want), want[:min(5, len(want))])
		return len(want), false
	}
	if slices.Equal(got, want) && count == int64(len(want)) {
		return len(want), run.checkContains(i, parsed, want)
	}
	t.Errorf("%s", run.report(i, tree, parsed, got, want, count))
	return len(want), false
}

// checkContains asks the engine whether users are members: one member
// and one other user when there are, a random user, and a key that is no
// user's. Each is asked of Contains (condition by condition, then again
// from the membership cache) and of the whole tree compiled for the user
// in one query (compiler.Member).
func (run *oracleRun) checkContains(i int, n segment.Node, want []int64) bool {
	u := run.w.universe
	if len(u) == 0 {
		return true
	}
	keys := []int64{u[run.pick.IntN(len(u))], u[len(u)-1] + 1000}
	if len(want) > 0 {
		keys = append(keys, want[run.pick.IntN(len(want))])
	}
	if len(want) < len(u) {
		for _, k := range run.pick.Perm(len(u)) {
			if _, in := slices.BinarySearch(want, u[k]); !in {
				keys = append(keys, u[k])
				break
			}
		}
	}
	ok := true
	c := run.compiler()
	for _, key := range keys {
		_, member := slices.BinarySearch(want, key)
		q, err := c.Member(n, key)
		var in bool
		if err == nil {
			var v any
			if err = run.sql.QueryRowContext(run.ctx, q.SQL, q.Args...).Scan(&v); err == nil {
				in, err = truth(v)
			}
		}
		if err != nil || in != member {
			run.t.Errorf("seed %d tree %d: %s\nMember(user %d) in one query = %v, %v; the oracle says %v\n%s",
				run.seed, i, segment.Format(n), key, in, err, member, q.SQL)
			ok = false
		}
		for _, pass := range []string{"first", "repeated"} {
			in, err := run.eng.Contains(run.ctx, run.site, n, key)
			if err != nil || in != member {
				run.t.Errorf("seed %d tree %d: %s\nContains(user %d), %s check = %v, %v; the oracle says %v",
					run.seed, i, segment.Format(n), key, pass, in, err, member)
				ok = false
			}
		}
	}
	return ok
}

// truth reads a boolean the database answered: DuckDB's BOOLEAN or
// ClickHouse's UInt8.
func truth(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case uint8:
		return v != 0, nil
	}
	return false, fmt.Errorf("%T is not a boolean", v)
}

// roundTrip prepares the tree as the API would from its text form, then
// from the JSON form of the result, and checks that nothing changed.
func (run *oracleRun) roundTrip(tree segment.Node) (segment.Node, error) {
	text := segment.Format(tree)
	fromText, err := run.eng.Prepare(run.ctx, run.site, engine.Definition{Text: text}, "")
	if err != nil {
		return nil, fmt.Errorf("prepare the text form: %w", err)
	}
	data, err := segment.MarshalNode(fromText)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	fromJSON, err := run.eng.Prepare(run.ctx, run.site, engine.Definition{JSON: data}, "")
	if err != nil {
		return nil, fmt.Errorf("prepare the JSON form %s: %w", data, err)
	}
	if again := segment.Format(fromJSON); again != text {
		return nil, fmt.Errorf("the text changed through JSON: %s", again)
	}
	orig, err := segment.MarshalNode(tree)
	if err != nil {
		return nil, fmt.Errorf("marshal the generated tree: %w", err)
	}
	if again, _ := segment.MarshalNode(fromJSON); string(again) != string(orig) {
		return nil, fmt.Errorf("the JSON changed through text: %s became %s", orig, again)
	}
	return fromJSON, nil
}

// members pages through the engine's members of n.
func (run *oracleRun) members(n segment.Node) ([]int64, error) {
	const limit = 1000
	var out []int64
	after := int64(math.MinInt64)
	for {
		page, err := run.eng.Members(run.ctx, run.site, n, after, limit, nil)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if m.Key <= after {
				return nil, fmt.Errorf("members out of order: %d after %d", m.Key, after)
			}
			out = append(out, m.Key)
			after = m.Key
		}
		if len(page) < limit {
			return out, nil
		}
	}
}

// compiler returns the compiler the engine uses, to show a tree's SQL.
func (run *oracleRun) compiler() *compiler.Compiler {
	return &compiler.Compiler{Site: run.site, Now: oracleNow, Catalog: run.cat, Dialect: run.dialect,
		Resolve: func(id string) (segment.Node, error) {
			s, err := run.db.Segment(run.ctx, run.site, id)
			if err != nil {
				return nil, err
			}
			n, err := segment.ParseJSON(s.Definition)
			if err != nil {
				return nil, err
			}
			return n, segment.Validate(n, run.cat)
		}}
}
