package scaled

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
)

var (
	_ recording.Index    = (*DB)(nil)
	_ recording.Reader   = (*DB)(nil)
	_ recording.Remover  = (*DB)(nil)
	_ recording.Importer = (*DB)(nil)
)

// The recordings' index is decided in PostgreSQL (recording_index and
// recording_chunks, pgstore's migration 040): a chunk is indexed once
// however many nodes receive it, as its row's primary key says, and its
// recording's row is updated under a row lock. Each change sends the
// recording's new row to ClickHouse's recordings (a ReplacingMergeTree
// whose version is the chunk count), where the listing joins it with
// sessions and events; a deletion sends a last version marked deleted.
// Chunks, the deletions' outbox and the links to survey answers are read
// from PostgreSQL.

// deletedVersion is the version of a deleted recording's last row in
// ClickHouse: above any chunk count.
const deletedVersion = 1 << 62

// indexRow is a recording's row of recording_index.
type indexRow struct {
	store.Recording
	firstSeq  int
	pageList  []string
	deletedAt time.Time // zero unless deleted
}

const indexColumns = `id, site_id, browser_session, anonymous_id, user_id, created_at, started_at, ended_at, chunk_count,
	bytes_stored, bytes_raw, first_seq, first_url, pages`

func scanIndexRow(r pgx.Row) (indexRow, error) {
	var x indexRow
	err := r.Scan(&x.ID, &x.SiteID, &x.BrowserSession, &x.AnonymousID, &x.UserID, &x.CreatedAt, &x.StartedAt, &x.EndedAt,
		&x.Chunks, &x.BytesStored, &x.BytesRaw, &x.firstSeq, &x.FirstURL, &x.pageList)
	x.CreatedAt, x.StartedAt, x.EndedAt = x.CreatedAt.UTC(), x.StartedAt.UTC(), x.EndedAt.UTC()
	x.Pages = len(x.pageList)
	return x, err
}

// chRecording queues a recording's row for ClickHouse.
func (r *chRows) recording(x indexRow) {
	var userHash int64
	if x.UserID != "" {
		userHash = store.IDHash(x.SiteID, idUser, x.UserID)
	}
	version, deleted := uint64(x.Chunks), uint8(0)
	if !x.deletedAt.IsZero() {
		version, deleted = deletedVersion, 1
	}
	pages := x.pageList
	if pages == nil {
		pages = []string{}
	}
	r.add("recordings", x.SiteID, x.ID, x.BrowserSession, x.AnonymousID, store.IDHash(x.SiteID, idAnon, x.AnonymousID),
		x.UserID, userHash, micros(x.CreatedAt), micros(x.StartedAt), micros(x.EndedAt), int32(x.Chunks), x.BytesStored,
		x.BytesRaw, int32(x.firstSeq), x.FirstURL, pages, version, deleted)
}

// IndexRecording adds the index row of a recording the control half
// admitted (composite.Hooks); it reports whether the row is new.
func (db *DB) IndexRecording(ctx context.Context, rec store.Recording) (bool, error) {
	at := rec.CreatedAt.UTC().Truncate(time.Microsecond)
	tag, err := db.pg.Exec(ctx, `INSERT INTO recording_index (id, site_id, browser_session, anonymous_id, user_id, created_at,
			started_at, ended_at, chunk_count, bytes_stored, bytes_raw, first_seq, first_url, pages)
		VALUES ($1, $2, $3, $4, '', $5, $5, $5, 0, 0, 0, 2147483647, '', '{}') ON CONFLICT (id) DO NOTHING`,
		rec.ID, rec.SiteID, rec.BrowserSession, rec.AnonymousID, at)
	if err != nil {
		return false, fmt.Errorf("index recording: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// HasRecordingChunk reports whether a chunk is stored.
func (db *DB) HasRecordingChunk(ctx context.Context, recording string, seq int) (bool, error) {
	var has bool
	err := db.pg.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM recording_chunks WHERE recording_id = $1 AND seq = $2)",
		recording, seq).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("look up chunk: %w", err)
	}
	return has, nil
}

