package scaled

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
)

var (
	_ store.Eraser      = (*DB)(nil)
	_ store.EraseJobs   = (*DB)(nil)
	_ store.Submissions = (*DB)(nil)
)

// A user's erasure holds the site's lock in one PostgreSQL transaction,
// so that no node applies the site's messages meanwhile. ClickHouse's
// rows go first, each table's by a mutation that the call waits for
// (18.16 runs ALTER … DELETE in the background): should the process stop
// before the commit, the user is still known in PostgreSQL and deleting
// them again finishes the job; once it commits, nothing is left to find.

// userIDs are the external IDs and keys of one user.
type userIDs struct {
	keys         []int64 // the live key and the keys merged into it
	users, anons []string
	hashes       []int64
}

// idsOf reads a user's keys and external IDs in the transaction.
func (t *txn) idsOf(site, live int64) (userIDs, error) {
	ids := userIDs{users: []string{}, anons: []string{}}
	rows, err := t.tx.Query(t.ctx, "SELECT key FROM entities WHERE key = $1 OR merged_into = $1", live)
	if err != nil {
		return ids, fmt.Errorf("read the user's keys: %w", err)
	}
	if ids.keys, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return ids, fmt.Errorf("read the user's keys: %w", err)
	}
	rows, err = t.tx.Query(t.ctx, "SELECT kind, external_id FROM identities WHERE site_id = $1 AND entity_key = ANY($2)", site, ids.keys)
	if err != nil {
		return ids, fmt.Errorf("read the user's identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind int16
		var ext string
		if err := rows.Scan(&kind, &ext); err != nil {
			return ids, fmt.Errorf("read the user's identities: %w", err)
		}
		switch uint8(kind) {
		case idUser:
			ids.users = append(ids.users, ext)
		case idAnon:
			ids.anons = append(ids.anons, ext)
		}
		ids.hashes = append(ids.hashes, store.IDHash(site, uint8(kind), ext))
	}
	return ids, rows.Err()
}

// DeleteUser implements store.Eraser.
func (db *DB) DeleteUser(ctx context.Context, site int64, id store.Identity, opts store.EraseOptions) (store.Erasure, error) {
	kind, err := store.IdentityKind(id.Kind)
	if err != nil || kind == idGroup {
		return store.Erasure{}, fmt.Errorf("identity kind %q (want user or anonymous): %w", id.Kind, store.ErrInvalid)
	}
	if err := db.Sync(ctx); err != nil {
		return store.Erasure{}, err
	}
	started := db.now()
	var r store.Erasure
	err = db.inTx(ctx, func(t *txn) error {
		if err := t.lockSites([]int64{site}); err != nil {
			return err
		}
		live, ok, err := t.lookup(site, kind, id.ID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s %q: %w", id.Kind, id.ID, store.ErrNotFound)
		}
		ids, err := t.idsOf(site, live)
		if err != nil {
			return err
		}
		r = store.Erasure{SiteID: site, User: id, Identities: int64(len(ids.hashes)), Deleted: map[string]int64{},
			Suppressed: opts.Suppress, StartedAt: started}
		if err := db.deleteUserRows(t, site, live, ids, r.Deleted); err != nil {
			return err
		}
		if opts.Suppress {
			if _, err := t.tx.Exec(ctx, `INSERT INTO suppressed_ids (site_id, id_hash, suppressed_at)
				SELECT $1, h, $3 FROM unnest($2::BIGINT[]) AS h ON CONFLICT DO NOTHING`, site, ids.hashes, started); err != nil {
				return fmt.Errorf("record suppressed IDs: %w", err)
			}
		}
		if opts.Job != "" {
			kept := r
			kept.User.ID = ""
			b, err := json.Marshal(kept)
			if err != nil {
				return fmt.Errorf("encode receipt: %w", err)
			}
			if _, err := t.tx.Exec(ctx, "UPDATE erase_jobs SET status = 'scrubbing', error = '', user_id = '', receipt = $2 WHERE id = $1",
				opts.Job, string(b)); err != nil {
				return fmt.Errorf("mark deletion job: %w", err)
			}
		}
		t.touch = pgstore.Touch{Profile: ids.keys, Activity: ids.keys, Site: true, Surveys: true}
		return t.finish()
	})
	if err != nil {
		return store.Erasure{}, err
	}
	return r, nil
}

