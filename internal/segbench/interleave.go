package segbench

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/store/duckstore"
)

// interleave rewrites the tables a user's membership reads in the order
// real traffic leaves them: events and sessions by time, attribute values
// and identities in no order of user (then Interleave puts the attribute
// tables back in the order the server keeps them in). `sightline gen` writes each day's
// rows user after user, so a table's zone maps (min/max per row group)
// skip most row groups when one user is asked for; after this they skip
// none. The rewritten tables lose their NOT NULL constraints: for a copy
// of benchmark data only.
var interleave = []string{
	"CREATE TABLE x AS SELECT * FROM events ORDER BY ts",
	"DROP TABLE events",
	"ALTER TABLE x RENAME TO events",
	"DROP VIEW all_sessions",
	"CREATE TABLE x AS SELECT * FROM sessions ORDER BY started_at",
	"DROP TABLE sessions",
	"ALTER TABLE x RENAME TO sessions",
	"CREATE VIEW all_sessions AS SELECT * FROM sessions UNION ALL SELECT * FROM open_sessions",
	"CREATE TABLE x AS SELECT * FROM attr_current ORDER BY hash(entity_key, key)",
	"DROP TABLE attr_current",
	"ALTER TABLE x RENAME TO attr_current",
	"CREATE TABLE x AS SELECT * FROM attr_history ORDER BY set_at",
	"DROP TABLE attr_history",
	"ALTER TABLE x RENAME TO attr_history",
	"CREATE TABLE x AS SELECT * FROM identities ORDER BY hash(external_id)",
	"DROP TABLE identities",
	"ALTER TABLE x RENAME TO identities",
	"CREATE TABLE x AS SELECT * FROM user_groups ORDER BY linked_at",
	"DROP TABLE user_groups",
	"ALTER TABLE x RENAME TO user_groups",
	"CHECKPOINT",
}

// Interleave rewrites a generated site's tables as real traffic would
// have ordered them (see interleave). It changes the database for good.
func Interleave(ctx context.Context, db *duckstore.DB) error {
	for _, q := range interleave {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			return fmt.Errorf("interleave: %s: %w", q, err)
		}
	}
	_, err := db.Cluster(ctx, true)
	return err
}
