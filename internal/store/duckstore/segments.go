package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/store"
)

var _ store.Segments = (*DB)(nil)

// SaveSegment creates a segment (when s.ID is empty) or replaces one.
func (db *DB) SaveSegment(ctx context.Context, s store.SavedSegment) (store.SavedSegment, error) {
	defer db.writing()()
	defer db.vers.site.Add(1) // segments naming this one with in_segment change too
	now := db.opts.Now().UTC().Truncate(time.Microsecond)
	s.UpdatedAt = now
	if s.ID == "" {
		s.ID = auth.NewID("seg_")
		s.CreatedAt = now
		_, err := db.pool().ExecContext(ctx, "INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			s.ID, s.SiteID, s.Name, s.Description, s.Author, string(s.Definition), s.Text, s.CreatedAt, s.UpdatedAt)
		if err != nil {
			return store.SavedSegment{}, fmt.Errorf("create segment: %w", err)
		}
		return s, nil
	}
	old, err := db.Segment(ctx, s.SiteID, s.ID)
	if err != nil {
		return store.SavedSegment{}, err
	}
	s.CreatedAt = old.CreatedAt
	_, err = db.pool().ExecContext(ctx, `UPDATE segments SET name = ?, description = ?, author = ?, definition = ?,
		text = ?, updated_at = ? WHERE id = ? AND site_id = ?`,
		s.Name, s.Description, s.Author, string(s.Definition), s.Text, s.UpdatedAt, s.ID, s.SiteID)
	if err != nil {
		return store.SavedSegment{}, fmt.Errorf("update segment: %w", err)
	}
	return s, nil
}

const segmentColumns = "id, site_id, name, description, author, definition, text, created_at, updated_at"

func scanSegment(r scanner) (store.SavedSegment, error) {
	var s store.SavedSegment
	var def string
	err := r.Scan(&s.ID, &s.SiteID, &s.Name, &s.Description, &s.Author, &def, &s.Text, &s.CreatedAt, &s.UpdatedAt)
	s.Definition = []byte(def)
	return s, err
}

// Segment returns a saved segment of a site.
func (db *DB) Segment(ctx context.Context, site int64, id string) (store.SavedSegment, error) {
	s, err := scanSegment(db.pool().QueryRowContext(ctx,
		"SELECT "+segmentColumns+" FROM segments WHERE id = ? AND site_id = ?", id, site))
	if errors.Is(err, sql.ErrNoRows) {
		return store.SavedSegment{}, fmt.Errorf("segment %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.SavedSegment{}, fmt.Errorf("read segment: %w", err)
	}
	return s, nil
}

// ListSegments lists a site's saved segments by name.
func (db *DB) ListSegments(ctx context.Context, site int64) ([]store.SavedSegment, error) {
	return queryAll(ctx, db.pool(), "list segments", scanSegment,
		"SELECT "+segmentColumns+" FROM segments WHERE site_id = ? ORDER BY lower(name), id", site)
}

// DeleteSegment deletes a saved segment.
func (db *DB) DeleteSegment(ctx context.Context, site int64, id string) error {
	defer db.writing()()
	defer db.vers.site.Add(1)
	res, err := db.pool().ExecContext(ctx, "DELETE FROM segments WHERE id = ? AND site_id = ?", id, site)
	if err != nil {
		return fmt.Errorf("delete segment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("segment %q: %w", id, store.ErrNotFound)
	}
	return nil
}
