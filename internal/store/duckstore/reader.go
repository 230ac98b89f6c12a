package duckstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// userKey finds the entity key of a user or anonymous visitor, after
// waiting for acknowledged data to be applied (every reader starts here or
// calls Sync itself).
func (db *DB) userKey(ctx context.Context, site int64, id store.Identity) (int64, error) {
	if err := db.Sync(ctx); err != nil {
		return 0, err
	}
	kind, err := store.IdentityKind(id.Kind)
	if err != nil {
		return 0, err
	}
	var key int64
	err = db.pool().QueryRowContext(ctx,
		"SELECT entity_key FROM identities WHERE id_hash = ? AND site_id = ? AND kind = ? AND external_id = ?",
		idHash(site, kind, id.ID), site, kind, id.ID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s %q: %w", id.Kind, id.ID, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("look up %s %q: %w", id.Kind, id.ID, err)
	}
	return key, nil
}

// UserKey returns the internal key of a user or anonymous visitor.
func (db *DB) UserKey(ctx context.Context, site int64, id store.Identity) (int64, error) {
	return db.userKey(ctx, site, id)
}

// User returns a user with current attributes, activity and companies.
func (db *DB) User(ctx context.Context, site int64, id store.Identity) (store.User, error) {
	key, err := db.userKey(ctx, site, id)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{Key: key}
	rows, err := db.pool().QueryContext(ctx,
		"SELECT kind, external_id FROM identities WHERE entity_key = ? ORDER BY created_at, external_id", key)
	if err != nil {
		return store.User{}, fmt.Errorf("read identities: %w", err)
	}
	for rows.Next() {
		var kind uint8
		var ext string
		if err := rows.Scan(&kind, &ext); err != nil {
			rows.Close()
			return store.User{}, fmt.Errorf("read identities: %w", err)
		}
		if kind == idUser && u.UserID == "" {
			u.UserID = ext
		} else if kind == idAnon {
			u.AnonymousIDs = append(u.AnonymousIDs, ext)
		}
	}
	rows.Close()
	var first, last sql.NullTime
	if err := db.pool().QueryRowContext(ctx,
		"SELECT min(ts), max(ts), count(*) FROM events WHERE user_key = ?", key).Scan(&first, &last, &u.Events); err != nil {
		return store.User{}, fmt.Errorf("read activity: %w", err)
	}
	u.FirstSeen, u.LastSeen = first.Time, last.Time
	if err := db.pool().QueryRowContext(ctx,
		"SELECT count(*) FROM all_sessions WHERE user_key = ?", key).Scan(&u.Sessions); err != nil {
		return store.User{}, fmt.Errorf("count sessions: %w", err)
	}
	if u.Attributes, err = db.currentAttrs(ctx, store.EntityUser, key); err != nil {
		return store.User{}, err
	}
	grows, err := db.pool().QueryContext(ctx, `SELECT DISTINCT g.group_key, i.external_id FROM user_groups g
		JOIN identities i ON i.entity_key = g.group_key AND i.kind = 3
		WHERE g.user_key = ? ORDER BY i.external_id`, key)
	if err != nil {
		return store.User{}, fmt.Errorf("read companies: %w", err)
	}
	var gkeys []int64
	for grows.Next() {
		var g store.Group
		var gk int64
		if err := grows.Scan(&gk, &g.ID); err != nil {
			grows.Close()
			return store.User{}, fmt.Errorf("read companies: %w", err)
		}
		gkeys = append(gkeys, gk)
		u.Groups = append(u.Groups, g)
	}
	grows.Close()
	for i, gk := range gkeys {
		if u.Groups[i].Attributes, err = db.currentAttrs(ctx, store.EntityGroup, gk); err != nil {
			return store.User{}, err
		}
	}
	return u, nil
}

