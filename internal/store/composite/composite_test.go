package composite_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/recording/recordingtest"
	"github.com/sightline/sightline/internal/store/composite"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/storetest"
	"github.com/sightline/sightline/internal/testsvc"
)

var _ composite.Half = (*duckstore.DB)(nil)

func TestMain(m *testing.M) { os.Exit(testsvc.Run(m)) }

// TestConformance runs the suites whose roles span both halves against
// the composite of duckstore and pgstore: what pgstore's own suites had
// to leave out (docs/scale-out-design.md, section f).
func TestConformance(t *testing.T) {
	h := newHalves(t)
	t.Run("survey deletion", func(t *testing.T) {
		storetest.RunSurveyDeletion(t, func(t *testing.T, now func() time.Time) storetest.SurveyStore { return h.open(t, now) })
	})
	t.Run("changes", func(t *testing.T) {
		storetest.RunChanges(t, func(t *testing.T, now func() time.Time) storetest.ChangeStore { return h.open(t, now) })
	})
	t.Run("visitor links", func(t *testing.T) {
		storetest.RunVisitorLinks(t, func(t *testing.T, now func() time.Time) storetest.VisitorStore { return h.open(t, now) })
	})
	t.Run("alerts", func(t *testing.T) {
		storetest.RunAlerts(t, func(t *testing.T, now func() time.Time) storetest.AlertStore { return h.open(t, now) })
	})
	t.Run("recordings", func(t *testing.T) {
		recordingtest.Run(t, func(t *testing.T, now func() time.Time) recordingtest.Store { return h.open(t, now) })
	})
}

// halves opens composites of a fresh duckstore and a fresh PostgreSQL
// schema.
type halves struct {
	dsn string
	n   atomic.Int64
}

func newHalves(t *testing.T) *halves { return &halves{dsn: testsvc.Postgres(t)} }

func (h *halves) open(t *testing.T, now func() time.Time) *composite.Store {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "s.duckdb"), duckstore.Options{MemoryLimit: "128MB",
		Threads: 1, Now: now, DedupeWindow: 4096, IdentityCache: 4096}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pg, err := pgstore.OpenWith(ctx, h.schema(t), pgstore.Options{Now: now, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	s, err := composite.New(ctx, db, pg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// schema creates a schema of its own and returns a DSN that uses it.
func (h *halves) schema(t *testing.T) string {
	t.Helper()
	name := fmt.Sprint("c", h.n.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(h.dsn, "?") {
		sep = "&"
	}
	return h.dsn + sep + "search_path=" + name
}
