package scaled

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
)

var _ store.EventCatalog = (*DB)(nil)

// The event catalog is kept as duckstore keeps it: each applied batch
// appends its aggregate (eventcat.Batch) to event_catalog and
// event_properties in ClickHouse, as partial sums that Events adds up.
// ClickHouse's background merges of the MergeTree keep the rows few
// enough; nothing folds them.

// Events implements store.EventCatalog.
func (db *DB) Events(ctx context.Context, site int64, properties bool) ([]store.EventInfo, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.ch.Query(ctx, `SELECT kind, name, sum(events), min(first_seen), max(last_seen), groupBitOr(sources)
		FROM event_catalog WHERE site_id = ? GROUP BY kind, name ORDER BY kind, name`, site)
	if err != nil {
		return nil, fmt.Errorf("read the event catalog: %w", err)
	}
	defer rows.Close()
	var out []store.EventInfo
	index := map[store.EventName]int{}
	for rows.Next() {
		var e store.EventInfo
		var kind, src uint8
		var first, last int64
		if err := rows.Scan(&kind, &e.Name, &e.Count, &first, &last, &src); err != nil {
			return nil, fmt.Errorf("read the event catalog: %w", err)
		}
		e.Kind, e.FirstSeen, e.LastSeen = store.Kind(kind), fromMicros(first), fromMicros(last)
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
	// An event keeps its MaxProperties most frequent keys; samples are
	// the first MaxSamples of the distinct values, sorted, as duckstore
	// shows them.
	prows, err := db.ch.Query(ctx, `SELECT kind, name, key, groupBitOr(types), sum(events) AS n,
			arraySlice(arraySort(groupUniqArrayArray(samples)), 1, ?)
		FROM event_properties WHERE site_id = ? GROUP BY kind, name, key
		ORDER BY kind, name, n DESC, key LIMIT ? BY kind, name`, eventcat.MaxSamples, site, eventcat.MaxProperties)
	if err != nil {
		return nil, fmt.Errorf("read the event property catalog: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var kind, types uint8
		var en store.EventName
		var p store.EventProperty
		if err := prows.Scan(&kind, &en.Name, &p.Key, &types, &p.Count, &p.Samples); err != nil {
			return nil, fmt.Errorf("read the event property catalog: %w", err)
		}
		en.Kind = store.Kind(kind)
		p.Types = eventcat.Types(types).Names()
		if p.Samples == nil {
			p.Samples = []string{}
		}
		if i, ok := index[en]; ok {
			out[i].Properties = append(out[i].Properties, p)
		}
	}
	if err := prows.Err(); err != nil {
		return nil, fmt.Errorf("read the event property catalog: %w", err)
	}
	for i := range out {
		slices.SortFunc(out[i].Properties, func(a, b store.EventProperty) int { return cmp.Compare(a.Key, b.Key) })
	}
	return out, nil
}

// usersKeepFactor: an EventUsers answer is kept for this many times what
// it cost, and at least Options.EventUsersKeep (duckstore's rule), so
// that counting takes at most a twentieth of the time under constant
// asking.
const usersKeepFactor = 20

// userCounts keeps the last EventUsers answer of each site.
type userCounts struct {
	mu    sync.Mutex
	sites map[int64]keptUsers
}

type keptUsers struct {
	val   store.EventUsers
	until time.Time
}

// EventUsers implements store.EventCatalog: the distinct users (after
// merges) of each event, counted exactly below usersExactBelow events and
// estimated above.
func (db *DB) EventUsers(ctx context.Context, site int64) (store.EventUsers, error) {
	db.users.mu.Lock()
	k, ok := db.users.sites[site]
	db.users.mu.Unlock()
	if ok && time.Now().Before(k.until) {
		return k.val, nil
	}
	if err := db.Sync(ctx); err != nil {
		return store.EventUsers{}, err
	}
	start := time.Now()
	total, err := db.siteEvents(ctx, site)
	if err != nil {
		return store.EventUsers{}, err
	}
	out := store.EventUsers{Users: map[store.EventName]int64{}, At: db.opts.Now().UTC(), Approximate: total >= usersExactBelow}
	agg := "uniqExact(u)"
	if out.Approximate {
		agg = "uniq(u)"
	}
	events, args := mapped("events", false, "user_key", []string{"kind", "name"}, "x.kind IN (2, 3, 4)", site)
	rows, err := db.ch.Query(ctx, "SELECT kind, name, "+agg+" FROM "+events+" GROUP BY kind, name", args...)
	if err != nil {
		return store.EventUsers{}, fmt.Errorf("count users per event: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind uint8
		var n store.EventName
		var users uint64
		if err := rows.Scan(&kind, &n.Name, &users); err != nil {
			return store.EventUsers{}, fmt.Errorf("count users per event: %w", err)
		}
		n.Kind = store.Kind(kind)
		out.Users[n] = int64(users)
	}
	if err := rows.Err(); err != nil {
		return store.EventUsers{}, fmt.Errorf("count users per event: %w", err)
	}
	db.users.mu.Lock()
	if db.users.sites == nil {
		db.users.sites = map[int64]keptUsers{}
	}
	db.users.sites[site] = keptUsers{val: out, until: time.Now().Add(max(db.opts.EventUsersKeep, usersKeepFactor*time.Since(start)))}
	db.users.mu.Unlock()
	return out, nil
}
