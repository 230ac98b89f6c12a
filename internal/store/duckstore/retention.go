package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Retainer = (*DB)(nil)

// Retention implements store.Retainer.
func (db *DB) Retention(ctx context.Context, site int64) (store.Retention, error) {
	var r store.Retention
	err := db.pool().QueryRowContext(ctx, `SELECT events_days, sessions_days, history_days, surveys_days
		FROM site_retention WHERE site_id = ?`, site).Scan(&r.EventsDays, &r.SessionsDays, &r.HistoryDays, &r.SurveysDays)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Retention{}, nil
	}
	if err != nil {
		return r, fmt.Errorf("read retention: %w", err)
	}
	return r, nil
}

// SetRetention implements store.Retainer.
func (db *DB) SetRetention(ctx context.Context, site int64, r store.Retention) (store.Retention, error) {
	if err := r.Validate(); err != nil {
		return store.Retention{}, err
	}
	defer db.writing()()
	db.catalogMu.Lock()
	defer db.catalogMu.Unlock()
	_, err := db.pool().ExecContext(ctx, `INSERT OR REPLACE INTO site_retention VALUES (?, ?, ?, ?, ?, ?)`,
		site, r.EventsDays, r.SessionsDays, r.HistoryDays, r.SurveysDays, db.opts.Now().UTC())
	if err != nil {
		return store.Retention{}, fmt.Errorf("set retention: %w", err)
	}
	return r, nil
}

// expireSteps are the deletions of ExpireData in their order: dependent
// rows first. Each names the retention it follows and takes the site and
// the cutoff.
var expireSteps = []struct {
	kind string
	days func(store.Retention) int
	sql  string
}{
	{"survey_answers", func(r store.Retention) int { return r.SurveysDays }, `DELETE FROM survey_answers a WHERE a.site_id = ? AND EXISTS (
		SELECT 1 FROM survey_responses x WHERE x.site_id = a.site_id AND x.survey_id = a.survey_id
		AND x.response_id = a.response_id AND x.created_at < ?)`},
	{"survey_responses", func(r store.Retention) int { return r.SurveysDays },
		"DELETE FROM survey_responses WHERE site_id = ? AND created_at < ?"},
	{"events", func(r store.Retention) int { return r.EventsDays }, "DELETE FROM events WHERE site_id = ? AND ts < ?"},
	{"events_by_name", func(r store.Retention) int { return r.EventsDays }, "DELETE FROM events_by_name WHERE site_id = ? AND ts < ?"},
	// The heatmaps' copy of the events' signals (counted apart).
	{"clicks", func(r store.Retention) int { return r.EventsDays }, "DELETE FROM clicks WHERE site_id = ? AND ts < ?"},
	// The texts of selectors whose clicks are all gone.
	{"click_selectors", func(r store.Retention) int { return r.EventsDays }, orphanSelectors},
	// The days before the cutoff's; its day is counted again from the
	// events kept (recountCutDay).
	{"user_days", func(r store.Retention) int { return r.EventsDays }, "DELETE FROM user_days WHERE site_id = ? AND last_ts < ?"},
	{"event_days", func(r store.Retention) int { return r.EventsDays }, "DELETE FROM event_days WHERE site_id = ? AND last_ts < ?"},
	{"sessions", func(r store.Retention) int { return r.SessionsDays }, "DELETE FROM sessions WHERE site_id = ? AND ended_at < ?"},
	{"attribute_history", func(r store.Retention) int { return r.HistoryDays },
		"DELETE FROM attr_history WHERE site_id = ? AND set_at < ?"},
}

// ExpireData implements store.Retainer.
func (db *DB) ExpireData(ctx context.Context, now time.Time) (map[string]int64, error) {
	rows, err := db.pool().QueryContext(ctx, `SELECT site_id, events_days, sessions_days, history_days, surveys_days
		FROM site_retention WHERE events_days > 0 OR sessions_days > 0 OR history_days > 0 OR surveys_days > 0`)
	if err != nil {
		return nil, fmt.Errorf("read retention: %w", err)
	}
	retentions := map[int64]store.Retention{}
	for rows.Next() {
		var site int64
		var r store.Retention
		if err := rows.Scan(&site, &r.EventsDays, &r.SessionsDays, &r.HistoryDays, &r.SurveysDays); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read retention: %w", err)
		}
		retentions[site] = r
	}
	rows.Close()
	return db.ExpireRetentions(ctx, now, retentions)
}

// ExpireRetentions is ExpireData with each site's retention given, for a
// composite store that keeps the settings elsewhere (in PostgreSQL) and
// its analytics here.
func (db *DB) ExpireRetentions(ctx context.Context, now time.Time, retentions map[int64]store.Retention) (map[string]int64, error) {
	sites := slices.Sorted(maps.Keys(retentions))
	out := map[string]int64{}
	for _, site := range sites {
		r := retentions[site]
		for _, step := range expireSteps {
			days := step.days(r)
			if days == 0 {
				continue
			}
			cutoff := now.UTC().AddDate(0, 0, -days)
			n, err := db.expire(ctx, step.sql, site, cutoff)
			if err == nil && (step.kind == "user_days" || step.kind == "event_days") {
				err = db.recountCutDay(ctx, step.kind, site, cutoff)
			}
			if err != nil {
				return out, fmt.Errorf("expire %s of site %d: %w", step.kind, site, err)
			}
			out[step.kind] += n
		}
	}
	return out, nil
}

// expire runs one deletion on the write connection, between the
// applier's transactions (wmu; a user's erasure and the file's rewrite
// hold it too, so none runs meanwhile).
func (db *DB) expire(ctx context.Context, query string, site int64, cutoff time.Time) (int64, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.wconn == nil {
		return 0, store.ErrClosed
	}
	res, err := db.wconn.ExecContext(ctx, query, site, cutoff)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if n > 0 {
		db.vers.site.Add(1)
		db.vers.surveys.Add(1)
	}
	return n, err
}

// recountCutDay counts the UTC day of the cutoff again in a day table
// (user_days or event_days) from the events retention kept of it, when a
// row of that day began before the cutoff: such a row still counted the
// events deleted, which a trend summing the table's counts would show.
// The day's rows are replaced in one transaction.
func (db *DB) recountCutDay(ctx context.Context, table string, site int64, cutoff time.Time) error {
	t := userDaysTable
	if table == eventDaysTable.name {
		t = eventDaysTable
	}
	day := cutoff.UTC().Truncate(24 * time.Hour)
	kinds, cols := "kind IN (2, 3, 4)", "site_id, user_key"
	if t.byName {
		kinds, cols = "kind = 2", "site_id, name, user_key"
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.wconn == nil {
		return store.ErrClosed
	}
	var cut bool
	if err := db.wconn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.name+" WHERE site_id = ? AND day = ? AND first_ts < ?)",
		site, day, cutoff.UTC()).Scan(&cut); err != nil || !cut {
		return err
	}
	return db.inTx(ctx, func() error {
		if _, err := db.wconn.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE site_id = ? AND day = ?", site, day); err != nil {
			return err
		}
		_, err := db.wconn.ExecContext(ctx, "INSERT INTO "+t.name+" SELECT "+cols+", CAST(ts AS DATE) AS day, min(ts), max(ts), count(*)"+
			" FROM events WHERE site_id = ? AND "+kinds+" AND ts >= ? AND ts < ? GROUP BY "+cols+", day",
			site, day, day.Add(24*time.Hour))
		return err
	})
}
