package duckstore

import (
	"context"
	"database/sql/driver"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
)

var _ store.EventCatalog = (*DB)(nil)

// The event catalog (tables event_catalog and event_properties) is kept
// by every path that stores events, in the transaction that stores them:
// the applier appends each batch's aggregate (so the catalog is as fresh
// as the events and a replayed batch is added exactly once, with its
// LSN), a bulk load appends its aggregate when it finishes. Rows are
// partial sums that readers add up, folded now and then. Where that cannot hold
// — a database from before the catalog, a bulk load that failed or was
// killed — a row in event_catalog_stale says so, and the catalog is
// rebuilt from the events (see rebuildEventCatalog).

// eventCatalogBatch aggregates a batch's catalogued events.
func eventCatalogBatch(b *batch) *eventcat.Batch {
	var agg eventcat.Batch
	for i := range b.events {
		m := b.events[i].m
		if !eventcat.Catalogued(m.Kind) {
			continue
		}
		agg.Add(m.SiteID, m.Kind, m.Name, m.Timestamp, m.Timestamp, 1, eventcat.SourceBit(m.Source), m.Properties)
	}
	return &agg
}

// catalogRows counts the rows an aggregate appends to the catalog tables.
func catalogRows(agg *eventcat.Batch) (events, properties int) {
	for _, e := range agg.Events {
		properties += len(e.Properties)
	}
	return agg.Len(), properties
}

// eventCatalogSpecs appends an aggregate's rows to the catalog tables:
// partial sums, which readers add up.
func eventCatalogSpecs(agg *eventcat.Batch) []appendSpec {
	nEvents, nProps := catalogRows(agg)
	return []appendSpec{{"event_catalog", nEvents, func(app *duckdb.Appender) error {
		for k, e := range agg.Events {
			if err := app.AppendRow(k.Site, uint8(k.Kind), k.Name, e.Count, e.First.UTC(), e.Last.UTC(), uint8(e.Sources)); err != nil {
				return err
			}
		}
		return nil
	}}, {"event_properties", nProps, func(app *duckdb.Appender) error {
		for k, e := range agg.Events {
			for key, p := range e.Properties {
				samples := p.Samples
				if samples == nil {
					samples = []string{}
				}
				if err := app.AppendRow(k.Site, uint8(k.Kind), k.Name, key, uint8(p.Types), p.Count, samples); err != nil {
					return err
				}
			}
		}
		return nil
	}}}
}

// appendEventCatalog appends an aggregate on the write connection, in its
// open transaction.
func (db *DB) appendEventCatalog(agg *eventcat.Batch) error {
	return db.wconn.Raw(func(dc any) error { return appendAll(dc.(driver.Conn), eventCatalogSpecs(agg)) })
}

// catalogFoldAt is how many partial rows beyond one per key the catalog
// tables may hold before the applier folds them into one row per key:
// reads add up at most about this many more rows (a few milliseconds),
// and folding costs about as much, once every few thousand messages under
// light load.
const catalogFoldAt = 20_000

// The expressions that add partial rows up. Samples are the first
// MaxSamples of the distinct values, sorted, so that every reader shows
// the same ones.
var (
	catalogSums = `sum(events)::BIGINT AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
		bit_or(sources) AS sources`
	propertySums = fmt.Sprintf(`bit_or(types) AS types, sum(events)::BIGINT AS events,
		list_slice(list_sort(list_distinct(flatten(list(samples)))), 1, %d) AS samples`, eventcat.MaxSamples)
	// propertyCap keeps an event's MaxProperties most frequent keys.
	propertyCap = fmt.Sprintf(`QUALIFY row_number() OVER (PARTITION BY site_id, kind, name ORDER BY sum(events) DESC, key) <= %d`,
		eventcat.MaxProperties)
)

