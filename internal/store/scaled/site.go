package scaled

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
)

var _ store.SiteDeleter = (*DB)(nil)

// DeleteSite deletes a site's analytics (composite.Store deletes its
// control data first): ClickHouse's rows of every table with a site_id,
// then PostgreSQL's decisions and rows, under the site's lock. The
// recordings' blobs go through the deletion outbox, which keeps the
// site's rows until they are gone. Deleting again finishes a deletion
// that stopped half way.
func (db *DB) DeleteSite(ctx context.Context, site int64) (map[string]int64, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	err := db.inTx(ctx, func(t *txn) error {
		clear(counts)
		if err := t.lockSites([]int64{site}); err != nil {
			return err
		}
		tables, err := db.siteTables(ctx)
		if err != nil {
			return err
		}
		for _, table := range tables {
			n, err := db.deleteRows(ctx, table, "site_id = ?", site)
			if err != nil {
				return err
			}
			if n > 0 {
				counts[table] += n
			}
		}
		exec := func(kind, sql string, args ...any) error {
			tag, err := t.tx.Exec(ctx, sql, args...)
			if err != nil {
				return fmt.Errorf("delete %s: %w", kind, err)
			}
			if n := tag.RowsAffected(); n > 0 && kind != "" {
				counts[kind] += n
			}
			return nil
		}
		if err := exec("recording_deletions", `INSERT INTO recording_deletions (site_id, id, deleted_at)
			SELECT site_id, id, $2 FROM recording_index WHERE site_id = $1 ON CONFLICT DO NOTHING`, site, t.now); err != nil {
			return err
		}
		if err := exec("", `DELETE FROM group_links WHERE user_key IN (SELECT key FROM entities WHERE site_id = $1)`, site); err != nil {
			return err
		}
		for _, table := range []string{"recording_chunks", "recording_index", "survey_answers", "survey_responses",
			"survey_dismissals", "feedback_items", "quarantine", "erase_jobs", "suppressed_ids", "attr_values", "attr_keys",
			"visit_sessions", "message_ids", "identities", "entities"} {
			if err := exec("", "DELETE FROM "+table+" WHERE site_id = $1", site); err != nil {
				return err
			}
		}
		t.touch = pgstore.Touch{Site: true, Surveys: true}
		return t.finish()
	})
	if err != nil {
		return nil, fmt.Errorf("delete site: %w", err)
	}
	return counts, nil
}

