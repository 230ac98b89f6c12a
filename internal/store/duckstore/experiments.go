package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

var _ store.Experiments = (*DB)(nil)

// SaveExperiment implements store.Experiments.
func (db *DB) SaveExperiment(ctx context.Context, e store.SavedExperiment) (store.SavedExperiment, error) {
	now := db.opts.Now().UTC().Truncate(time.Microsecond)
	e.UpdatedAt = now
	if e.ID == "" {
		e.ID = auth.NewID("exp_")
		e.CreatedAt = now
		_, err := db.sql.ExecContext(ctx, "INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?)",
			e.ID, e.SiteID, e.Name, string(e.Definition), e.CreatedAt, e.UpdatedAt)
		if err != nil {
			return store.SavedExperiment{}, fmt.Errorf("create experiment: %w", err)
		}
		return e, nil
	}
	old, err := db.Experiment(ctx, e.SiteID, e.ID)
	if err != nil {
		return store.SavedExperiment{}, err
	}
	e.CreatedAt = old.CreatedAt
	_, err = db.sql.ExecContext(ctx, "UPDATE experiments SET name = ?, definition = ?, updated_at = ? WHERE id = ? AND site_id = ?",
		e.Name, string(e.Definition), e.UpdatedAt, e.ID, e.SiteID)
	if err != nil {
		return store.SavedExperiment{}, fmt.Errorf("update experiment: %w", err)
	}
	return e, nil
}

const experimentColumns = "id, site_id, name, definition, created_at, updated_at"

func scanExperiment(r scanner) (store.SavedExperiment, error) {
	var e store.SavedExperiment
	var def string
	err := r.Scan(&e.ID, &e.SiteID, &e.Name, &def, &e.CreatedAt, &e.UpdatedAt)
	e.Definition = []byte(def)
	return e, err
}

// Experiment implements store.Experiments.
func (db *DB) Experiment(ctx context.Context, site int64, id string) (store.SavedExperiment, error) {
	return queryOne(ctx, db.sql, "experiment", scanExperiment,
		"SELECT "+experimentColumns+" FROM experiments WHERE id = ? AND site_id = ?", id, site)
}

// ListExperiments implements store.Experiments: by name.
func (db *DB) ListExperiments(ctx context.Context, site int64) ([]store.SavedExperiment, error) {
	return queryAll(ctx, db.sql, "list experiments", scanExperiment,
		"SELECT "+experimentColumns+" FROM experiments WHERE site_id = ? ORDER BY lower(name), id", site)
}

// DeleteExperiment implements store.Experiments.
func (db *DB) DeleteExperiment(ctx context.Context, site int64, id string) error {
	return deleteOne(ctx, db.sql, "experiment", "DELETE FROM experiments WHERE id = ? AND site_id = ?", id, site)
}
