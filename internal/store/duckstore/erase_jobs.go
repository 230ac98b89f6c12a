package duckstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

var _ store.EraseJobs = (*DB)(nil)

// SaveEraseJob implements store.EraseJobs.
func (db *DB) SaveEraseJob(ctx context.Context, j store.EraseJob) error {
	args, err := eraseJobArgs(j)
	if err != nil {
		return err
	}
	return db.tx(ctx, "save deletion job", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO erase_jobs
			(id, site_id, status, error, user_kind, user_id, suppress, requested_at, receipt)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	})
}

// eraseJobArgs are a job's column values: the user's ID only while
// queued, the receipt without it.
func eraseJobArgs(j store.EraseJob) ([]any, error) {
	userID := j.User.ID
	if j.Status != store.EraseQueued {
		userID = ""
	}
	var receipt *string
	if j.Receipt != nil {
		r := *j.Receipt
		r.User.ID = ""
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encode receipt: %w", err)
		}
		s := string(b)
		receipt = &s
	}
	return []any{j.ID, j.SiteID, j.Status, j.Error, j.User.Kind, userID, j.Suppress, j.RequestedAt.UTC(), receipt}, nil
}

const eraseJobColumns = "id, site_id, status, error, user_kind, user_id, suppress, requested_at, receipt"

func scanEraseJob(row interface{ Scan(...any) error }) (store.EraseJob, error) {
	var j store.EraseJob
	var receipt sql.NullString
	if err := row.Scan(&j.ID, &j.SiteID, &j.Status, &j.Error, &j.User.Kind, &j.User.ID, &j.Suppress, &j.RequestedAt, &receipt); err != nil {
		return j, err
	}
	if receipt.Valid {
		var r store.Erasure
		if err := json.Unmarshal([]byte(receipt.String), &r); err != nil {
			return j, fmt.Errorf("decode receipt of deletion job %s: %w", j.ID, err)
		}
		r.SiteID = j.SiteID
		j.Receipt = &r
	}
	return j, nil
}

// EraseJob implements store.EraseJobs.
func (db *DB) EraseJob(ctx context.Context, site int64, id string) (store.EraseJob, error) {
	j, err := scanEraseJob(db.sql.QueryRowContext(ctx, "SELECT "+eraseJobColumns+" FROM erase_jobs WHERE site_id = ? AND id = ?", site, id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, fmt.Errorf("deletion job %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("read deletion job: %w", err)
	}
	return j, nil
}

// UnfinishedEraseJobs implements store.EraseJobs.
func (db *DB) UnfinishedEraseJobs(ctx context.Context) ([]store.EraseJob, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+eraseJobColumns+` FROM erase_jobs
		WHERE status IN ('queued', 'scrubbing') ORDER BY requested_at, id`)
	if err != nil {
		return nil, fmt.Errorf("read deletion jobs: %w", err)
	}
	defer rows.Close()
	var out []store.EraseJob
	for rows.Next() {
		j, err := scanEraseJob(rows)
		if err != nil {
			return nil, fmt.Errorf("read deletion jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// markJobDeleted marks a job scrubbing with its receipt, in the
// transaction that deleted its user's rows (on the write connection), and
// blanks the user's ID it kept.
func (db *DB) markJobDeleted(ctx context.Context, job string, r store.Erasure) error {
	if job == "" {
		return nil
	}
	r.User.ID = ""
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode receipt: %w", err)
	}
	_, err = db.wconn.ExecContext(ctx, "UPDATE erase_jobs SET status = 'scrubbing', error = '', user_id = '', receipt = ? WHERE id = ?",
		string(b), job)
	if err != nil {
		return fmt.Errorf("mark deletion job: %w", err)
	}
	return nil
}

// markJobsScrubbed marks done the jobs whose rows were deleted (scrubbing,
// or failed in the scrub) once the files are scrubbed, on the write
// connection: at the end of a scrub, so that a job a crash interrupted
// after its rows went is done when the next start scrubs.
func (db *DB) markJobsScrubbed(ctx context.Context, at time.Time) error {
	_, err := db.wconn.ExecContext(ctx, `UPDATE erase_jobs SET status = 'done', error = '',
		receipt = json_merge_patch(receipt, json_object('rewritten', true, 'done_at', strftime(?::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ')))::VARCHAR
		WHERE receipt IS NOT NULL AND (status = 'scrubbing' OR status = 'failed')`, at.UTC())
	if err != nil {
		return fmt.Errorf("mark deletion jobs done: %w", err)
	}
	return nil
}