// deleteUserRows deletes the user's rows, counting them into n under the
// names of store.Erasure.Deleted: ClickHouse's first (waiting for each
// mutation), then PostgreSQL's in the transaction.
func (db *DB) deleteUserRows(t *txn, site, live int64, ids userIDs, n map[string]int64) error {
	ctx := t.ctx
	// The recordings go the way of every deletion: rows now, blobs by the
	// recording service through the outbox.
	rows, err := t.tx.Query(ctx, "SELECT r.id FROM ("+recordingUsers+") r WHERE r.site_id = $1 AND r.user_key = $2", site, live)
	if err != nil {
		return fmt.Errorf("find the user's recordings: %w", err)
	}
	recs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("find the user's recordings: %w", err)
	}
	if len(recs) > 0 {
		var chunks int64
		if err := t.tx.QueryRow(ctx, "SELECT count(*) FROM recording_chunks WHERE recording_id = ANY($1)", recs).
			Scan(&chunks); err != nil {
			return fmt.Errorf("count the user's recording chunks: %w", err)
		}
		list, err := t.indexRows("SELECT "+indexColumns+" FROM recording_index WHERE id = ANY($1) FOR UPDATE", recs)
		if err != nil {
			return err
		}
		for _, x := range list {
			x.deletedAt = t.now
			t.rows.recording(x)
		}
		if _, err := t.tx.Exec(ctx, `INSERT INTO recording_deletions (site_id, id, deleted_at) SELECT $1, i, $3 FROM unnest($2::TEXT[]) AS i
			ON CONFLICT DO NOTHING`, site, recs, t.now); err != nil {
			return fmt.Errorf("record the recordings' deletion: %w", err)
		}
		n["recordings"], n["recording_chunks"] = int64(len(recs)), chunks
	}
	// The user's message IDs leave the dedupe window too: a client's
	// message ID may say something about the user.
	msgRows, err := db.ch.Query(ctx, "SELECT DISTINCT message_id FROM events WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key) AND message_id != ''",
		site, ids.keys)
	if err != nil {
		return fmt.Errorf("read the user's message IDs: %w", err)
	}
	var msgIDs []string
	for msgRows.Next() {
		var m string
		if err := msgRows.Scan(&m); err != nil {
			msgRows.Close()
			return fmt.Errorf("read the user's message IDs: %w", err)
		}
		msgIDs = append(msgIDs, m)
	}
	msgRows.Close()
	if err := msgRows.Err(); err != nil {
		return fmt.Errorf("read the user's message IDs: %w", err)
	}
	// ClickHouse: every row under one of the user's keys.
	const keyIn = "site_id = ? AND has(CAST(? AS Array(Int64)), %s)"
	for _, d := range []struct{ kind, table, key, more string }{
		{"events", "events", "user_key", ""},
		{"", "clicks", "user_key", ""},
		{"", "user_days", "user_key", ""},
		{"", "event_days", "user_key", ""},
		{"", "sessions", "user_key", ""},
		{"", "attr_current", "entity_key", " AND entity = 0"},
		{"attribute_history", "attr_history", "entity_key", " AND entity = 0"},
		{"rejections", "attr_rejections", "entity_key", " AND entity = 0"},
		{"", "user_groups", "user_key", ""},
		{"", "identities", "entity_key", ""},
		{"", "identity_overrides", "from_key", ""},
	} {
		c, err := db.deleteRows(ctx, d.table, fmt.Sprintf(keyIn, d.key)+d.more, site, ids.keys)
		if err != nil {
			return err
		}
		if d.kind != "" {
			n[d.kind] += c
		}
	}
	if _, err := db.deleteRows(ctx, "identity_overrides", "site_id = ? AND has(CAST(? AS Array(Int64)), into_key)", site, ids.keys); err != nil {
		return err
	}
	// Surveys and feedback name the visitor by user ID, else anonymous ID.
	const visitor = "(user_id = ANY($2) OR anonymous_id = ANY($3))"
	var responses []string
	rows, err = t.tx.Query(ctx, "SELECT survey_id || '/' || response_id FROM survey_responses WHERE site_id = $1 AND "+visitor,
		site, ids.users, ids.anons)
	if err != nil {
		return fmt.Errorf("find the user's survey responses: %w", err)
	}
	if responses, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("find the user's survey responses: %w", err)
	}
	for _, table := range []string{"survey_responses", "survey_answers"} {
		if _, err := db.deleteRows(ctx, table, "site_id = ? AND has(CAST(? AS Array(String)), concat(survey_id, '/', response_id))",
			site, responses); err != nil {
			return err
		}
	}
	all := append(append([]string{}, ids.users...), ids.anons...)
	steps := []struct {
		kind string
		sql  string
		args []any
	}{
		{"survey_answers", `DELETE FROM survey_answers WHERE site_id = $1 AND survey_id || '/' || response_id = ANY($2)`,
			[]any{site, responses}},
		{"survey_responses", "DELETE FROM survey_responses WHERE site_id = $1 AND " + visitor, []any{site, ids.users, ids.anons}},
		{"survey_dismissals", "DELETE FROM survey_dismissals WHERE site_id = $1 AND " + visitor, []any{site, ids.users, ids.anons}},
		{"alert_causes", `DELETE FROM alert_causes WHERE site_id = $1 AND ((kind = 'recording' AND ref = ANY($2))
			OR (kind = 'response' AND ref = ANY($3))
			OR (kind = 'feedback' AND ref IN (SELECT id FROM feedback_items WHERE site_id = $1 AND (user_id = ANY($4) OR anonymous_id = ANY($5)))))`,
			[]any{site, recs, responses, ids.users, ids.anons}},
		{"feedback", "DELETE FROM feedback_items WHERE site_id = $1 AND " + visitor, []any{site, ids.users, ids.anons}},
		// Messages the store refused, set aside with a readable rendering
		// that names the visitor.
		{"quarantined", `DELETE FROM quarantine WHERE site_id = $1 AND (message::jsonb ->> 'userId' = ANY($2)
			OR message::jsonb ->> 'anonymousId' = ANY($3) OR message::jsonb ->> 'previousId' = ANY($4))`,
			[]any{site, ids.users, ids.anons, all}},
		{"recording_chunks", "DELETE FROM recording_chunks WHERE recording_id = ANY($1)", []any{recs}},
		{"recording_index", "DELETE FROM recording_index WHERE id = ANY($1)", []any{recs}},
		{"attributes", "DELETE FROM attr_values WHERE entity = 0 AND entity_key = ANY($1)", []any{ids.keys}},
		{"sessions", "DELETE FROM visit_sessions WHERE user_key = ANY($1) OR ch_user_key = ANY($1)", []any{ids.keys}},
		{"company_links", "DELETE FROM group_links WHERE user_key = ANY($1)", []any{ids.keys}},
		{"message_ids", "DELETE FROM message_ids WHERE site_id = $1 AND message_id = ANY($2)", []any{site, msgIDs}},
		{"identities", "DELETE FROM identities WHERE site_id = $1 AND entity_key = ANY($2)", []any{site, ids.keys}},
		{"entities", "DELETE FROM entities WHERE key = ANY($1)", []any{ids.keys}},
	}
	for _, s := range steps {
		tag, err := t.tx.Exec(ctx, s.sql, s.args...)
		if err != nil {
			return fmt.Errorf("delete %s: %w", s.kind, err)
		}
		switch s.kind {
		case "recording_chunks", "recording_index", "message_ids", "identities", "entities":
		default:
			n[s.kind] += tag.RowsAffected()
		}
	}
	return nil
}