// siteTables lists ClickHouse's tables that have a site_id, views aside.
func (db *DB) siteTables(ctx context.Context) ([]string, error) {
	rows, err := db.ch.Query(ctx, `SELECT DISTINCT c.table FROM system.columns AS c
		ANY INNER JOIN (SELECT name AS table FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree') AS t
		USING (table)
		WHERE c.database = currentDatabase() AND c.name = 'site_id' ORDER BY c.table`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// expireSteps are the deletions of ExpireRetentions in their order,
// dependent rows first, each naming the retention it follows: rows of a
// ClickHouse table (where, on the site and the cutoff in microseconds)
// and of a PostgreSQL one (pg, on $1 the site and $2 the cutoff).
var expireSteps = []struct {
	kind  string
	days  func(store.Retention) int
	table string
	where string
	pg    string
}{
	{"survey_answers", func(r store.Retention) int { return r.SurveysDays }, "survey_answers",
		`site_id = ? AND (survey_id, response_id) IN (SELECT survey_id, response_id FROM survey_responses
			WHERE site_id = ? AND created_at < ?)`,
		`DELETE FROM survey_answers a USING survey_responses x WHERE a.site_id = $1 AND x.site_id = $1
			AND x.survey_id = a.survey_id AND x.response_id = a.response_id AND x.created_at < $2`},
	{"survey_responses", func(r store.Retention) int { return r.SurveysDays }, "survey_responses",
		"site_id = ? AND created_at < ?", "DELETE FROM survey_responses WHERE site_id = $1 AND created_at < $2"},
	{"events", func(r store.Retention) int { return r.EventsDays }, "events", "site_id = ? AND ts < ?", ""},
	{"clicks", func(r store.Retention) int { return r.EventsDays }, "clicks", "site_id = ? AND ts < ?", ""},
	// A day whose last event is kept stays: it was still an active day.
	{"user_days", func(r store.Retention) int { return r.EventsDays }, "user_days", "site_id = ? AND last_ts < ?", ""},
	{"event_days", func(r store.Retention) int { return r.EventsDays }, "event_days", "site_id = ? AND last_ts < ?", ""},
	{"sessions", func(r store.Retention) int { return r.SessionsDays }, "sessions", "site_id = ? AND ended_at < ?",
		"DELETE FROM visit_sessions WHERE site_id = $1 AND ended_at < $2"},
	{"attribute_history", func(r store.Retention) int { return r.HistoryDays }, "attr_history",
		"site_id = ? AND set_at < ?", ""},
}

// ExpireRetentions deletes what is past each site's retention, as the
// control half keeps it (composite.Hooks). ClickHouse counts the rows;
// sessions are counted once, not by their versions.
func (db *DB) ExpireRetentions(ctx context.Context, now time.Time, retentions map[int64]store.Retention) (map[string]int64, error) {
	out := map[string]int64{}
	for _, site := range slices.Sorted(maps.Keys(retentions)) {
		r := retentions[site]
		for _, step := range expireSteps {
			days := step.days(r)
			if days == 0 {
				continue
			}
			cutoff := now.UTC().AddDate(0, 0, -days)
			args := []any{site, micros(cutoff)}
			if step.kind == "survey_answers" {
				args = []any{site, site, micros(cutoff)}
			}
			where := step.where
			if step.kind == "sessions" {
				// One row a session, not a version.
				var n uint64
				if err := db.ch.QueryRow(ctx, "SELECT count() FROM sessions FINAL WHERE "+where, args...).Scan(&n); err != nil {
					return out, fmt.Errorf("expire sessions of site %d: %w", site, err)
				}
				out[step.kind] += int64(n)
			}
			n, err := db.deleteRows(ctx, step.table, where, args...)
			if err != nil {
				return out, fmt.Errorf("expire %s of site %d: %w", step.kind, site, err)
			}
			if step.kind != "sessions" {
				out[step.kind] += n
			}
			if step.pg != "" {
				if _, err := db.pg.Exec(ctx, step.pg, site, cutoff); err != nil {
					return out, fmt.Errorf("expire %s of site %d: %w", step.kind, site, err)
				}
			}
			if n > 0 {
				if err := db.touchNow(ctx, pgstore.Touch{Site: true, Surveys: true}); err != nil {
					return out, err
				}
			}
		}
	}
	return out, nil
}

// QuarantinedMessages lists a site's quarantined messages, newest first,
// up to limit with an ID below before (0: from the newest).
func (db *DB) QuarantinedMessages(ctx context.Context, site int64, limit int, before int64) ([]store.QuarantinedMessage, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := db.pg.Query(ctx, `SELECT id, message_id, kind, reason, message, quarantined_at
		FROM quarantine WHERE site_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, site, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list quarantined messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.QuarantinedMessage, error) {
		var q store.QuarantinedMessage
		var kind int16
		var msg string
		err := r.Scan(&q.ID, &q.MessageID, &kind, &q.Reason, &msg, &q.At)
		q.Kind, q.Message, q.At = store.Kind(kind).String(), []byte(msg), q.At.UTC()
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("list quarantined messages: %w", err)
	}
	return out, nil
}

// touchNow moves change counters in a transaction of their own, for a
// change committed outside one (a ClickHouse mutation).
func (db *DB) touchNow(ctx context.Context, t pgstore.Touch) error {
	tx, err := db.pg.Begin(ctx)
	if err != nil {
		return fmt.Errorf("move change counters: %w", err)
	}
	defer tx.Rollback(context.Background())
	if err := pgstore.TouchVersionsIn(ctx, tx, t); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("move change counters: %w", err)
	}
	return nil
}