// AddRecordingChunk indexes a chunk whose blob is stored, updating its
// recording's times, sizes, user, first URL and pages. It reports false
// when the chunk was indexed before (the first stays), and an error
// wrapping store.ErrNotFound when the recording was deleted meanwhile.
func (db *DB) AddRecordingChunk(ctx context.Context, site int64, c store.RecordingChunk, receivedAt time.Time) (bool, error) {
	added := false
	err := db.inTx(ctx, func(t *txn) error {
		x, err := scanIndexRow(t.tx.QueryRow(ctx, "SELECT "+indexColumns+` FROM recording_index
			WHERE id = $1 AND site_id = $2 FOR UPDATE`, c.RecordingID, site))
		if errNoRows(err) {
			return fmt.Errorf("recording %s: %w", c.RecordingID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("look up recording: %w", err)
		}
		start, end := c.Start.UTC().Truncate(time.Microsecond), c.End.UTC().Truncate(time.Microsecond)
		tag, err := t.tx.Exec(ctx, `INSERT INTO recording_chunks (recording_id, seq, site_id, started_at, ended_at, events,
				bytes_stored, bytes_raw, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
			c.RecordingID, c.Seq, site, start, end, c.Events, c.BytesStored, c.BytesRaw, receivedAt.UTC().Truncate(time.Microsecond))
		if err != nil {
			return fmt.Errorf("index chunk: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil // indexed before
		}
		added = true
		x.addChunk(c, start, end)
		if _, err := t.tx.Exec(ctx, `UPDATE recording_index SET started_at = $2, ended_at = $3, chunk_count = $4,
				bytes_stored = $5, bytes_raw = $6, user_id = $7, first_seq = $8, first_url = $9, pages = $10 WHERE id = $1`,
			x.ID, x.StartedAt, x.EndedAt, x.Chunks, x.BytesStored, x.BytesRaw, x.UserID, x.firstSeq, x.FirstURL, x.pageList); err != nil {
			return fmt.Errorf("update recording: %w", err)
		}
		t.rows.recording(x)
		t.causes = append(t.causes, store.AlertCause{SiteID: site, Kind: store.CauseRecording, Ref: c.RecordingID})
		return t.finish()
	})
	return added, err
}

// addChunk adds a chunk to the recording's row: its times, sizes, the
// first user ID a chunk carried, the URL of the lowest chunk that showed
// one, and the distinct pages in order of arrival.
func (x *indexRow) addChunk(c store.RecordingChunk, start, end time.Time) {
	if x.Chunks == 0 {
		x.StartedAt, x.EndedAt = start, end
	} else {
		x.StartedAt, x.EndedAt = minTime(x.StartedAt, start), maxTime(x.EndedAt, end)
	}
	x.Chunks++
	x.BytesStored += c.BytesStored
	x.BytesRaw += c.BytesRaw
	if x.UserID == "" {
		x.UserID = c.UserID
	}
	if len(c.Pages) > 0 && c.Seq < x.firstSeq {
		x.firstSeq, x.FirstURL = c.Seq, c.Pages[0]
	}
	for _, p := range c.Pages {
		if !slices.Contains(x.pageList, p) {
			x.pageList = append(x.pageList, p)
		}
	}
	x.Pages = len(x.pageList)
}

// ImportRecordings indexes whole recordings whose chunk blobs are stored,
// in one transaction: the rows that IndexRecording and AddRecordingChunk
// would have left once every chunk was uploaded. The recordings' IDs must
// be new; no quota applies (the composite admits them after).
func (db *DB) ImportRecordings(ctx context.Context, recs []store.ImportedRecording) error {
	for i := range recs {
		if recs[i].ID == "" || len(recs[i].Chunks) == 0 {
			return fmt.Errorf("BUG: import recording %d without an ID or chunks", i)
		}
	}
	return db.inTx(ctx, func(t *txn) error {
		for i := range recs {
			r := &recs[i]
			x := indexRow{Recording: store.Recording{ID: r.ID, SiteID: r.SiteID, BrowserSession: r.BrowserSession,
				AnonymousID: r.AnonymousID, UserID: r.UserID, CreatedAt: r.CreatedAt.UTC().Truncate(time.Microsecond)},
				firstSeq: 2147483647}
			for _, c := range r.Chunks {
				start, end := c.Start.UTC().Truncate(time.Microsecond), c.End.UTC().Truncate(time.Microsecond)
				c.UserID = ""
				x.addChunk(c, start, end)
				if _, err := t.tx.Exec(ctx, `INSERT INTO recording_chunks (recording_id, seq, site_id, started_at, ended_at, events,
						bytes_stored, bytes_raw, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $5)`,
					r.ID, c.Seq, r.SiteID, start, end, c.Events, c.BytesStored, c.BytesRaw); err != nil {
					return fmt.Errorf("import recording chunks: %w", err)
				}
			}
			if _, err := t.tx.Exec(ctx, `INSERT INTO recording_index (`+indexColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				x.ID, x.SiteID, x.BrowserSession, x.AnonymousID, x.UserID, x.CreatedAt, x.StartedAt, x.EndedAt, x.Chunks,
				x.BytesStored, x.BytesRaw, x.firstSeq, x.FirstURL, x.pageList); err != nil {
				return fmt.Errorf("import recordings: %w", err)
			}
			t.rows.recording(x)
		}
		return t.finish()
	})
}

// RecordingChunks lists a recording's stored chunks in seq order.
func (db *DB) RecordingChunks(ctx context.Context, site int64, recording string) ([]store.RecordingChunk, error) {
	var exists bool
	if err := db.pg.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM recording_index WHERE id = $1 AND site_id = $2)",
		recording, site).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look up recording: %w", err)
	}
	if !exists {
		return nil, fmt.Errorf("recording %q: %w", recording, store.ErrNotFound)
	}
	rows, err := db.pg.Query(ctx, `SELECT seq, started_at, ended_at, events, bytes_stored, bytes_raw
		FROM recording_chunks WHERE recording_id = $1 ORDER BY seq`, recording)
	if err != nil {
		return nil, fmt.Errorf("list chunks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.RecordingChunk, error) {
		c := store.RecordingChunk{RecordingID: recording}
		err := r.Scan(&c.Seq, &c.Start, &c.End, &c.Events, &c.BytesStored, &c.BytesRaw)
		c.Start, c.End = c.Start.UTC(), c.End.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list chunks: %w", err)
	}
	return out, nil
}

// recordingUsers is PostgreSQL's recordings with the user each belongs to
// now: its user ID's entity, else its anonymous ID's, followed to the
// entity it was merged into; 0 when neither is known.
const recordingUsers = `SELECT r.*, coalesce(eu.merged_into, eu.key, ea.merged_into, ea.key, 0) AS user_key
	FROM recording_index r
	LEFT JOIN identities iu ON iu.site_id = r.site_id AND iu.kind = 1 AND iu.external_id = r.user_id AND r.user_id <> ''
	LEFT JOIN entities eu ON eu.key = iu.entity_key
	LEFT JOIN identities ia ON ia.site_id = r.site_id AND ia.kind = 2 AND ia.external_id = r.anonymous_id
	LEFT JOIN entities ea ON ea.key = ia.entity_key`

// linkSlack is how far outside a recording's first and last event a
// moment may lie and still be in it (duckstore's rule: the recorder
// uploads a chunk every few seconds).
const linkSlack = time.Minute

// RecordingsAt returns, for each moment, the recording that was playing
// in its browser session then, or "" when none was: of the session's
// recordings (named SESSION-TAB) the one whose span holds the moment, or
// is nearest to it within linkSlack, and of equals the one started last.
func (db *DB) RecordingsAt(ctx context.Context, site int64, moments []store.SessionMoment) ([]string, error) {
	out := make([]string, len(moments))
	var idx []int64
	var sessions []string
	var ats []time.Time
	for i, m := range moments {
		if m.Session != "" {
			idx, sessions, ats = append(idx, int64(i)), append(sessions, m.Session), append(ats, m.At.UTC())
		}
	}
	if len(idx) == 0 {
		return out, nil
	}
	rows, err := db.pg.Query(ctx, `SELECT DISTINCT ON (q.i) q.i, r.id
		FROM unnest($1::BIGINT[], $2::TEXT[], $3::TIMESTAMPTZ[]) AS q (i, s, t)
		JOIN recording_index r ON r.site_id = $4 AND r.chunk_count > 0 AND split_part(r.browser_session, '-', 1) = q.s
			AND r.started_at <= q.t + $5 * INTERVAL '1 millisecond' AND r.ended_at >= q.t - $5 * INTERVAL '1 millisecond'
		ORDER BY q.i, greatest(date_trunc('milliseconds', r.started_at) - date_trunc('milliseconds', q.t),
			date_trunc('milliseconds', q.t) - date_trunc('milliseconds', r.ended_at), INTERVAL '0'), r.started_at DESC, r.id`,
		idx, sessions, ats, site, linkSlack.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("find the recordings of answers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var id string
		if err := rows.Scan(&i, &id); err != nil {
			return nil, fmt.Errorf("find the recordings of answers: %w", err)
		}
		out[i] = id
	}
	return out, rows.Err()
}

// UsersWithRecordings returns which of the users (by key) have at least
// one recording with a stored chunk.
func (db *DB) UsersWithRecordings(ctx context.Context, site int64, keys []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pg.Query(ctx, `SELECT DISTINCT user_key FROM (`+recordingUsers+`) r
		WHERE r.site_id = $1 AND r.chunk_count > 0 AND r.user_key = ANY($2)`, site, keys)
	if err != nil {
		return nil, fmt.Errorf("find users with recordings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("find users with recordings: %w", err)
		}
		out[k] = true
	}
	return out, rows.Err()
}

// NewestRecordingStart implements store.Overview.
func (db *DB) NewestRecordingStart(ctx context.Context, site int64, n int) (time.Time, error) {
	var t time.Time
	err := db.pg.QueryRow(ctx, `SELECT started_at FROM recording_index WHERE site_id = $1 AND chunk_count > 0
		ORDER BY started_at DESC LIMIT 1 OFFSET $2`, site, n-1).Scan(&t)
	if errNoRows(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("find the newest recordings: %w", err)
	}
	return t.UTC(), nil
}

// prefixed puts prefix before each name of a comma-separated list.
func prefixed(prefix, names string) string {
	parts := strings.Split(names, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