// ScrubErased implements store.Eraser: ClickHouse's mutations rewrite the
// parts that held the deleted rows, and PostgreSQL's vacuum reclaims its
// dead rows, so what is left is this node's write-ahead log, whose
// applied segments are removed.
func (db *DB) ScrubErased(ctx context.Context) (int, error) {
	if err := db.Sync(ctx); err != nil {
		return 0, err
	}
	removed, err := db.scrubLog()
	if err != nil {
		return removed, err
	}
	// The jobs whose rows were deleted (on any node) are done.
	if _, err := db.pg.Exec(ctx, `UPDATE erase_jobs SET status = 'done', error = '',
		receipt = (receipt::jsonb || jsonb_build_object('done_at', $1::TIMESTAMPTZ))::TEXT
		WHERE receipt IS NOT NULL AND status IN ('scrubbing', 'failed')`, db.now()); err != nil {
		return removed, fmt.Errorf("mark deletion jobs done: %w", err)
	}
	return removed, nil
}

// SaveEraseJob implements store.EraseJobs.
func (db *DB) SaveEraseJob(ctx context.Context, j store.EraseJob) error {
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
			return fmt.Errorf("encode receipt: %w", err)
		}
		s := string(b)
		receipt = &s
	}
	_, err := db.pg.Exec(ctx, `INSERT INTO erase_jobs (id, site_id, status, error, user_kind, user_id, suppress, requested_at, receipt)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, status = excluded.status, error = excluded.error,
			user_kind = excluded.user_kind, user_id = excluded.user_id, suppress = excluded.suppress,
			requested_at = excluded.requested_at, receipt = excluded.receipt`,
		j.ID, j.SiteID, j.Status, j.Error, j.User.Kind, userID, j.Suppress, j.RequestedAt.UTC(), receipt)
	if err != nil {
		return fmt.Errorf("save deletion job: %w", err)
	}
	return nil
}

const eraseJobColumns = "id, site_id, status, error, user_kind, user_id, suppress, requested_at, receipt"

