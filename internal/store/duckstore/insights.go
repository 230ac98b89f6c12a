package duckstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

var _ store.Insights = (*DB)(nil)

// SaveInsight creates an insight (when in.ID is empty) or replaces one.
func (db *DB) SaveInsight(ctx context.Context, in store.SavedInsight) (store.SavedInsight, error) {
	now := db.opts.Now().UTC().Truncate(time.Microsecond)
	in.UpdatedAt = now
	if in.ID == "" {
		in.ID = auth.NewID("ins_")
		in.CreatedAt = now
		_, err := db.sql.ExecContext(ctx, "INSERT INTO insights ("+insightColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			in.ID, in.SiteID, in.Name, in.Kind, string(in.Definition), in.Author, in.Pinned, in.CreatedAt, in.UpdatedAt)
		if err != nil {
			return store.SavedInsight{}, fmt.Errorf("create insight: %w", err)
		}
		return in, nil
	}
	old, err := db.Insight(ctx, in.SiteID, in.ID)
	if err != nil {
		return store.SavedInsight{}, err
	}
	in.CreatedAt = old.CreatedAt
	_, err = db.sql.ExecContext(ctx, `UPDATE insights SET name = ?, kind = ?, definition = ?, author = ?, pinned = ?, updated_at = ?
		WHERE id = ? AND site_id = ?`, in.Name, in.Kind, string(in.Definition), in.Author, in.Pinned, in.UpdatedAt, in.ID, in.SiteID)
	if err != nil {
		return store.SavedInsight{}, fmt.Errorf("update insight: %w", err)
	}
	return in, nil
}

const insightColumns = "id, site_id, name, kind, definition, author, pinned, created_at, updated_at"

func scanInsight(r scanner) (store.SavedInsight, error) {
	var in store.SavedInsight
	var def string
	var pinned sql.NullBool
	err := r.Scan(&in.ID, &in.SiteID, &in.Name, &in.Kind, &def, &in.Author, &pinned, &in.CreatedAt, &in.UpdatedAt)
	in.Pinned = pinned.Bool
	in.Definition = []byte(def)
	return in, err
}

// Insight returns a saved insight of a site.
func (db *DB) Insight(ctx context.Context, site int64, id string) (store.SavedInsight, error) {
	return queryOne(ctx, db.sql, "insight", scanInsight,
		"SELECT "+insightColumns+" FROM insights WHERE id = ? AND site_id = ?", id, site)
}

// ListInsights lists a site's saved insights by name.
func (db *DB) ListInsights(ctx context.Context, site int64) ([]store.SavedInsight, error) {
	return queryAll(ctx, db.sql, "list insights", scanInsight,
		"SELECT "+insightColumns+" FROM insights WHERE site_id = ? ORDER BY lower(name), id", site)
}

// DeleteInsight deletes a saved insight.
func (db *DB) DeleteInsight(ctx context.Context, site int64, id string) error {
	return deleteOne(ctx, db.sql, "insight", "DELETE FROM insights WHERE id = ? AND site_id = ?", id, site)
}

// AddAnnotation adds an annotation.
func (db *DB) AddAnnotation(ctx context.Context, a store.Annotation) (store.Annotation, error) {
	a.ID = auth.NewID("ann_")
	a.CreatedAt = db.opts.Now().UTC().Truncate(time.Microsecond)
	_, err := db.sql.ExecContext(ctx, "INSERT INTO annotations VALUES (?, ?, CAST(? AS DATE), ?, ?, ?)",
		a.ID, a.SiteID, a.Day, a.Text, a.Source, a.CreatedAt)
	if err != nil {
		return store.Annotation{}, fmt.Errorf("add annotation: %w", err)
	}
	return a, nil
}

// Annotations lists a site's annotations by date.
func (db *DB) Annotations(ctx context.Context, site int64) ([]store.Annotation, error) {
	return queryAll(ctx, db.sql, "list annotations", func(r scanner) (store.Annotation, error) {
		var a store.Annotation
		err := r.Scan(&a.ID, &a.SiteID, &a.Day, &a.Text, &a.Source, &a.CreatedAt)
		return a, err
	}, `SELECT id, site_id, strftime(day, '%Y-%m-%d'), text, source, created_at FROM annotations
		WHERE site_id = ? ORDER BY day, created_at, id`, site)
}

// DeleteAnnotation deletes an annotation.
func (db *DB) DeleteAnnotation(ctx context.Context, site int64, id string) error {
	return deleteOne(ctx, db.sql, "annotation", "DELETE FROM annotations WHERE id = ? AND site_id = ?", id, site)
}

// deleteOne runs a DELETE of one row, ErrNotFound when there was none.
func deleteOne(ctx context.Context, q *sql.DB, what, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("delete %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%s %q: %w", what, args[0], store.ErrNotFound)
	}
	return nil
}
