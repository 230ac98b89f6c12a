package duckstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.SiteDeleter = (*DB)(nil)

// keptAfterSite are the tables with a site_id whose rows outlive the
// site: the recordings' deletion outbox, until the blobs are gone.
var keptAfterSite = map[string]bool{"recording_deletions": true}

// DeleteSite implements store.SiteDeleter. Every table with a site_id
// column is cleared of the site's rows in one transaction, which also
// records the deletion as an erasure to scrub (so a crash before the
// scrub finishes it at the next start); then the files are scrubbed.
func (db *DB) DeleteSite(ctx context.Context, site int64) (map[string]int64, error) {
	unlock, err := db.exclusive(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	db.gate.Lock()
	defer db.gate.Unlock()
	db.recMu.Lock()
	defer db.recMu.Unlock()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()

	var tables []string
	rows, err := db.wconn.QueryContext(ctx, `SELECT DISTINCT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.column_name = 'site_id' AND c.table_schema = 'main' AND t.table_type = 'BASE TABLE' ORDER BY c.table_name`)
	if err != nil {
		return nil, fmt.Errorf("delete site: list tables: %w", err)
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("delete site: list tables: %w", err)
		}
		if !keptAfterSite[t] {
			tables = append(tables, t)
		}
	}
	rows.Close()
	counts := map[string]int64{}
	now := db.opts.Now().UTC().Truncate(time.Microsecond)
	exec := func(kind, query string, args ...any) error {
		res, err := db.wconn.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("delete %s: %w", kind, err)
		}
		n, _ := res.RowsAffected()
		if n > 0 {
			counts[kind] += n
		}
		return nil
	}
	err = db.inTx(ctx, func() error {
		// Recordings' blobs go through the outbox; their chunks have no
		// site_id, so they go first, by recording.
		if err := exec("recording_deletions", `INSERT INTO recording_deletions
			SELECT site_id, id, ? FROM recordings WHERE site_id = ?`, now, site); err != nil {
			return err
		}
		if err := exec("recording_chunks", `DELETE FROM recording_chunks WHERE recording_id IN
			(SELECT id FROM recordings WHERE site_id = ?)`, site); err != nil {
			return err
		}
		for _, t := range tables {
			if err := exec(t, "DELETE FROM "+quoteIdent(t)+" WHERE site_id = ?", site); err != nil {
				return err
			}
		}
		for _, t := range []string{"accounts", "invites"} {
			if _, err := db.wconn.ExecContext(ctx, "UPDATE "+t+" SET site_ids = list_filter(site_ids, x -> x <> ?) WHERE list_contains(site_ids, ?)",
				site, site); err != nil {
				return fmt.Errorf("delete the site from %s: %w", t, err)
			}
		}
		if err := exec("sites", "DELETE FROM sites WHERE id = ?", site); err != nil {
			return err
		}
		c, _ := json.Marshal(counts)
		_, err := db.wconn.ExecContext(ctx, "INSERT INTO erasures VALUES (?, ?, 0, ?, ?, NULL, ?)",
			newErasureID(), site, now, db.opts.Now().UTC(), string(c))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete site: %w", err)
	}
	if err := db.sites.load(ctx, db.pool()); err != nil {
		return counts, err
	}
	for k := range db.seq.catalog {
		if k.site == site {
			delete(db.seq.catalog, k)
		}
	}
	delete(db.seq.keyCount, site)
	db.vers.site.Add(1)
	db.vers.surveys.Add(1)
	if _, err := db.scrub(ctx); err != nil {
		return counts, fmt.Errorf("delete site: rows deleted, files not yet scrubbed (done at the next start): %w", err)
	}
	return counts, nil
}
