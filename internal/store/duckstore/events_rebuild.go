package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
)

// markEventCatalogStale records, in its own transaction, that the catalog
// may stop describing the events until clearEventCatalogStale, such as
// while a bulk load commits chunks of events. The caller holds wmu.
func (db *DB) markEventCatalogStale(ctx context.Context, reason string) error {
	if _, err := db.wconn.ExecContext(ctx, "INSERT INTO event_catalog_stale VALUES (?, ?)",
		time.Now().UTC(), reason); err != nil {
		return fmt.Errorf("mark the event catalog stale: %w", err)
	}
	return nil
}

// rebuildEventCatalogIfStale rebuilds the event catalog from the events
// when a row of event_catalog_stale says it may not describe them: on the
// first start after the catalog's migration, and after a bulk load that
// failed or was killed. The caller holds wmu (or is opening the store).
func (db *DB) rebuildEventCatalogIfStale(ctx context.Context) error {
	var stale int
	if err := db.wconn.QueryRowContext(ctx, "SELECT count(*) FROM event_catalog_stale").Scan(&stale); err != nil {
		return fmt.Errorf("read the event catalog's state: %w", err)
	}
	if stale == 0 {
		return nil
	}
	return db.rebuildEventCatalog(ctx)
}

// rebuildEventCatalog replaces the whole event catalog with one built from
// the events table, with the aggregation the applier uses, and clears
// event_catalog_stale in the same transaction. It reads every event once.
func (db *DB) rebuildEventCatalog(ctx context.Context) error {
	start := time.Now()
	agg, n, err := db.aggregateEvents(ctx)
	if err != nil {
		return err
	}
	err = db.inTx(ctx, func() error {
		for _, q := range []string{"DELETE FROM event_catalog", "DELETE FROM event_properties", "DELETE FROM event_catalog_stale"} {
			if _, err := db.wconn.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return db.appendEventCatalog(agg)
	})
	if err != nil {
		return fmt.Errorf("rebuild the event catalog: %w", err)
	}
	db.log.Info("event catalog rebuilt from the events", "events", n, "names", agg.Len(),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// aggregateEvents reads every catalogued event and aggregates them.
// Events with the same name, kind and properties are read as one row
// with their count, which DuckDB groups faster than the rows can cross
// into Go one by one.
func (db *DB) aggregateEvents(ctx context.Context) (*eventcat.Batch, int64, error) {
	rows, err := db.wconn.QueryContext(ctx, `SELECT site_id, kind, name, properties, count(*), min(ts), max(ts),
			bit_or(1::UTINYINT << source)
		FROM events WHERE kind IN (?, ?, ?) GROUP BY ALL`,
		int(store.KindTrack), int(store.KindPage), int(store.KindScreen))
	if err != nil {
		return nil, 0, fmt.Errorf("read events for the event catalog: %w", err)
	}
	defer rows.Close()
	var agg eventcat.Batch
	var total int64
	var site, count int64
	var kind, sources uint8
	var name, props string
	var first, last time.Time
	for rows.Next() {
		if err := rows.Scan(&site, &kind, &name, &props, &count, &first, &last, &sources); err != nil {
			return nil, 0, fmt.Errorf("read events for the event catalog: %w", err)
		}
		agg.Add(site, store.Kind(kind), name, first.UTC(), last.UTC(), count, eventcat.Sources(sources), props)
		total += count
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read events for the event catalog: %w", err)
	}
	return &agg, total, nil
}

// closeEventCatalog brings the catalog up to date at the end of a bulk
// load: with the load's aggregate when every chunk committed (loadErr is
// nil), else by a rebuild, since some chunks may have committed.
func (b *Bulk) closeEventCatalog(ctx context.Context, loadErr error) error {
	db := b.db
	if loadErr != nil {
		return db.rebuildEventCatalog(ctx)
	}
	err := db.inTx(ctx, func() error {
		if err := db.appendEventCatalog(&b.events); err != nil {
			return err
		}
		_, err := db.wconn.ExecContext(ctx, "DELETE FROM event_catalog_stale")
		return err
	})
	if err != nil {
		return fmt.Errorf("add the bulk load's events to the event catalog: %w", err)
	}
	return nil
}
