package duckstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/store"
)

// ImportRecordings indexes whole recordings whose chunk blobs are stored,
// in one transaction: the rows that StartRecording and AddRecordingChunk
// would have left once every chunk was uploaded. It is for recordings made
// elsewhere (the demo's), where a transaction per chunk would be slow. The
// recordings' IDs must be new; no quota applies.
func (db *DB) ImportRecordings(ctx context.Context, recs []store.ImportedRecording) error {
	defer db.writing()()
	var chunks int
	for i := range recs {
		if recs[i].ID == "" || len(recs[i].Chunks) == 0 {
			return fmt.Errorf("BUG: import recording %d without an ID or chunks", i)
		}
		chunks += len(recs[i].Chunks)
	}
	db.recMu.Lock()
	defer db.recMu.Unlock()
	conn, err := db.pool().Conn(ctx)
	if err != nil {
		return fmt.Errorf("import recordings: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("import recordings: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		return appendAll(dc.(driver.Conn), []appendSpec{{"recordings", len(recs), func(app *duckdb.Appender) error {
			for i := range recs {
				if err := app.AppendRow(recordingRow(&recs[i])...); err != nil {
					return err
				}
			}
			return nil
		}}, {"recording_chunks", chunks, func(app *duckdb.Appender) error {
			for i := range recs {
				for _, c := range recs[i].Chunks {
					if err := app.AppendRow(recs[i].ID, int32(c.Seq), utc(c.Start), utc(c.End), int32(c.Events),
						c.BytesStored, c.BytesRaw, utc(c.End)); err != nil {
						return err
					}
				}
			}
			return nil
		}}})
	})
	if err == nil {
		_, err = conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("import recordings: %w", err)
	}
	return nil
}

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// recordingRow is an imported recording as appended to recordings; the
// column order follows the schema. Times, sizes, the first URL and the
// pages come from its chunks.
func recordingRow(r *store.ImportedRecording) []driver.Value {
	var userHash int64
	if r.UserID != "" {
		userHash = idHash(r.SiteID, idUser, r.UserID)
	}
	start, end := r.Chunks[0].Start, r.Chunks[0].End
	var stored, raw int64
	first := int32(-1)
	firstURL := ""
	pages := []string{}
	seen := map[string]bool{}
	for _, c := range r.Chunks {
		start, end = minTime(start, c.Start), maxTime(end, c.End)
		stored += c.BytesStored
		raw += c.BytesRaw
		for _, p := range c.Pages {
			if !seen[p] {
				seen[p] = true
				pages = append(pages, p)
			}
		}
		if len(c.Pages) > 0 && (first < 0 || int32(c.Seq) < first) {
			first, firstURL = int32(c.Seq), c.Pages[0]
		}
	}
	if first < 0 {
		first = 2147483647 // as StartRecording leaves it: no chunk gave a URL
	}
	return []driver.Value{r.ID, r.SiteID, r.BrowserSession, r.AnonymousID, idHash(r.SiteID, idAnon, r.AnonymousID),
		r.UserID, userHash, utc(r.CreatedAt), utc(start), utc(end), int32(len(r.Chunks)), stored, raw, first,
		firstURL, pages}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
