package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

// siteTables are the tables that hold a site's control data, emptied of
// the site's rows when it is deleted, in this order (the site's row goes
// last, so that a deletion stopped half way is done again).
var siteTables = []string{
	"tokens", "segments", "surveys", "feedback_settings", "recording_settings", "recordings",
	"alert_config", "alert_causes", "alert_attempts", "alert_messages", "alert_destination_state",
	"insights", "annotations", "experiments", "site_retention",
}

// DeleteSite deletes a site's control data in one transaction: its
// tokens and write key, settings, saved definitions, alert rules and
// outbox, its place in accounts and invitations, and the site. The
// analytical half deletes the rest (package composite). It returns how
// many rows of each table went.
func (db *DB) DeleteSite(ctx context.Context, site int64) (map[string]int64, error) {
	counts := map[string]int64{}
	err := db.inTx(ctx, "delete site", func(tx pgx.Tx) error {
		clear(counts)
		for _, t := range siteTables {
			tag, err := tx.Exec(ctx, "DELETE FROM "+t+" WHERE site_id = $1", site)
			if err != nil {
				return err
			}
			if n := tag.RowsAffected(); n > 0 {
				counts[t] = n
			}
		}
		for _, t := range []string{"accounts", "invites"} {
			if _, err := tx.Exec(ctx, "UPDATE "+t+" SET site_ids = array_remove(site_ids, $1) WHERE $1 = ANY(site_ids)", site); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, "DELETE FROM sites WHERE id = $1", site)
		if err != nil {
			return err
		}
		counts["sites"] = tag.RowsAffected()
		return touch(ctx, tx, Touch{Site: true, Surveys: true})
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// EraseUserAlerts deletes what the alerts keep of a user being erased:
// the causes naming their key, the messages whose body carries one of
// their IDs (user ID or anonymous ID, as JSON strings) with their
// delivery attempts, and the rules' memory of them. It returns how many
// rows of each kind went, under the names of store.Erasure.Deleted.
func (db *DB) EraseUserAlerts(ctx context.Context, site, key int64, ids []string) (map[string]int64, error) {
	quoted := make([]string, 0, len(ids))
	for _, id := range ids {
		b, _ := json.Marshal(id)
		quoted = append(quoted, string(b))
	}
	counts := map[string]int64{}
	const carrying = `SELECT id FROM alert_messages m WHERE site_id = $1
		AND EXISTS (SELECT 1 FROM unnest($2::TEXT[]) AS q WHERE strpos(m.body, q) > 0)`
	err := db.inTx(ctx, "erase user alerts", func(tx pgx.Tx) error {
		clear(counts)
		steps := []struct {
			kind, sql string
			args      []any
		}{
			{"alert_causes", "DELETE FROM alert_causes WHERE site_id = $1 AND user_key = $2", []any{site, key}},
			{"alert_attempts", "DELETE FROM alert_attempts WHERE site_id = $1 AND message_id IN (" + carrying + ")", []any{site, quoted}},
			{"alert_messages", "DELETE FROM alert_messages WHERE site_id = $1 AND id IN (" + carrying + ")", []any{site, quoted}},
			{"alert_members", "DELETE FROM alert_members WHERE user_key = $1", []any{key}},
		}
		for _, s := range steps {
			tag, err := tx.Exec(ctx, s.sql, s.args...)
			if err != nil {
				return err
			}
			counts[s.kind] = tag.RowsAffected()
		}
		return touch(ctx, tx, Touch{Profile: []int64{key}, Activity: []int64{key}})
	})
	if err != nil {
		return nil, err
	}
	delete(counts, "alert_members") // as duckstore: not reported
	return counts, nil
}

var _ store.SiteDeleter = (*DB)(nil)

// AlertWatches returns the cause kinds each site's alert rules need, for
// the analytical half, which records the causes of those kinds.
func (db *DB) AlertWatches(ctx context.Context) (map[int64][]string, error) {
	rows, err := db.pool.Query(ctx, "SELECT site_id, watch FROM alert_config")
	if err != nil {
		return nil, fmt.Errorf("read alert watches: %w", err)
	}
	out := map[int64][]string{}
	var site int64
	var watch []string
	_, err = pgx.ForEachRow(rows, []any{&site, &watch}, func() error {
		out[site] = watch
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read alert watches: %w", err)
	}
	return out, nil
}

// Node is the name this store leases alert work under.
func (db *DB) Node() string { return db.opts.Node }

// AdmitRecordings adds the admission rows of recordings made elsewhere
// (imported whole), each under its own ID and creation time, so that
// they count against their day's quota and a later start of their tab
// finds them. A tab that has a recording keeps it.
func (db *DB) AdmitRecordings(ctx context.Context, recs []store.Recording) error {
	if len(recs) == 0 {
		return nil
	}
	ids, sites, sessions, anons := make([]string, len(recs)), make([]int64, len(recs)), make([]string, len(recs)), make([]string, len(recs))
	created := make([]time.Time, len(recs))
	for i, r := range recs {
		ids[i], sites[i], sessions[i], anons[i], created[i] = r.ID, r.SiteID, r.BrowserSession, r.AnonymousID, utc(r.CreatedAt)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO recordings (id, site_id, browser_session, anonymous_id, created_at)
		SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TIMESTAMPTZ[])
		ON CONFLICT DO NOTHING`, ids, sites, sessions, anons, created)
	if err != nil {
		return fmt.Errorf("admit imported recordings: %w", err)
	}
	return nil
}

// LastSiteID is the largest site ID the database has handed out (or taken
// from a migration, which sets the sequence), 0 when none: an ID at or
// below it is never given to a new site.
func (db *DB) LastSiteID(ctx context.Context) (int64, error) {
	var last int64
	err := db.pool.QueryRow(ctx,
		"SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('sites', 'id')::regclass), 0)").Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("read the sites' sequence: %w", err)
	}
	return last, nil
}
