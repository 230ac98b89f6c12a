package scaled

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// mapped returns a derived table of a site's rows of table read through
// the identity overrides, as the segment engine's ClickHouse dialect reads
// them (compiler.ClickHouse): column u is the user's key after merges,
// the other columns are cols of the table; where (with its arguments,
// appended after site's) filters the table's own rows, x being its alias.
// A merged user's rows are then the union of their keys' rows.
func mapped(table string, final bool, key string, cols []string, where string, site int64, args ...any) (string, []any) {
	var b strings.Builder
	b.WriteString("(SELECT if(o.into_key = 0, x." + key + ", o.into_key) AS u")
	for _, c := range cols {
		b.WriteString(", x." + c + " AS " + c)
	}
	b.WriteString(" FROM " + table + " AS x")
	if final {
		b.WriteString(" FINAL")
	}
	b.WriteString(" ANY LEFT JOIN (SELECT from_key, into_key FROM identity_overrides FINAL WHERE site_id = ?) AS o ON x." +
		key + " = o.from_key WHERE x.site_id = ?")
	if where != "" {
		b.WriteString(" AND (" + where + ")")
	}
	b.WriteString(")")
	return b.String(), append([]any{site, site}, args...)
}

// mutationWait bounds the wait for a deletion in ClickHouse: 18.16 runs
// ALTER … DELETE in the background.
const mutationWait = 2 * time.Minute

// deleteRows deletes the rows of table that where (with args) selects,
// and waits until ClickHouse has done so, so that no read after the call
// sees them. It returns how many there were.
func (db *DB) deleteRows(ctx context.Context, table, where string, args ...any) (int64, error) {
	var n uint64
	if err := db.ch.QueryRow(ctx, "SELECT count() FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s to delete: %w", table, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := db.ch.Exec(ctx, "ALTER TABLE "+table+" DELETE WHERE "+where, args...); err != nil {
		return 0, fmt.Errorf("delete from %s: %w", table, err)
	}
	return int64(n), db.waitMutations(ctx, table)
}

// waitMutations waits until table has no mutation left to run.
func (db *DB) waitMutations(ctx context.Context, table string) error {
	ctx, cancel := context.WithTimeout(ctx, mutationWait)
	defer cancel()
	pause := 5 * time.Millisecond
	for {
		var left uint64
		if err := db.ch.QueryRow(ctx, `SELECT count() FROM system.mutations
			WHERE database = currentDatabase() AND table = ? AND is_done = 0`, table).Scan(&left); err != nil {
			return fmt.Errorf("wait for the deletion from %s: %w", table, err)
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the deletion from %s: %w", table, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// day is a UTC day in ClickHouse's microseconds.
const day = int64(24 * time.Hour / time.Microsecond)
