package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

var (
	_ store.Insights    = (*DB)(nil)
	_ store.Experiments = (*DB)(nil)
)

const insightColumns = "id, site_id, name, kind, definition, author, pinned, created_at, updated_at"

func scanInsight(r pgx.Row) (store.SavedInsight, error) {
	var in store.SavedInsight
	var def string
	err := r.Scan(&in.ID, &in.SiteID, &in.Name, &in.Kind, &def, &in.Author, &in.Pinned, &in.CreatedAt, &in.UpdatedAt)
	in.Definition = []byte(def)
	return in, err
}

// SaveInsight creates an insight (when in.ID is empty) or replaces one of
// in's site, keeping its creation time.
func (db *DB) SaveInsight(ctx context.Context, in store.SavedInsight) (store.SavedInsight, error) {
	now := db.now()
	if in.ID == "" {
		saved, err := scanInsight(db.pool.QueryRow(ctx, "INSERT INTO insights ("+insightColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING `+insightColumns,
			auth.NewID("ins_"), in.SiteID, in.Name, in.Kind, string(in.Definition), in.Author, in.Pinned, now))
		if err != nil {
			return store.SavedInsight{}, fmt.Errorf("create insight: %w", err)
		}
		return saved, nil
	}
	saved, err := scanInsight(db.pool.QueryRow(ctx, `UPDATE insights SET name = $3, kind = $4, definition = $5, author = $6,
		pinned = $8, updated_at = $7 WHERE id = $1 AND site_id = $2 RETURNING `+insightColumns,
		in.ID, in.SiteID, in.Name, in.Kind, string(in.Definition), in.Author, now, in.Pinned))
	if err != nil {
		return store.SavedInsight{}, notFound(err, fmt.Sprintf("insight %q", in.ID))
	}
	return saved, nil
}

// Insight returns a saved insight of a site.
func (db *DB) Insight(ctx context.Context, site int64, id string) (store.SavedInsight, error) {
	in, err := scanInsight(db.pool.QueryRow(ctx, "SELECT "+insightColumns+" FROM insights WHERE id = $1 AND site_id = $2", id, site))
	if err != nil {
		return store.SavedInsight{}, notFound(err, fmt.Sprintf("insight %q", id))
	}
	return in, nil
}

// ListInsights lists a site's saved insights by name, case aside.
func (db *DB) ListInsights(ctx context.Context, site int64) ([]store.SavedInsight, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+insightColumns+` FROM insights WHERE site_id = $1 ORDER BY lower(name) COLLATE "C", id`, site)
	return collect(rows, err, "list insights", func(r pgx.CollectableRow) (store.SavedInsight, error) { return scanInsight(r) })
}

// DeleteInsight deletes a saved insight.
func (db *DB) DeleteInsight(ctx context.Context, site int64, id string) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM insights WHERE id = $1 AND site_id = $2", id, site)
	return affectedOne(tag, err, fmt.Sprintf("insight %q", id))
}

// AddAnnotation adds an annotation; its Day is a YYYY-MM-DD date.
func (db *DB) AddAnnotation(ctx context.Context, a store.Annotation) (store.Annotation, error) {
	a.ID, a.CreatedAt = auth.NewID("ann_"), db.now()
	if _, err := db.pool.Exec(ctx, "INSERT INTO annotations (id, site_id, day, text, source, created_at) VALUES ($1, $2, $3::DATE, $4, $5, $6)",
		a.ID, a.SiteID, a.Day, a.Text, a.Source, a.CreatedAt); err != nil {
		return store.Annotation{}, fmt.Errorf("add annotation: %w", err)
	}
	return a, nil
}

// Annotations lists a site's annotations by date.
func (db *DB) Annotations(ctx context.Context, site int64) ([]store.Annotation, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, site_id, to_char(day, 'YYYY-MM-DD'), text, source, created_at FROM annotations
		WHERE site_id = $1 ORDER BY day, created_at, id`, site)
	return collect(rows, err, "list annotations", func(r pgx.CollectableRow) (store.Annotation, error) {
		var a store.Annotation
		err := r.Scan(&a.ID, &a.SiteID, &a.Day, &a.Text, &a.Source, &a.CreatedAt)
		return a, err
	})
}

// DeleteAnnotation deletes an annotation.
func (db *DB) DeleteAnnotation(ctx context.Context, site int64, id string) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM annotations WHERE id = $1 AND site_id = $2", id, site)
	return affectedOne(tag, err, fmt.Sprintf("annotation %q", id))
}

const experimentColumns = "id, site_id, name, definition, created_at, updated_at"

func scanExperiment(r pgx.Row) (store.SavedExperiment, error) {
	var e store.SavedExperiment
	var def string
	err := r.Scan(&e.ID, &e.SiteID, &e.Name, &def, &e.CreatedAt, &e.UpdatedAt)
	e.Definition = []byte(def)
	return e, err
}

// SaveExperiment implements store.Experiments.
func (db *DB) SaveExperiment(ctx context.Context, e store.SavedExperiment) (store.SavedExperiment, error) {
	now := db.now()
	if e.ID == "" {
		saved, err := scanExperiment(db.pool.QueryRow(ctx, "INSERT INTO experiments ("+experimentColumns+`)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+experimentColumns, auth.NewID("exp_"), e.SiteID, e.Name, string(e.Definition), now))
		if err != nil {
			return store.SavedExperiment{}, fmt.Errorf("create experiment: %w", err)
		}
		return saved, nil
	}
	saved, err := scanExperiment(db.pool.QueryRow(ctx, `UPDATE experiments SET name = $3, definition = $4, updated_at = $5
		WHERE id = $1 AND site_id = $2 RETURNING `+experimentColumns, e.ID, e.SiteID, e.Name, string(e.Definition), now))
	if err != nil {
		return store.SavedExperiment{}, notFound(err, fmt.Sprintf("experiment %q", e.ID))
	}
	return saved, nil
}

// Experiment implements store.Experiments.
func (db *DB) Experiment(ctx context.Context, site int64, id string) (store.SavedExperiment, error) {
	e, err := scanExperiment(db.pool.QueryRow(ctx, "SELECT "+experimentColumns+" FROM experiments WHERE id = $1 AND site_id = $2", id, site))
	if err != nil {
		return store.SavedExperiment{}, notFound(err, fmt.Sprintf("experiment %q", id))
	}
	return e, nil
}

// ListExperiments implements store.Experiments: by name, case aside.
func (db *DB) ListExperiments(ctx context.Context, site int64) ([]store.SavedExperiment, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+experimentColumns+` FROM experiments WHERE site_id = $1 ORDER BY lower(name) COLLATE "C", id`, site)
	return collect(rows, err, "list experiments", func(r pgx.CollectableRow) (store.SavedExperiment, error) { return scanExperiment(r) })
}

// DeleteExperiment implements store.Experiments.
func (db *DB) DeleteExperiment(ctx context.Context, site int64, id string) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM experiments WHERE id = $1 AND site_id = $2", id, site)
	return affectedOne(tag, err, fmt.Sprintf("experiment %q", id))
}

// Retention returns a site's retention: keep everything until set. It is
// the settings half of store.Retainer; ExpireData, which deletes what is
// past it, runs where the data is (the analytical backend).
func (db *DB) Retention(ctx context.Context, site int64) (store.Retention, error) {
	var r store.Retention
	err := db.pool.QueryRow(ctx, "SELECT events_days, sessions_days, history_days, surveys_days FROM site_retention WHERE site_id = $1",
		site).Scan(&r.EventsDays, &r.SessionsDays, &r.HistoryDays, &r.SurveysDays)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Retention{}, nil
	}
	if err != nil {
		return store.Retention{}, fmt.Errorf("read retention: %w", err)
	}
	return r, nil
}

// SetRetention validates and stores a site's retention.
func (db *DB) SetRetention(ctx context.Context, site int64, r store.Retention) (store.Retention, error) {
	if err := r.Validate(); err != nil {
		return store.Retention{}, err
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO site_retention (site_id, events_days, sessions_days, history_days, surveys_days, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (site_id) DO UPDATE SET events_days = excluded.events_days, sessions_days = excluded.sessions_days,
			history_days = excluded.history_days, surveys_days = excluded.surveys_days, updated_at = excluded.updated_at`,
		site, r.EventsDays, r.SessionsDays, r.HistoryDays, r.SurveysDays, db.now())
	if err != nil {
		return store.Retention{}, fmt.Errorf("set retention: %w", err)
	}
	return r, nil
}

// Retentions returns the retention of every site that set one, for the
// analytical backend's ExpireData.
func (db *DB) Retentions(ctx context.Context) (map[int64]store.Retention, error) {
	rows, err := db.pool.Query(ctx, "SELECT site_id, events_days, sessions_days, history_days, surveys_days FROM site_retention")
	if err != nil {
		return nil, fmt.Errorf("read retentions: %w", err)
	}
	defer rows.Close()
	out := map[int64]store.Retention{}
	for rows.Next() {
		var site int64
		var r store.Retention
		if err := rows.Scan(&site, &r.EventsDays, &r.SessionsDays, &r.HistoryDays, &r.SurveysDays); err != nil {
			return nil, fmt.Errorf("read retentions: %w", err)
		}
		out[site] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read retentions: %w", err)
	}
	return out, nil
}

// collect reads every row of a query with scan, naming what in errors.
func collect[T any](rows pgx.Rows, err error, what string, scan pgx.RowToFunc[T]) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