func (db *DB) currentAttrs(ctx context.Context, entity store.Entity, key int64) ([]store.AttrState, error) {
	rows, err := db.pool().QueryContext(ctx, `SELECT site_id, entity, entity_key, key, type, s, n, b, t, changed_at
		FROM attr_current WHERE entity = ? AND entity_key = ? ORDER BY key`, uint8(entity), key)
	if err != nil {
		return nil, fmt.Errorf("read attributes: %w", err)
	}
	defer rows.Close()
	var out []store.AttrState
	for rows.Next() {
		var a store.AttrState
		var site, ek int64
		var e store.Entity
		if err := scanTyped(rows, &site, &e, &ek, &a.Key, &a.Value, &a.ChangedAt); err != nil {
			return nil, fmt.Errorf("read attributes: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CurrentAttributes reads the named current attributes of several users at
// once, by user key.
func (db *DB) CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT site_id, entity, entity_key, key, type, s, n, b, t, changed_at
		FROM attr_current WHERE site_id = ? AND entity = 0 AND entity_key IN (SELECT unnest(?::BIGINT[]))
			AND key IN (SELECT unnest(?::VARCHAR[])) ORDER BY entity_key, key`, site, keys, names)
	if err != nil {
		return nil, fmt.Errorf("read attributes: %w", err)
	}
	defer rows.Close()
	out := map[int64][]store.AttrState{}
	for rows.Next() {
		var a store.AttrState
		var s, k int64
		var e store.Entity
		if err := scanTyped(rows, &s, &e, &k, &a.Key, &a.Value, &a.ChangedAt); err != nil {
			return nil, fmt.Errorf("read attributes: %w", err)
		}
		out[k] = append(out[k], a)
	}
	return out, rows.Err()
}

// History returns the changes of one attribute of a user (all attributes
// when key is empty), oldest first.
func (db *DB) History(ctx context.Context, site int64, id store.Identity, key string) ([]store.Change, error) {
	ek, err := db.userKey(ctx, site, id)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT key, type, s, n, b, t, is_null, set_at FROM attr_history
		WHERE entity = 0 AND entity_key = ? AND (? = '' OR key = ?) ORDER BY set_at, key`, ek, key, key)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var c store.Change
		var typ uint8
		var s *string
		var n *float64
		var b *bool
		var t *time.Time
		var null bool
		if err := rows.Scan(&c.Key, &typ, &s, &n, &b, &t, &null, &c.At); err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		c.Value = valueOf(typ, s, n, b, t)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AttributesAsOf returns a user's attributes as they were at a moment: for
// each key the last change at or before it, unless that change was an unset.
func (db *DB) AttributesAsOf(ctx context.Context, site int64, id store.Identity, at time.Time) ([]store.AttrState, error) {
	ek, err := db.userKey(ctx, site, id)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT site_id, entity, entity_key, key, type, s, n, b, t, set_at
		FROM attr_history WHERE entity = 0 AND entity_key = ? AND set_at <= ?
		QUALIFY row_number() OVER (PARTITION BY key ORDER BY set_at DESC) = 1
		ORDER BY key`, ek, at)
	if err != nil {
		return nil, fmt.Errorf("read attributes as of %s: %w", at, err)
	}
	defer rows.Close()
	var out []store.AttrState
	for rows.Next() {
		var a store.AttrState
		var s, k int64
		var e store.Entity
		if err := scanTyped(rows, &s, &e, &k, &a.Key, &a.Value, &a.ChangedAt); err != nil {
			return nil, fmt.Errorf("read attributes as of %s: %w", at, err)
		}
		if !a.Value.Null {
			out = append(out, a)
		}
	}
	return out, rows.Err()
}

// UserEvents returns a user's events, newest first.
func (db *DB) UserEvents(ctx context.Context, site int64, id store.Identity, q store.EventQuery) ([]store.Event, error) {
	key, err := db.userKey(ctx, site, id)
	if err != nil {
		return nil, err
	}
	before := q.Before
	if before.IsZero() {
		before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return queryAll(ctx, db.pool(), "read events", scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE user_key = ? AND (ts < ? OR (ts = ? AND message_id < ?))
		ORDER BY ts DESC, message_id DESC LIMIT ?`,
		key, before, before, q.BeforeID, q.Limit)
}

// eventColumns are what scanEvent reads, in its order.
const eventColumns = "kind, name, ts, message_id, session_id, url, path, title, referrer, CAST(properties AS VARCHAR)"

func scanEvent(r scanner) (store.Event, error) {
	var e store.Event
	var kind uint8
	err := r.Scan(&kind, &e.Name, &e.Timestamp, &e.MessageID, &e.SessionID, &e.Page.URL, &e.Page.Path,
		&e.Page.Title, &e.Page.Referrer, &e.Properties)
	e.Kind = store.Kind(kind)
	return e, err
}

// UserSessions returns a user's sessions, newest first.
func (db *DB) UserSessions(ctx context.Context, site int64, id store.Identity, limit int) ([]store.Session, error) {
	key, err := db.userKey(ctx, site, id)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT session_id, started_at, ended_at, page_count, event_count,
		entry_page, exit_page, device_type, browser, os, country, locale, timezone, channel, referrer,
		utm_source, utm_medium, utm_campaign, clicks, rage_clicks, dead_clicks, u_turns, errors, max_scroll
		FROM all_sessions WHERE user_key = ? ORDER BY started_at DESC LIMIT ?`,
		key, limit)
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		var s store.Session
		c, g := &s.Context, &s.Signals
		if err := rows.Scan(&s.ID, &s.Start, &s.End, &s.Pages, &s.Events, &s.EntryPage, &s.ExitPage,
			&c.DeviceType, &c.Browser, &c.OS, &c.Country, &c.Locale, &c.Timezone, &c.Channel, &c.Referrer,
			&c.UTMSource, &c.UTMMedium, &c.UTMCampaign, &g.Clicks, &g.RageClicks, &g.DeadClicks, &g.UTurns,
			&g.Errors, &g.MaxScroll); err != nil {
			return nil, fmt.Errorf("read sessions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// AttributeCatalog lists a site's attribute keys with their use.
func (db *DB) AttributeCatalog(ctx context.Context, site int64) ([]store.CatalogKey, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `
		WITH holders AS (
			SELECT entity, key, count(*) AS n FROM attr_current WHERE site_id = $1 GROUP BY ALL),
		rejected AS (
			SELECT entity, key, count(*) AS n FROM attr_rejections WHERE site_id = $1 GROUP BY ALL),
		samples AS (
			SELECT entity, key, list(v ORDER BY c DESC, v) AS vs FROM (
				SELECT entity, key, coalesce(s, CASE WHEN n = trunc(n) AND abs(n) < 1e15 THEN CAST(CAST(n AS BIGINT) AS VARCHAR) ELSE CAST(n AS VARCHAR) END,
					CAST(b AS VARCHAR), strftime(t, '%Y-%m-%dT%H:%M:%SZ')) AS v,
					count(*) AS c
				FROM attr_current WHERE site_id = $1 GROUP BY entity, key, v
				QUALIFY row_number() OVER (PARTITION BY entity, key ORDER BY count(*) DESC, v) <= 5)
			GROUP BY ALL)
		SELECT k.entity, k.key, k.type, k.first_seen, coalesce(h.n, 0), coalesce(r.n, 0), coalesce(s.vs, [])
		FROM attr_keys k
		LEFT JOIN holders h USING (entity, key)
		LEFT JOIN rejected r USING (entity, key)
		LEFT JOIN samples s USING (entity, key)
		WHERE k.site_id = $1 ORDER BY k.entity, k.key`, site)
	if err != nil {
		return nil, fmt.Errorf("read attribute catalog: %w", err)
	}
	defer rows.Close()
	var out []store.CatalogKey
	for rows.Next() {
		var k store.CatalogKey
		var typ uint8
		var samples []any
		if err := rows.Scan(&k.Entity, &k.Key, &typ, &k.FirstSeen, &k.Users, &k.Rejections, &samples); err != nil {
			return nil, fmt.Errorf("read attribute catalog: %w", err)
		}
		k.Type = attr.Type(typ)
		for _, s := range samples {
			k.Samples = append(k.Samples, fmt.Sprint(s))
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Rejections lists the newest rejected values of a site (of one key when key
// is not empty).
func (db *DB) Rejections(ctx context.Context, site int64, key string, limit int) ([]store.Rejection, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool().QueryContext(ctx, `SELECT r.entity, r.key, r.expected, r.received, r.value,
			coalesce((SELECT external_id FROM identities i WHERE i.entity_key = r.entity_key
				ORDER BY i.kind LIMIT 1), ''), r.message_id, r.rejected_at
		FROM attr_rejections r WHERE r.site_id = ? AND (? = '' OR r.key = ?)
		ORDER BY r.rejected_at DESC LIMIT ?`, site, key, key, limit)
	if err != nil {
		return nil, fmt.Errorf("read rejections: %w", err)
	}
	defer rows.Close()
	var out []store.Rejection
	for rows.Next() {
		var r store.Rejection
		var expected uint8
		if err := rows.Scan(&r.Entity, &r.Key, &expected, &r.Received, &r.Value, &r.EntityID, &r.MessageID, &r.At); err != nil {
			return nil, fmt.Errorf("read rejections: %w", err)
		}
		r.Expected = attr.Type(expected)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SearchUsers finds users by user ID prefix or by an attribute's value. The
// value is read in the key's type, so "420" finds the number 420.
func (db *DB) SearchUsers(ctx context.Context, site int64, q store.UserQuery) ([]store.UserSummary, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	var rows *sql.Rows
	var err error
	if q.AttrKey == "" {
		// A merged user may have several matching user IDs: it is listed
		// once, under the first.
		rows, err = db.pool().QueryContext(ctx, `SELECT entity_key, min(external_id) FROM identities
			WHERE site_id = ? AND kind = 1 AND starts_with(external_id, ?) AND entity_key > ?
			GROUP BY entity_key ORDER BY entity_key LIMIT ?`, site, q.IDPrefix, q.After, q.Limit)
	} else {
		var typ uint8
		err = db.pool().QueryRowContext(ctx, "SELECT type FROM attr_keys WHERE site_id = ? AND entity = 0 AND key = ?",
			site, q.AttrKey).Scan(&typ)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("attribute %q: %w", q.AttrKey, store.ErrNotFound)
		} else if err != nil {
			return nil, fmt.Errorf("look up attribute: %w", err)
		}
		v, cerr := attr.Convert(attr.Value{Type: attr.String, Str: q.AttrText}, attr.Type(typ))
		if cerr != nil {
			return nil, fmt.Errorf("attribute %s: %w", q.AttrKey, cerr)
		}
		s, n, b, t := typedColumns(v)
		rows, err = db.pool().QueryContext(ctx, `SELECT c.entity_key,
				coalesce((SELECT external_id FROM identities i WHERE i.entity_key = c.entity_key AND i.kind = 1 LIMIT 1), '')
			FROM attr_current c
			WHERE c.site_id = ? AND c.entity = 0 AND c.key = ? AND c.entity_key > ?
				AND (c.s = ? OR c.n = ? OR c.b = ? OR c.t = ?)
			ORDER BY c.entity_key LIMIT ?`, site, q.AttrKey, q.After, s, n, b, t, q.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	defer rows.Close()
	var out []store.UserSummary
	for rows.Next() {
		var u store.UserSummary
		if err := rows.Scan(&u.Key, &u.UserID); err != nil {
			return nil, fmt.Errorf("search users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
