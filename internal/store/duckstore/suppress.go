package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// suppressedSet is the hashes of the IDs deleted with suppression; Write
// drops messages naming one. Guarded by seqMu.
type suppressedSet map[int64]struct{}

func (db *DB) loadSuppressed(ctx context.Context) (suppressedSet, error) {
	set := suppressedSet{}
	rows, err := db.pool().QueryContext(ctx, "SELECT id_hash FROM suppressions")
	if err != nil {
		return nil, fmt.Errorf("load suppressed ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("load suppressed ids: %w", err)
		}
		set[h] = struct{}{}
	}
	return set, rows.Err()
}

// suppressedMessage says whether m names a suppressed ID, as its user ID,
// anonymous ID or, for an alias, previous ID (of either kind).
func (s suppressedSet) suppressedMessage(m *store.Message) bool {
	if len(s) == 0 {
		return false
	}
	has := func(kind uint8, id string) bool {
		if id == "" {
			return false
		}
		_, ok := s[idHash(m.SiteID, kind, id)]
		return ok
	}
	return has(idUser, m.UserID) || has(idAnon, m.AnonymousID) ||
		has(idUser, m.PreviousID) || has(idAnon, m.PreviousID)
}

// suppress records the hashes, in the erasure's transaction on the write
// connection; the caller adds them to the sequencer once committed.
func (db *DB) suppress(ctx context.Context, site int64, hashes []int64, at time.Time) error {
	_, err := db.wconn.ExecContext(ctx, `INSERT INTO suppressions SELECT ?, unnest(?::BIGINT[]), ?
		ON CONFLICT DO NOTHING`, site, hashes, at)
	if err != nil {
		return fmt.Errorf("record suppressed ids: %w", err)
	}
	return nil
}

// suppressedWarning is the outcome of a message Write dropped.
var suppressedWarning = store.Warning{Code: "suppressed", Field: "userId",
	Message: "this ID was deleted at its owner's request with suppression; its messages are not stored"}