func scanEraseJob(row pgx.Row) (store.EraseJob, error) {
	var j store.EraseJob
	var receipt *string
	if err := row.Scan(&j.ID, &j.SiteID, &j.Status, &j.Error, &j.User.Kind, &j.User.ID, &j.Suppress, &j.RequestedAt, &receipt); err != nil {
		return j, err
	}
	j.RequestedAt = j.RequestedAt.UTC()
	if receipt != nil {
		var r store.Erasure
		if err := json.Unmarshal([]byte(*receipt), &r); err != nil {
			return j, fmt.Errorf("decode receipt of deletion job %s: %w", j.ID, err)
		}
		r.SiteID = j.SiteID
		j.Receipt = &r
	}
	return j, nil
}

// EraseJob implements store.EraseJobs.
func (db *DB) EraseJob(ctx context.Context, site int64, id string) (store.EraseJob, error) {
	j, err := scanEraseJob(db.pg.QueryRow(ctx, "SELECT "+eraseJobColumns+" FROM erase_jobs WHERE site_id = $1 AND id = $2", site, id))
	if errNoRows(err) {
		return j, fmt.Errorf("deletion job %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("read deletion job: %w", err)
	}
	return j, nil
}

// UnfinishedEraseJobs implements store.EraseJobs: the jobs queued or
// scrubbing, of every node, oldest first.
func (db *DB) UnfinishedEraseJobs(ctx context.Context) ([]store.EraseJob, error) {
	rows, err := db.pg.Query(ctx, "SELECT "+eraseJobColumns+` FROM erase_jobs
		WHERE status IN ('queued', 'scrubbing') ORDER BY requested_at, id`)
	if err != nil {
		return nil, fmt.Errorf("read deletion jobs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.EraseJob, error) { return scanEraseJob(r) })
	if err != nil {
		return nil, fmt.Errorf("read deletion jobs: %w", err)
	}
	return out, nil
}

// UserSubmissions implements store.Submissions.
func (db *DB) UserSubmissions(ctx context.Context, site int64, id store.Identity) (store.UserSubmissions, error) {
	out := store.UserSubmissions{Responses: []store.SubmittedResponse{}, Feedback: []store.SubmittedFeedback{}}
	m, err := db.memberOf(ctx, site, id)
	if err != nil {
		return out, err
	}
	var users, anons []string
	rows, err := db.pg.Query(ctx, "SELECT kind, external_id FROM identities WHERE site_id = $1 AND entity_key = ANY($2)", site, m.keys)
	if err != nil {
		return out, fmt.Errorf("read the user's identities: %w", err)
	}
	for rows.Next() {
		var kind int16
		var ext string
		if err := rows.Scan(&kind, &ext); err != nil {
			rows.Close()
			return out, fmt.Errorf("read the user's identities: %w", err)
		}
		if uint8(kind) == idUser {
			users = append(users, ext)
		} else if uint8(kind) == idAnon {
			anons = append(anons, ext)
		}
	}
	rows.Close()
	const visitor = "(user_id = ANY($2) OR anonymous_id = ANY($3))"
	rows, err = db.pg.Query(ctx, `SELECT survey_id, response_id, anonymous_id, user_id, url, answers, completed, created_at, updated_at
		FROM survey_responses WHERE site_id = $1 AND `+visitor+` ORDER BY created_at, response_id`, site, users, anons)
	if err != nil {
		return out, fmt.Errorf("read the user's survey responses: %w", err)
	}
	out.Responses, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SubmittedResponse, error) {
		var s store.SubmittedResponse
		var answers string
		err := r.Scan(&s.SurveyID, &s.ResponseID, &s.AnonymousID, &s.UserID, &s.URL, &answers, &s.Completed, &s.CreatedAt, &s.UpdatedAt)
		s.Answers, s.CreatedAt, s.UpdatedAt = json.RawMessage(answers), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
		return s, err
	})
	if err != nil {
		return out, fmt.Errorf("read the user's survey responses: %w", err)
	}
	rows, err = db.pg.Query(ctx, `SELECT id, anonymous_id, user_id, url, rating, comment, selector, created_at
		FROM feedback_items WHERE site_id = $1 AND `+visitor+` ORDER BY created_at, id`, site, users, anons)
	if err != nil {
		return out, fmt.Errorf("read the user's feedback: %w", err)
	}
	out.Feedback, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SubmittedFeedback, error) {
		var f store.SubmittedFeedback
		err := r.Scan(&f.ID, &f.AnonymousID, &f.UserID, &f.URL, &f.Rating, &f.Comment, &f.Selector, &f.CreatedAt)
		f.CreatedAt = f.CreatedAt.UTC()
		return f, err
	})
	if err != nil {
		return out, fmt.Errorf("read the user's feedback: %w", err)
	}
	if out.Responses == nil {
		out.Responses = []store.SubmittedResponse{}
	}
	if out.Feedback == nil {
		out.Feedback = []store.SubmittedFeedback{}
	}
	return out, nil
}
