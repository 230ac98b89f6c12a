package duckstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
)

var _ store.EventCatalog = (*DB)(nil)

// The event catalog (tables event_catalog and event_properties) is kept
// by every path that stores events, in the transaction that stores them:
// the applier adds each batch's aggregate (so the catalog is as fresh as
// the events and a replayed batch is added exactly once, with its LSN),
// a bulk load adds its aggregate when it finishes. Where that cannot hold
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

// upsertEventCatalog adds an aggregate to the catalog: two statements
// whose size is the number of distinct events and properties in it, not
// the number of events.
func upsertEventCatalog(ctx context.Context, conn querier, agg *eventcat.Batch) error {
	if agg.Len() == 0 {
		return nil
	}
	n := agg.Len()
	sites, kinds, names := make([]int64, 0, n), make([]int64, 0, n), make([]string, 0, n)
	counts, sources := make([]int64, 0, n), make([]int64, 0, n)
	firsts, lasts := make([]time.Time, 0, n), make([]time.Time, 0, n)
	var pSites, pKinds, pTypes, pCounts []int64
	var pNames, pKeys, pSamples []string
	for k, e := range agg.Events {
		sites, kinds, names = append(sites, k.Site), append(kinds, int64(k.Kind)), append(names, k.Name)
		counts, sources = append(counts, e.Count), append(sources, int64(e.Sources))
		firsts, lasts = append(firsts, e.First.UTC()), append(lasts, e.Last.UTC())
		for key, p := range e.Properties {
			samples, err := json.Marshal(p.Samples)
			if err != nil {
				return fmt.Errorf("encode property samples: %w", err)
			}
			if p.Samples == nil {
				samples = []byte("[]")
			}
			pSites, pKinds, pNames = append(pSites, k.Site), append(pKinds, int64(k.Kind)), append(pNames, k.Name)
			pKeys, pTypes, pCounts = append(pKeys, key), append(pTypes, int64(p.Types)), append(pCounts, p.Count)
			pSamples = append(pSamples, string(samples))
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO event_catalog
		SELECT * FROM (SELECT unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::BIGINT[]),
			unnest(?::TIMESTAMP[]), unnest(?::TIMESTAMP[]), unnest(?::BIGINT[]))
		ON CONFLICT (site_id, kind, name) DO UPDATE SET
			events = event_catalog.events + excluded.events,
			first_seen = least(event_catalog.first_seen, excluded.first_seen),
			last_seen = greatest(event_catalog.last_seen, excluded.last_seen),
			sources = event_catalog.sources | excluded.sources`,
		sites, kinds, names, counts, firsts, lasts, sources); err != nil {
		return fmt.Errorf("add to the event catalog: %w", err)
	}
	if len(pSites) == 0 {
		return nil
	}
	// A new key is added while its event has fewer than MaxProperties
	// (a batch can overshoot by its own new keys, which it caps too);
	// samples fill up to MaxSamples distinct values and then stay.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO event_properties
		SELECT x.s, x.k, x.n, x.key, x.t, x.c, CAST(from_json(x.sm, '["VARCHAR"]') AS VARCHAR[])
		FROM (SELECT unnest(?::BIGINT[]) AS s, unnest(?::BIGINT[]) AS k, unnest(?::VARCHAR[]) AS n,
			unnest(?::VARCHAR[]) AS key, unnest(?::BIGINT[]) AS t, unnest(?::BIGINT[]) AS c,
			unnest(?::VARCHAR[]) AS sm) x
		LEFT JOIN (SELECT site_id, kind, name, count(*) AS keys FROM event_properties GROUP BY ALL) have
			ON have.site_id = x.s AND have.kind = x.k AND have.name = x.n
		WHERE coalesce(have.keys, 0) < %[1]d OR EXISTS (SELECT 1 FROM event_properties p
			WHERE p.site_id = x.s AND p.kind = x.k AND p.name = x.n AND p.key = x.key)
		ON CONFLICT (site_id, kind, name, key) DO UPDATE SET
			types = event_properties.types | excluded.types,
			events = event_properties.events + excluded.events,
			samples = CASE WHEN len(event_properties.samples) >= %[2]d THEN event_properties.samples
				ELSE list_slice(list_concat(event_properties.samples,
					list_filter(excluded.samples, lambda v: NOT list_contains(event_properties.samples, v))), 1, %[2]d) END`,
		eventcat.MaxProperties, eventcat.MaxSamples),
		pSites, pKinds, pNames, pKeys, pTypes, pCounts, pSamples); err != nil {
		return fmt.Errorf("add to the event property catalog: %w", err)
	}
	return nil
}

// Events implements store.EventCatalog.
func (db *DB) Events(ctx context.Context, site int64, properties bool) ([]store.EventInfo, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT kind, name, events, first_seen, last_seen, sources
		FROM event_catalog WHERE site_id = ? ORDER BY kind, name`, site)
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
	prows, err := db.sql.QueryContext(ctx, `SELECT kind, name, key, types, events, samples
		FROM event_properties WHERE site_id = ? ORDER BY kind, name, key`, site)
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
