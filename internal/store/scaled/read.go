package scaled

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// member is a user's key as PostgreSQL knows it: the live key and every
// key merged into it, each with its rank (the live key's is the largest;
// an absorbed key's is its merge's number: absorbed later, ranked
// higher), as the engine's reads rank current values.
type member struct {
	live  int64
	keys  []int64
	ranks map[int64]uint64
}

// memberOf resolves an identity to its user and the keys its rows carry,
// or returns an error wrapping store.ErrNotFound.
func (db *DB) memberOf(ctx context.Context, site int64, id store.Identity) (member, error) {
	if err := db.Sync(ctx); err != nil {
		return member{}, err
	}
	kind, err := store.IdentityKind(id.Kind)
	if err != nil {
		return member{}, err
	}
	var m member
	err = db.pg.QueryRow(ctx, `SELECT coalesce(e.merged_into, e.key) FROM identities i JOIN entities e ON e.key = i.entity_key
		WHERE i.site_id = $1 AND i.kind = $2 AND i.external_id = $3`, site, int16(kind), id.ID).Scan(&m.live)
	if errNoRows(err) {
		return m, fmt.Errorf("%s %q: %w", id.Kind, id.ID, store.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("look up identity: %w", err)
	}
	m.ranks = map[int64]uint64{}
	rows, err := db.pg.Query(ctx, "SELECT key, coalesce(merged_seq, 0) FROM entities WHERE key = $1 OR merged_into = $1", m.live)
	if err != nil {
		return m, fmt.Errorf("look up merged keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, seq int64
		if err := rows.Scan(&k, &seq); err != nil {
			return m, err
		}
		m.keys = append(m.keys, k)
		m.ranks[k] = uint64(seq)
	}
	m.ranks[m.live] = math.MaxUint64
	return m, rows.Err()
}

// UserKey returns the key of the user an identity belongs to.
func (db *DB) UserKey(ctx context.Context, site int64, id store.Identity) (int64, error) {
	m, err := db.memberOf(ctx, site, id)
	return m.live, err
}

// User returns a user with its IDs, activity, current attributes and
// companies.
func (db *DB) User(ctx context.Context, site int64, id store.Identity) (store.User, error) {
	m, err := db.memberOf(ctx, site, id)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{Key: m.live}
	rows, err := db.pg.Query(ctx, `SELECT kind, external_id, entity_key FROM identities
		WHERE site_id = $1 AND entity_key = ANY($2) AND kind IN (1, 2) ORDER BY created_at, external_id`, site, m.keys)
	if err != nil {
		return u, fmt.Errorf("read identities: %w", err)
	}
	var best uint64
	for rows.Next() {
		var kind int16
		var ext string
		var k int64
		if err := rows.Scan(&kind, &ext, &k); err != nil {
			rows.Close()
			return u, err
		}
		if kind == int16(idAnon) {
			u.AnonymousIDs = append(u.AnonymousIDs, ext)
		} else if r := m.ranks[k]; u.UserID == "" || r > best {
			// The surviving user's ID, else the one absorbed last.
			u.UserID, best = ext, r
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return u, err
	}
	var events uint64
	var first, last int64
	if err := db.ch.QueryRow(ctx, "SELECT count(), min(ts), max(ts) FROM events WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key)",
		site, m.keys).Scan(&events, &first, &last); err != nil {
		return u, fmt.Errorf("read activity: %w", err)
	}
	if events > 0 {
		u.Events, u.FirstSeen, u.LastSeen = int(events), fromMicros(first), fromMicros(last)
	}
	var sessions uint64
	if err := db.ch.QueryRow(ctx, `SELECT count() FROM (SELECT session_id FROM sessions FINAL
		WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key))`, site, m.keys).Scan(&sessions); err != nil {
		return u, fmt.Errorf("read sessions: %w", err)
	}
	u.Sessions = int(sessions)
	if u.Attributes, err = db.current(ctx, site, store.EntityUser, m.ranks); err != nil {
		return u, err
	}
	u.Groups, err = db.groups(ctx, site, m.keys)
	return u, err
}

// current returns the current attributes of the entity whose keys and
// ranks are given: per key, the newest value of the highest-ranked key
// that has one, left out when that is an unset.
func (db *DB) current(ctx context.Context, site int64, entity store.Entity, ranks map[int64]uint64) ([]store.AttrState, error) {
	live := map[int64]int64{}
	for k := range ranks {
		live[k] = 0
	}
	all, err := db.currentOf(ctx, site, entity, ranks, live, nil)
	return all[0], err
}

// currentOf is current for several entities at once: live maps each key
// to the entity it belongs to; names, when not nil, are the attributes
// read.
func (db *DB) currentOf(ctx context.Context, site int64, entity store.Entity, ranks map[int64]uint64, live map[int64]int64,
	names []string) (map[int64][]store.AttrState, error) {
	keys := make([]int64, 0, len(ranks))
	for k := range ranks {
		keys = append(keys, k)
	}
	rows, err := db.ch.Query(ctx, `SELECT entity_key, key, type, is_null, s, n, b, t, changed_at FROM attr_current FINAL
		WHERE site_id = ? AND entity = ? AND has(CAST(? AS Array(Int64)), entity_key) AND (? OR has(CAST(? AS Array(String)), key))`,
		site, uint8(entity), keys, names == nil, append([]string{}, names...))
	if err != nil {
		return nil, fmt.Errorf("read current attributes: %w", err)
	}
	defer rows.Close()
	type pick struct {
		rank uint64
		st   store.AttrState
	}
	type ek struct {
		entity int64
		key    string
	}
	best := map[ek]pick{}
	for rows.Next() {
		var k int64
		var st store.AttrState
		var at int64
		if err := scanCH(rows, &k, &st.Key, &st.Value, &at); err != nil {
			return nil, fmt.Errorf("read current attributes: %w", err)
		}
		st.ChangedAt = fromMicros(at)
		id := ek{live[k], st.Key}
		p, ok := best[id]
		r := ranks[k]
		if !ok || r > p.rank || (r == p.rank && st.ChangedAt.After(p.st.ChangedAt)) {
			best[id] = pick{r, st}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read current attributes: %w", err)
	}
	out := map[int64][]store.AttrState{}
	for id, p := range best {
		if !p.st.Value.Null {
			out[id.entity] = append(out[id.entity], p.st)
		}
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b store.AttrState) int { return cmp.Compare(a.Key, b.Key) })
	}
	return out, nil
}

// CurrentAttributes reads the named current attributes of several users
// at once, by user key (the engine's member pages).
func (db *DB) CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	if len(keys) == 0 || len(names) == 0 {
		return map[int64][]store.AttrState{}, nil
	}
	rows, err := db.pg.Query(ctx, `SELECT key, coalesce(merged_into, key), coalesce(merged_seq, 0) FROM entities
		WHERE site_id = $1 AND (key = ANY($2) OR merged_into = ANY($2))`, site, keys)
	if err != nil {
		return nil, fmt.Errorf("read attributes: %w", err)
	}
	live, ranks := map[int64]int64{}, map[int64]uint64{}
	for rows.Next() {
		var k, l, seq int64
		if err := rows.Scan(&k, &l, &seq); err != nil {
			rows.Close()
			return nil, err
		}
		live[k], ranks[k] = l, uint64(seq)
		if k == l {
			ranks[k] = math.MaxUint64
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(live) == 0 {
		return map[int64][]store.AttrState{}, err
	}
	return db.currentOf(ctx, site, store.EntityUser, ranks, live, names)
}

// chScanner is a row of ClickHouse's native interface.
type chScanner interface{ Scan(dest ...any) error }

// scanCH scans (entity_key, key, type, is_null, s, n, b, t, at).
func scanCH(r chScanner, key *int64, name *string, v *attr.Value, at *int64) error {
	var typ, isNull uint8
	var s *string
	var n *float64
	var b *uint8
	var t *int64
	if err := r.Scan(key, name, &typ, &isNull, &s, &n, &b, &t, at); err != nil {
		return err
	}
	*v = chValue(typ, isNull, s, n, b, t)
	return nil
}

func chValue(typ, isNull uint8, s *string, n *float64, b *uint8, t *int64) attr.Value {
	v := attr.Value{Type: attr.Type(typ)}
	switch {
	case isNull == 1:
		v.Null = true
	case s != nil:
		v.Str = *s
	case n != nil:
		v.Num = *n
	case b != nil:
		v.Bool = *b == 1
	case t != nil:
		v.Time = fromMicros(*t)
	default:
		v.Null = true
	}
	return v
}

// groups returns the companies of a user's keys, by ID, with their
// attributes.
func (db *DB) groups(ctx context.Context, site int64, keys []int64) ([]store.Group, error) {
	rows, err := db.ch.Query(ctx, "SELECT DISTINCT group_key FROM user_groups WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key)", site, keys)
	if err != nil {
		return nil, fmt.Errorf("read companies: %w", err)
	}
	var gks []int64
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			rows.Close()
			return nil, err
		}
		gks = append(gks, g)
	}
	rows.Close()
	if len(gks) == 0 {
		return nil, rows.Err()
	}
	ids, err := db.pg.Query(ctx, "SELECT entity_key, external_id FROM identities WHERE site_id = $1 AND kind = 3 AND entity_key = ANY($2)", site, gks)
	if err != nil {
		return nil, fmt.Errorf("read companies: %w", err)
	}
	var out []store.Group
	var gkeys []int64
	for ids.Next() {
		var k int64
		var g store.Group
		if err := ids.Scan(&k, &g.ID); err != nil {
			ids.Close()
			return nil, err
		}
		out, gkeys = append(out, g), append(gkeys, k)
	}
	ids.Close()
	for i := range out {
		if out[i].Attributes, err = db.current(ctx, site, store.EntityGroup, map[int64]uint64{gkeys[i]: math.MaxUint64}); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b store.Group) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// History returns a user's attribute changes, oldest first, of one key or
// of every key ("").
func (db *DB) History(ctx context.Context, site int64, id store.Identity, key string) ([]store.Change, error) {
	m, err := db.memberOf(ctx, site, id)
	if err != nil {
		return nil, err
	}
	return db.history(ctx, site, m, key, math.MaxInt64)
}

func (db *DB) history(ctx context.Context, site int64, m member, key string, until int64) ([]store.Change, error) {
	rows, err := db.ch.Query(ctx, `SELECT entity_key, key, type, is_null, s, n, b, t, set_at FROM attr_history
		WHERE site_id = ? AND entity = 0 AND has(CAST(? AS Array(Int64)), entity_key) AND (? = '' OR key = ?) AND set_at <= ?
		ORDER BY set_at, key`, site, m.keys, key, key, until)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var k, at int64
		var c store.Change
		if err := scanCH(rows, &k, &c.Key, &c.Value, &at); err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		c.At = fromMicros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AttributesAsOf returns a user's attributes as they were at a moment,
// from the history.
func (db *DB) AttributesAsOf(ctx context.Context, site int64, id store.Identity, at time.Time) ([]store.AttrState, error) {
	m, err := db.memberOf(ctx, site, id)
	if err != nil {
		return nil, err
	}
	hist, err := db.history(ctx, site, m, "", micros(at))
	if err != nil {
		return nil, err
	}
	last := map[string]store.Change{}
	for _, c := range hist {
		last[c.Key] = c
	}
	var out []store.AttrState
	for k, c := range last {
		if !c.Value.Null {
			out = append(out, store.AttrState{Key: k, Value: c.Value, ChangedAt: c.At})
		}
	}
	slices.SortFunc(out, func(a, b store.AttrState) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

// UserEvents pages through a user's events, newest first.
func (db *DB) UserEvents(ctx context.Context, site int64, id store.Identity, q store.EventQuery) ([]store.Event, error) {
	m, err := db.memberOf(ctx, site, id)
	if err != nil {
		return nil, err
	}
	before, beforeID := int64(math.MaxInt64), ""
	if !q.Before.IsZero() {
		before, beforeID = micros(q.Before), q.BeforeID
	}
	rows, err := db.ch.Query(ctx, `SELECT kind, name, ts, message_id, session_id, url, path, title, referrer, properties
		FROM events WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key)
			AND (ts < ? OR (ts = ? AND ? != '' AND message_id < ?))
		ORDER BY ts DESC, message_id DESC LIMIT ?`, site, m.keys, before, before, beforeID, beforeID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var kind uint8
		var ts int64
		if err := rows.Scan(&kind, &e.Name, &ts, &e.MessageID, &e.SessionID, &e.Page.URL, &e.Page.Path, &e.Page.Title,
			&e.Page.Referrer, &e.Properties); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.Kind, e.Timestamp = store.Kind(kind), fromMicros(ts)
		out = append(out, e)
	}
	return out, rows.Err()
}

// UserSessions returns a user's latest sessions, newest first.
func (db *DB) UserSessions(ctx context.Context, site int64, id store.Identity, limit int) ([]store.Session, error) {
	m, err := db.memberOf(ctx, site, id)
	if err != nil {
		return nil, err
	}
	rows, err := db.ch.Query(ctx, `SELECT session_id, started_at, ended_at, page_count, event_count, entry_page, exit_page,
			device_type, browser, os, country, locale, timezone, channel, referrer, utm_source, utm_medium, utm_campaign,
			clicks, rage_clicks, dead_clicks, u_turns, errors, max_scroll
		FROM sessions FINAL WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key)
		ORDER BY started_at DESC, session_id DESC LIMIT ?`, site, m.keys, limit)
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		var s store.Session
		var start, end int64
		var pages, events, clicks, rage, dead, uturns, errs, scroll int32
		c := &s.Context
		if err := rows.Scan(&s.ID, &start, &end, &pages, &events, &s.EntryPage, &s.ExitPage, &c.DeviceType, &c.Browser,
			&c.OS, &c.Country, &c.Locale, &c.Timezone, &c.Channel, &c.Referrer, &c.UTMSource, &c.UTMMedium, &c.UTMCampaign,
			&clicks, &rage, &dead, &uturns, &errs, &scroll); err != nil {
			return nil, fmt.Errorf("read sessions: %w", err)
		}
		s.Start, s.End, s.Pages, s.Events = fromMicros(start), fromMicros(end), int(pages), int(events)
		s.Signals = store.Signals{Clicks: int(clicks), RageClicks: int(rage), DeadClicks: int(dead), UTurns: int(uturns),
			Errors: int(errs), MaxScroll: int(scroll)}
		out = append(out, s)
	}
	return out, rows.Err()
}
