package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/account/accounttest"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/recording/recordingtest"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/storetest"
	"github.com/sightline/sightline/internal/testsvc"
)

// One PostgreSQL server for the whole package.
func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

// The services' own views of the control data, whole.
var (
	_ api.Credentials = (*pgstore.DB)(nil)
	_ admin.Catalog   = (*pgstore.DB)(nil)
	_ account.Store   = (*pgstore.DB)(nil)
)

// TestConformance runs the suites of the control-data roles against
// PostgreSQL: the same suites duckstore runs. Suites that mix control and
// analytical data are run on their control half (see alertStore) or left
// to the composite store (RunSurveyDeletion, RunChanges, RunVisitorLinks;
// see TestVersionsAcrossNodes for the counters).
func TestConformance(t *testing.T) {
	dbs := newDatabases(t)
	t.Run("catalog", func(t *testing.T) {
		storetest.RunCatalog(t, func(t *testing.T, now func() time.Time) storetest.Catalog { return dbs.open(t, now) })
	})
	t.Run("segments", func(t *testing.T) {
		storetest.RunSegments(t, func(t *testing.T, now func() time.Time) store.Segments { return dbs.open(t, now) })
	})
	t.Run("surveys", func(t *testing.T) {
		storetest.RunSurveys(t, func(t *testing.T, now func() time.Time) store.Surveys { return dbs.open(t, now) })
	})
	t.Run("feedback settings", func(t *testing.T) {
		storetest.RunFeedbackSettings(t, func(t *testing.T, now func() time.Time) store.FeedbackSettings { return dbs.open(t, now) })
	})
	t.Run("alerts", func(t *testing.T) {
		storetest.RunAlerts(t, func(t *testing.T, now func() time.Time) storetest.AlertStore {
			return alertStore{dbs.open(t, now)}
		})
	})
	t.Run("accounts", func(t *testing.T) {
		accounttest.Run(t, func(t *testing.T, now func() time.Time) accounttest.Store { return dbs.open(t, now) })
	})
	t.Run("recording admission", func(t *testing.T) {
		recordingtest.RunAdmission(t, func(t *testing.T, now func() time.Time) recording.Admission { return dbs.open(t, now) })
	})
	t.Run("insights", func(t *testing.T) {
		storetest.RunInsights(t, func(t *testing.T, now func() time.Time) store.Insights { return dbs.open(t, now) })
	})
	t.Run("experiments", func(t *testing.T) {
		storetest.RunExperiments(t, func(t *testing.T, now func() time.Time) store.Experiments { return dbs.open(t, now) })
	})
	t.Run("retention settings", func(t *testing.T) {
		storetest.RunRetentionSettings(t, func(t *testing.T, now func() time.Time) storetest.RetentionSettings { return dbs.open(t, now) })
	})
	t.Run("control changes", func(t *testing.T) {
		storetest.RunControlChanges(t, func(t *testing.T, now func() time.Time) storetest.ControlChangeStore { return dbs.open(t, now) })
	})
	t.Run("audit", func(t *testing.T) {
		storetest.RunAudit(t, func(t *testing.T, now func() time.Time) store.Auditor { return dbs.open(t, now) })
	})
	t.Run("sign-in limiter", func(t *testing.T) {
		accounttest.RunLimiter(t, func(t *testing.T) account.LimitStore { return dbs.open(t, nil) })
	})
}

// alertStore is the alerts suite's store: the suite makes its causes by
// adding feedback (analytical data, another backend's), so AddFeedback
// here does what the composite store does after storing the item: it
// records the cause, which this store keeps only for watched sites.
type alertStore struct{ *pgstore.DB }

func (s alertStore) AddFeedback(ctx context.Context, f store.FeedbackItem) error {
	_, err := s.RecordAlertCauses(ctx, []store.AlertCause{{SiteID: f.SiteID, Kind: store.CauseFeedback, Ref: f.ID}})
	return err
}

func (alertStore) ListFeedback(context.Context, int64, store.FeedbackQuery) ([]store.FeedbackItem, error) {
	return nil, errors.ErrUnsupported
}

func (alertStore) FeedbackSummary(context.Context, int64, store.FeedbackQuery, string) ([]store.FeedbackBucket, error) {
	return nil, errors.ErrUnsupported
}

// databases gives each subtest an empty store: a schema of its own in one
// database (creating a schema takes milliseconds, a database far more),
// migrated by Open as a new database would be.
type databases struct {
	dsn string
	n   atomic.Int64
}

func newDatabases(t *testing.T) *databases {
	return &databases{dsn: newDSN(t)}
}

func newDSN(t testing.TB) string { return testsvc.Postgres(t) }

// open returns a new, empty store whose clock is now. The subtests run
// side by side: each has its own schema.
func (d *databases) open(t *testing.T, now func() time.Time) *pgstore.DB {
	t.Helper()
	t.Parallel()
	return openDSN(t, d.schema(t), pgstore.Options{Now: now})
}

// schema creates a schema and returns a DSN whose connections use it.
func (d *databases) schema(t *testing.T) string { return d.schemaTB(t) }

func (d *databases) schemaTB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprint("t", d.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(d.dsn, "?") {
		sep = "&"
	}
	return d.dsn + sep + "search_path=" + name
}

func openDSN(t testing.TB, dsn string, opts pgstore.Options) *pgstore.DB {
	t.Helper()
	if opts.MaxConns == 0 {
		opts.MaxConns = 4
	}
	db, err := pgstore.OpenWith(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrateConcurrently opens one new database from several nodes at
// once: each migration is applied once, and every node opens.
func TestMigrateConcurrently(t *testing.T) {
	dsn := newDatabases(t).dsn
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			db, err := pgstore.OpenWith(context.Background(), dsn, pgstore.Options{MaxConns: 2})
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, distinct int
	if err := conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM sightline_migrations").Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Errorf("migrations table: %d rows, %d versions; want each version once", applied, distinct)
	}
	// A reopen applies nothing and keeps the data.
	db := openDSN(t, dsn, pgstore.Options{})
	site, _, err := db.CreateSite(ctx, "Shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openDSN(t, dsn, pgstore.Options{})
	if _, err := db.Site(ctx, site.PublicID); err != nil {
		t.Errorf("the site after a reopen: %v", err)
	}
	// A database a newer Sightline migrated is refused, not half used.
	if _, err := conn.Exec(ctx, "INSERT INTO sightline_migrations (version, name) VALUES (999, '999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	if db, err := pgstore.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		if db != nil {
			db.Close()
		}
		t.Errorf("opening a database with a newer migration: %v, want a refusal", err)
	}
}
