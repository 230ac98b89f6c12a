package duckstore

import (
	"context"
	"fmt"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// click_selectors (schema/132_click_selectors.sql) holds each selector's
// text by its key, written with the clicks: the first row of a key since
// the store opened appends its text, in the transaction that appends the
// clicks.

// maxSelectorsSeen bounds the keys remembered as written; past it the set
// is cleared, and keys are written again (readers group the repeats).
const maxSelectorsSeen = 1 << 17

// selectorRow is a row of click_selectors.
type selectorRow struct {
	site, key int64
	text      string
}

// clickSelectors remembers the selector keys written since the store
// opened.
type clickSelectors struct {
	mu   sync.Mutex
	seen map[[2]int64]struct{}
}

// note adds a selector to out unless its key was written since the store
// opened (or out has it).
func (c *clickSelectors) note(site, key int64, text string, out *[]selectorRow) {
	if key == 0 || text == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := [2]int64{site, key}
	if _, ok := c.seen[k]; ok {
		return
	}
	if c.seen == nil || len(c.seen) >= maxSelectorsSeen {
		c.seen = map[[2]int64]struct{}{}
	}
	c.seen[k] = struct{}{}
	*out = append(*out, selectorRow{site, key, text})
}

// forget clears the keys remembered: after the table is rebuilt.
func (c *clickSelectors) forget() {
	c.mu.Lock()
	c.seen = nil
	c.mu.Unlock()
}

// selectorsSpec appends the selectors noted in rows (filled by the clicks'
// spec before it runs) to click_selectors. n is the clicks appended: an
// upper bound, since rows are only known after them.
func selectorsSpec(n int, rows *[]selectorRow) appendSpec {
	return appendSpec{"click_selectors", n, func(app *duckdb.Appender) error {
		for _, r := range *rows {
			if err := app.AppendRow(r.site, r.key, r.text); err != nil {
				return err
			}
		}
		return nil
	}}
}

// orphanSelectors deletes a site's selector texts that no click has any
// more (after an erasure or retention). Its arguments are the site and
// one more, unused (the retention's cutoff).
const orphanSelectors = `DELETE FROM click_selectors s WHERE s.site_id = ? AND (? IS NULL OR true)
	AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.site_id = s.site_id AND c.sel_key = s.sel_key)`

// foldClickSelectors folds click_selectors into one row a key when its
// repeats are many: more than twice its keys, and 10,000.
func (db *DB) foldClickSelectors(ctx context.Context) error {
	var rows, keys int64
	if err := db.wconn.QueryRowContext(ctx, `SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT site_id, sel_key FROM click_selectors))
		FROM click_selectors`).Scan(&rows, &keys); err != nil {
		return fmt.Errorf("count the selectors: %w", err)
	}
	if rows <= 2*keys || rows <= 10_000 {
		return nil
	}
	err := db.inTx(ctx, func() error {
		for _, q := range []string{
			`CREATE OR REPLACE TEMP TABLE click_selectors_folded AS
				SELECT site_id, sel_key, min(selector) AS selector FROM click_selectors GROUP BY site_id, sel_key`,
			"DELETE FROM click_selectors",
			"INSERT INTO click_selectors SELECT * FROM click_selectors_folded",
			"DROP TABLE click_selectors_folded",
		} {
			if _, err := db.wconn.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fold the selectors: %w", err)
	}
	db.log.Info("click selectors folded", "rows", rows, "keys", keys)
	return nil
}
