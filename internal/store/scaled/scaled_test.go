package scaled_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/scaled"
	"github.com/sightline/sightline/internal/store/storetest"
	"github.com/sightline/sightline/internal/testsvc"
)

// One ClickHouse and one PostgreSQL server for the whole package. Run as
// the child of TestKillLosesNothing, the binary writes until killed.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runWriter())
	}
	os.Exit(testsvc.Run(m))
}

var _ storetest.Analytics = (*scaled.DB)(nil)

// services hands each subtest a ClickHouse database and a PostgreSQL
// schema of its own.
type services struct {
	pg string
	n  atomic.Int64
}

func newServices(t testing.TB) *services { return &services{pg: testsvc.Postgres(t)} }

// dsns returns a new ClickHouse database's DSN and a new PostgreSQL
// schema's.
func (s *services) dsns(t testing.TB) (ch, pg string) {
	t.Helper()
	name := fmt.Sprint("t", s.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(s.pg, "?") {
		sep = "&"
	}
	return testsvc.ClickHouse(t), s.pg + sep + "search_path=" + name
}

// nodes numbers the nodes the tests open, for their names.
var nodes atomic.Int64

// open returns a node on ch and pg with a write-ahead log of its own, as
// serve runs it.
func open(t testing.TB, ch, pg string, now func() time.Time) *scaled.DB {
	t.Helper()
	db, err := scaled.Open(context.Background(), ch, pg, scaled.Options{Now: now, MaxConns: 4,
		Node: fmt.Sprint("n", nodes.Add(1)), WALDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the analytics suite on one node.
func TestConformance(t *testing.T) {
	svc := newServices(t)
	storetest.RunAnalytics(t, func(t *testing.T, now func() time.Time) storetest.Analytics {
		t.Parallel()
		ch, pg := svc.dsns(t)
		return open(t, ch, pg, now)
	})
}

// TestTwoNodes runs the analytics suite again with every call going to
// the next of two nodes on the same services, as a load balancer would
// send them: one user's messages alternate between nodes.
func TestTwoNodes(t *testing.T) {
	svc := newServices(t)
	storetest.RunAnalytics(t, func(t *testing.T, now func() time.Time) storetest.Analytics {
		t.Parallel()
		ch, pg := svc.dsns(t)
		return &balanced{nodes: []*scaled.DB{open(t, ch, pg, now), open(t, ch, pg, now)}}
	})
}

// balanced sends each call to the next node.
type balanced struct {
	nodes []*scaled.DB
	n     atomic.Int64
}

func (b *balanced) next() *scaled.DB { return b.nodes[int(b.n.Add(1))%len(b.nodes)] }

// Write writes through the next node and waits for its applier: a read
// on the other node then sees the messages (TestCrossNodeLag measures how
// long that takes without the wait).
func (b *balanced) Write(ctx context.Context, msgs []store.Message) ([]store.Outcome, error) {
	n := b.next()
	out, err := n.Write(ctx, msgs)
	if err != nil {
		return nil, err
	}
	return out, n.Sync(ctx)
}

func (b *balanced) Merge(ctx context.Context, site int64, from, into store.Identity) error {
	return b.next().Merge(ctx, site, from, into)
}

func (b *balanced) UserKey(ctx context.Context, site int64, id store.Identity) (int64, error) {
	return b.next().UserKey(ctx, site, id)
}

func (b *balanced) User(ctx context.Context, site int64, id store.Identity) (store.User, error) {
	return b.next().User(ctx, site, id)
}

func (b *balanced) History(ctx context.Context, site int64, id store.Identity, key string) ([]store.Change, error) {
	return b.next().History(ctx, site, id, key)
}

func (b *balanced) AttributesAsOf(ctx context.Context, site int64, id store.Identity, at time.Time) ([]store.AttrState, error) {
	return b.next().AttributesAsOf(ctx, site, id, at)
}

func (b *balanced) UserEvents(ctx context.Context, site int64, id store.Identity, q store.EventQuery) ([]store.Event, error) {
	return b.next().UserEvents(ctx, site, id, q)
}

func (b *balanced) UserSessions(ctx context.Context, site int64, id store.Identity, limit int) ([]store.Session, error) {
	return b.next().UserSessions(ctx, site, id, limit)
}

func (b *balanced) AttributeCatalog(ctx context.Context, site int64) ([]store.CatalogKey, error) {
	return b.next().AttributeCatalog(ctx, site)
}

func (b *balanced) Rejections(ctx context.Context, site int64, key string, limit int) ([]store.Rejection, error) {
	return b.next().Rejections(ctx, site, key, limit)
}

func (b *balanced) SearchUsers(ctx context.Context, site int64, q store.UserQuery) ([]store.UserSummary, error) {
	return b.next().SearchUsers(ctx, site, q)
}

func (b *balanced) ChangeType(ctx context.Context, site int64, entity store.Entity, key string, to attr.Type) (int, error) {
	return b.next().ChangeType(ctx, site, entity, key, to)
}

func (b *balanced) InstallStatus(ctx context.Context, site int64, now time.Time) (store.InstallStatus, error) {
	return b.next().InstallStatus(ctx, site, now)
}

func (b *balanced) LastSeen(ctx context.Context, site int64, keys []int64) (map[int64]time.Time, error) {
	return b.next().LastSeen(ctx, site, keys)
}
