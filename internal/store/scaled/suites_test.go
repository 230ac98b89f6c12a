package scaled_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/recording/recordingtest"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/composite"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/scaled"
	"github.com/sightline/sightline/internal/store/storetest"
)

// TestSuites runs the suites of the analytical roles beyond ingestion on
// one node, and those that span both halves on the composite of this
// store with pgstore on the same PostgreSQL (what `serve --clickhouse`
// runs).
func TestSuites(t *testing.T) {
	svc := newServices(t)
	node := func(t *testing.T, now func() time.Time) *scaled.DB {
		t.Parallel()
		ch, pg := svc.dsns(t)
		return open(t, ch, pg, now)
	}
	both := func(t *testing.T, now func() time.Time) *composite.Store {
		t.Parallel()
		return openComposite(t, svc, now)
	}
	t.Run("event catalog", func(t *testing.T) {
		storetest.RunEventCatalog(t, func(t *testing.T, now func() time.Time) storetest.EventStore { return node(t, now) })
	})
	t.Run("survey responses", func(t *testing.T) {
		storetest.RunSurveyResponses(t, func(t *testing.T, now func() time.Time) store.SurveyResponses { return node(t, now) })
	})
	t.Run("feedback", func(t *testing.T) {
		storetest.RunFeedback(t, func(t *testing.T, now func() time.Time) store.FeedbackItems { return node(t, now) })
	})
	t.Run("visitor links", func(t *testing.T) {
		storetest.RunVisitorLinks(t, func(t *testing.T, now func() time.Time) storetest.VisitorStore { return node(t, now) })
	})
	t.Run("survey deletion", func(t *testing.T) {
		storetest.RunSurveyDeletion(t, func(t *testing.T, now func() time.Time) storetest.SurveyStore { return both(t, now) })
	})
	t.Run("changes", func(t *testing.T) {
		storetest.RunChanges(t, func(t *testing.T, now func() time.Time) storetest.ChangeStore { return both(t, now) })
	})
	t.Run("alerts", func(t *testing.T) {
		storetest.RunAlerts(t, func(t *testing.T, now func() time.Time) storetest.AlertStore { return both(t, now) })
	})
	t.Run("recordings", func(t *testing.T) {
		recordingtest.Run(t, func(t *testing.T, now func() time.Time) recordingtest.Store { return both(t, now) })
	})
}

// openComposite returns the composite of a new node and pgstore on new
// databases.
func openComposite(t testing.TB, svc *services, now func() time.Time) *composite.Store {
	t.Helper()
	ch, pg := svc.dsns(t)
	return compositeOn(t, open(t, ch, pg, now), pg, now)
}

// compositeOn joins a node with pgstore on its PostgreSQL.
func compositeOn(t testing.TB, db *scaled.DB, pg string, now func() time.Time) *composite.Store {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctl, err := pgstore.OpenWith(ctx, pg, pgstore.Options{Now: now, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	s, err := composite.New(ctx, db, ctl, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