// foldEventCatalog replaces the catalog tables' partial rows by their
// sums, one row per key, in the caller's transaction, and returns how many
// rows remain.
func foldEventCatalog(ctx context.Context, conn querier) (int64, error) {
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE event_catalog_folded AS
			SELECT site_id, kind, name, ` + catalogSums + ` FROM event_catalog GROUP BY ALL`,
		`CREATE OR REPLACE TEMP TABLE event_properties_folded AS
			SELECT site_id, kind, name, key, ` + propertySums + ` FROM event_properties
			GROUP BY site_id, kind, name, key ` + propertyCap,
		"DELETE FROM event_catalog",
		"DELETE FROM event_properties",
		"INSERT INTO event_catalog SELECT * FROM event_catalog_folded",
		"INSERT INTO event_properties SELECT * FROM event_properties_folded",
		"DROP TABLE event_catalog_folded",
		"DROP TABLE event_properties_folded",
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("fold the event catalog: %w", err)
		}
	}
	n, _, err := countCatalogRows(ctx, conn)
	return n, err
}

// countCatalogRows counts the rows of the catalog tables, and their
// distinct keys.
func countCatalogRows(ctx context.Context, conn querier) (rows, keys int64, err error) {
	r, err := conn.QueryContext(ctx, `SELECT (SELECT count(*) FROM event_catalog) + (SELECT count(*) FROM event_properties),
		(SELECT count(*) FROM (SELECT DISTINCT site_id, kind, name FROM event_catalog)) +
		(SELECT count(*) FROM (SELECT DISTINCT site_id, kind, name, key FROM event_properties))`)
	if err != nil {
		return 0, 0, fmt.Errorf("count event catalog rows: %w", err)
	}
	defer r.Close()
	for r.Next() {
		if err := r.Scan(&rows, &keys); err != nil {
			return 0, 0, fmt.Errorf("count event catalog rows: %w", err)
		}
	}
	return rows, keys, r.Err()
}

// Events implements store.EventCatalog.
func (db *DB) Events(ctx context.Context, site int64, properties bool) ([]store.EventInfo, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT kind, name, `+catalogSums+`
		FROM event_catalog WHERE site_id = ? GROUP BY ALL ORDER BY kind, name`, site)
	if err != nil {
		return nil, fmt.Errorf("read the event catalog: %w", err)
	}
	defer rows.Close()
	var out []store.EventInfo
	index := map[store.EventName]int{}
	for rows.Next() {
		var e store.EventInfo
		var src uint8
		if err := rows.Scan(&e.Kind, &e.Name, &e.Count, &e.FirstSeen, &e.LastSeen, &src); err != nil {
			return nil, fmt.Errorf("read the event catalog: %w", err)
		}
		e.FirstSeen, e.LastSeen = e.FirstSeen.UTC(), e.LastSeen.UTC()
		e.Sources = eventcat.Sources(src).List()
		if properties {
			e.Properties = []store.EventProperty{}
		}
		index[e.EventName] = len(out)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the event catalog: %w", err)
	}
	if !properties {
		return out, nil
	}
	prows, err := db.pool().QueryContext(ctx, `SELECT kind, name, key, `+propertySums+`
		FROM event_properties WHERE site_id = ? GROUP BY site_id, kind, name, key `+propertyCap+`
		ORDER BY kind, name, key`, site)
	if err != nil {
		return nil, fmt.Errorf("read the event property catalog: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var en store.EventName
		var p store.EventProperty
		var types uint8
		var samples []any
		if err := prows.Scan(&en.Kind, &en.Name, &p.Key, &types, &p.Count, &samples); err != nil {
			return nil, fmt.Errorf("read the event property catalog: %w", err)
		}
		p.Types = eventcat.Types(types).Names()
		p.Samples = make([]string, 0, len(samples))
		for _, s := range samples {
			p.Samples = append(p.Samples, fmt.Sprint(s))
		}
		if i, ok := index[en]; ok {
			out[i].Properties = append(out[i].Properties, p)
		}
	}
	return out, prows.Err()
}
