package scaled

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// mappedCurrent is the current value of every attribute of every user and
// company of a site, read through the overrides as the segment engine
// reads them: per (entity, key, mapped key), the value of the highest
// ranked key, then its newest; unsets left out. Its columns: entity, key,
// u, txt (the value as text).
const mappedCurrent = `SELECT entity, key, u, multiIf(isNotNull(tupleElement(last, 2)), assumeNotNull(tupleElement(last, 2)),
		isNotNull(tupleElement(last, 3)), toString(assumeNotNull(tupleElement(last, 3))),
		isNotNull(tupleElement(last, 4)), if(assumeNotNull(tupleElement(last, 4)) = 1, 'true', 'false'),
		toString(assumeNotNull(tupleElement(last, 5)))) AS txt
	FROM (SELECT entity, key, u, argMax((is_null, s, n, b, t), (rank, changed_at)) AS last
		FROM (SELECT c.entity AS entity, c.key AS key, if(o.into_key = 0, c.entity_key, o.into_key) AS u,
				if(o.into_key = 0, 18446744073709551615, o.merged_seq) AS rank, c.changed_at AS changed_at,
				c.is_null AS is_null, c.s AS s, c.n AS n, c.b AS b, c.t AS t
			FROM attr_current AS c
			ANY LEFT JOIN (SELECT from_key, into_key, merged_seq FROM identity_overrides FINAL WHERE site_id = ?) AS o
				ON c.entity_key = o.from_key
			WHERE c.site_id = ?)
		GROUP BY entity, key, u)
	WHERE tupleElement(last, 1) = 0`

// AttributeCatalog lists a site's attribute keys with their type, how
// many users (or companies) hold each now, its most common values and its
// rejections.
func (db *DB) AttributeCatalog(ctx context.Context, site int64) ([]store.CatalogKey, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pg.Query(ctx, "SELECT entity, key, type, first_seen FROM attr_keys WHERE site_id = $1", site)
	if err != nil {
		return nil, fmt.Errorf("read attribute keys: %w", err)
	}
	type ck struct {
		entity store.Entity
		key    string
	}
	byKey := map[ck]*store.CatalogKey{}
	var out []*store.CatalogKey
	for rows.Next() {
		var e, typ int16
		k := &store.CatalogKey{}
		if err := rows.Scan(&e, &k.Key, &typ, &k.FirstSeen); err != nil {
			rows.Close()
			return nil, err
		}
		k.Entity, k.Type, k.FirstSeen = store.Entity(e), attr.Type(typ), k.FirstSeen.UTC()
		byKey[ck{k.Entity, k.Key}] = k
		out = append(out, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vals, err := db.ch.Query(ctx, "SELECT entity, key, txt, count() AS holders FROM ("+mappedCurrent+
		") GROUP BY entity, key, txt ORDER BY holders DESC, txt", site, site)
	if err != nil {
		return nil, fmt.Errorf("read attribute values: %w", err)
	}
	defer vals.Close()
	for vals.Next() {
		var e uint8
		var key, txt string
		var n uint64
		if err := vals.Scan(&e, &key, &txt, &n); err != nil {
			return nil, fmt.Errorf("read attribute values: %w", err)
		}
		if k := byKey[ck{store.Entity(e), key}]; k != nil {
			k.Users += int64(n)
			if len(k.Samples) < 5 {
				k.Samples = append(k.Samples, txt)
			}
		}
	}
	if err := vals.Err(); err != nil {
		return nil, fmt.Errorf("read attribute values: %w", err)
	}
	rej, err := db.ch.Query(ctx, "SELECT entity, key, count() FROM attr_rejections WHERE site_id = ? GROUP BY entity, key", site)
	if err != nil {
		return nil, fmt.Errorf("count rejections: %w", err)
	}
	defer rej.Close()
	for rej.Next() {
		var e uint8
		var key string
		var n uint64
		if err := rej.Scan(&e, &key, &n); err != nil {
			return nil, err
		}
		if k := byKey[ck{store.Entity(e), key}]; k != nil {
			k.Rejections = int64(n)
		}
	}
	if err := rej.Err(); err != nil {
		return nil, err
	}
	res := make([]store.CatalogKey, len(out))
	for i, k := range out {
		res[i] = *k
	}
	slices.SortFunc(res, func(a, b store.CatalogKey) int {
		return cmp.Or(cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Key, b.Key))
	})
	return res, nil
}

// Rejections lists a site's refused attribute values, newest first, of
// one key or of every key ("").
func (db *DB) Rejections(ctx context.Context, site int64, key string, limit int) ([]store.Rejection, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	rows, err := db.ch.Query(ctx, `SELECT entity, key, expected, received, value, entity_key, message_id, at
		FROM attr_rejections WHERE site_id = ? AND (? = '' OR key = ?) ORDER BY at DESC, message_id DESC LIMIT ?`,
		site, key, key, limit)
	if err != nil {
		return nil, fmt.Errorf("read rejections: %w", err)
	}
	defer rows.Close()
	var out []store.Rejection
	var keys []int64
	for rows.Next() {
		var r store.Rejection
		var e, expected uint8
		var k, at int64
		if err := rows.Scan(&e, &r.Key, &expected, &r.Received, &r.Value, &k, &r.MessageID, &at); err != nil {
			return nil, fmt.Errorf("read rejections: %w", err)
		}
		r.Entity, r.Expected, r.At = store.Entity(e), attr.Type(expected), fromMicros(at)
		out, keys = append(out, r), append(keys, k)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// Each entity named by its user ID, else its company's or anonymous ID.
	names := map[int64]string{}
	ids, err := db.pg.Query(ctx, `SELECT DISTINCT ON (entity_key) entity_key, external_id FROM identities
		WHERE site_id = $1 AND entity_key = ANY($2) ORDER BY entity_key, kind = 2, kind, external_id`, site, keys)
	if err != nil {
		return nil, fmt.Errorf("read rejections' entities: %w", err)
	}
	defer ids.Close()
	for ids.Next() {
		var k int64
		var name string
		if err := ids.Scan(&k, &name); err != nil {
			return nil, err
		}
		names[k] = name
	}
	for i := range out {
		out[i].EntityID = names[keys[i]]
	}
	return out, ids.Err()
}

// SearchUsers finds users by user ID prefix, or by an attribute's current
// value read in the key's type (so "420" finds the number 420), ordered
// by key, after the cursor.
func (db *DB) SearchUsers(ctx context.Context, site int64, q store.UserQuery) ([]store.UserSummary, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	var out []store.UserSummary
	if q.AttrKey == "" {
		// A merged user may have several matching user IDs: it is listed
		// once, under the first.
		rows, err := db.pg.Query(ctx, `SELECT u, min(x) FROM (
				SELECT coalesce(e.merged_into, e.key) AS u, i.external_id AS x
				FROM identities i JOIN entities e ON e.key = i.entity_key
				WHERE i.site_id = $1 AND i.kind = 1 AND left(i.external_id, length($2)) = $2) m
			WHERE u > $3 GROUP BY u ORDER BY u LIMIT $4`, site, q.IDPrefix, q.After, q.Limit)
		if err != nil {
			return nil, fmt.Errorf("search users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u store.UserSummary
			if err := rows.Scan(&u.Key, &u.UserID); err != nil {
				return nil, err
			}
			out = append(out, u)
		}
		return out, rows.Err()
	}
	var typ int16
	err := db.pg.QueryRow(ctx, "SELECT type FROM attr_keys WHERE site_id = $1 AND entity = 0 AND key = $2", site, q.AttrKey).Scan(&typ)
	if errNoRows(err) {
		return nil, fmt.Errorf("attribute %q: %w", q.AttrKey, store.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("look up attribute: %w", err)
	}
	v, err := attr.Convert(attr.Value{Type: attr.String, Str: q.AttrText}, attr.Type(typ))
	if err != nil {
		return nil, fmt.Errorf("attribute %s: %w: %w", q.AttrKey, store.ErrInvalid, err)
	}
	s, n, b, t := typed(v)
	rows, err := db.pg.Query(ctx, `SELECT v.entity_key, coalesce((SELECT min(i.external_id) FROM identities i
				JOIN entities e ON e.key = i.entity_key
				WHERE i.kind = 1 AND coalesce(e.merged_into, e.key) = v.entity_key), '')
		FROM attr_values v
		WHERE v.site_id = $1 AND v.entity = 0 AND v.key = $2 AND v.entity_key > $3
			AND (v.s = $4 OR v.n = $5 OR v.b = $6 OR v.t = $7)
		ORDER BY v.entity_key LIMIT $8`, site, q.AttrKey, q.After, s, n, b, t, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u store.UserSummary
		if err := rows.Scan(&u.Key, &u.UserID); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// InstallStatus reports what a site received lately.
func (db *DB) InstallStatus(ctx context.Context, site int64, now time.Time) (store.InstallStatus, error) {
	if err := db.Sync(ctx); err != nil {
		return store.InstallStatus{}, err
	}
	var st store.InstallStatus
	var n, recent uint64
	var last int64
	var source uint8
	err := db.ch.QueryRow(ctx, `SELECT count(), max(received_at), argMax(source, received_at),
			argMaxIf(url, received_at, url != ''), countIf(received_at > ? AND received_at <= ?)
		FROM events WHERE site_id = ?`, micros(now.Add(-24*time.Hour)), micros(now), site).
		Scan(&n, &last, &source, &st.LastPageURL, &recent)
	if err != nil {
		return st, fmt.Errorf("read install status: %w", err)
	}
	if n == 0 {
		return store.InstallStatus{}, nil
	}
	st.LastEventAt, st.LastSource, st.Events24h = fromMicros(last), store.Source(source), int64(recent)
	return st, nil
}

// LastSeen returns the time of each user's latest event, by user key.
func (db *DB) LastSeen(ctx context.Context, site int64, keys []int64) (map[int64]time.Time, error) {
	if err := db.Sync(ctx); err != nil {
		return nil, err
	}
	out := map[int64]time.Time{}
	rows, err := db.pg.Query(ctx, `SELECT key, coalesce(merged_into, key) FROM entities
		WHERE site_id = $1 AND (key = ANY($2) OR merged_into = ANY($2))`, site, keys)
	if err != nil {
		return nil, fmt.Errorf("read last seen: %w", err)
	}
	live := map[int64]int64{}
	var raw []int64
	for rows.Next() {
		var k, l int64
		if err := rows.Scan(&k, &l); err != nil {
			rows.Close()
			return nil, err
		}
		live[k] = l
		raw = append(raw, k)
	}
	rows.Close()
	if len(raw) == 0 {
		return out, rows.Err()
	}
	ev, err := db.ch.Query(ctx, `SELECT user_key, max(ts) FROM events WHERE site_id = ? AND has(CAST(? AS Array(Int64)), user_key)
		GROUP BY user_key`, site, raw)
	if err != nil {
		return nil, fmt.Errorf("read last seen: %w", err)
	}
	defer ev.Close()
	for ev.Next() {
		var k, ts int64
		if err := ev.Scan(&k, &ts); err != nil {
			return nil, err
		}
		if t := fromMicros(ts); t.After(out[live[k]]) {
			out[live[k]] = t
		}
	}
	return out, ev.Err()
}

// ChangeType changes an attribute key's type, converting every current
// value, or nothing when one cannot be converted (store.ErrConflict). It
// holds the site's lock: no write of the site decides meanwhile. In
// ClickHouse the converted values are new rows one microsecond after the
// values they replace (a ReplacingMergeTree by changed_at, read by the
// newest), not a mutation, which 18.16 runs asynchronously.
func (db *DB) ChangeType(ctx context.Context, site int64, entity store.Entity, key string, to attr.Type) (int, error) {
	if err := db.Sync(ctx); err != nil {
		return 0, err
	}
	converted := 0
	err := db.inTx(ctx, func(t *txn) error {
		if err := t.lockSites([]int64{site}); err != nil {
			return err
		}
		var from int16
		var first time.Time
		err := t.tx.QueryRow(ctx, "SELECT type, first_seen FROM attr_keys WHERE site_id = $1 AND entity = $2 AND key = $3 FOR UPDATE",
			site, int16(entity), key).Scan(&from, &first)
		if errNoRows(err) {
			return fmt.Errorf("attribute %q: %w", key, store.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("look up attribute: %w", err)
		}
		if attr.Type(from) == to {
			return nil
		}
		// ClickHouse's rows: every key's newest, the merged ones' too.
		rows, err := db.ch.Query(ctx, `SELECT entity_key, key, type, is_null, s, n, b, t, changed_at FROM attr_current FINAL
			WHERE site_id = ? AND entity = ? AND key = ?`, site, uint8(entity), key)
		if err != nil {
			return fmt.Errorf("read values of %s: %w", key, err)
		}
		var bad int
		var example string
		for rows.Next() {
			var k, at int64
			var name string
			var v attr.Value
			if err := scanCH(rows, &k, &name, &v, &at); err != nil {
				rows.Close()
				return fmt.Errorf("read values of %s: %w", key, err)
			}
			if !v.Null {
				nv, err := attr.Convert(v, to)
				if err != nil {
					bad++
					example = err.Error()
					continue
				}
				v = nv
			}
			v.Type = to
			t.rows.current(site, entity, k, key, v, fromMicros(at+1))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read values of %s: %w", key, err)
		}
		if bad > 0 {
			return fmt.Errorf("%d values of %s cannot become %s, for example: %s: %w", bad, key, to, example, store.ErrConflict)
		}
		// PostgreSQL's copy, by live key: what the count reports.
		vals, err := t.tx.Query(ctx, "SELECT site_id, entity, key, type, s, n, b, t, changed_at, entity_key FROM attr_values WHERE site_id = $1 AND entity = $2 AND key = $3",
			site, int16(entity), key)
		if err != nil {
			return fmt.Errorf("read values of %s: %w", key, err)
		}
		type row struct {
			key int64
			v   attr.Value
		}
		var conv []row
		for vals.Next() {
			var r row
			var s int64
			var e int16
			var name string
			var typ int16
			var sv *string
			var n *float64
			var b *bool
			var ts *time.Time
			var at time.Time
			if err := vals.Scan(&s, &e, &name, &typ, &sv, &n, &b, &ts, &at, &r.key); err != nil {
				vals.Close()
				return err
			}
			nv, err := attr.Convert(valueOf(attr.Type(typ), sv, n, b, ts), to)
			if err != nil {
				vals.Close()
				return fmt.Errorf("%s of %d cannot become %s: %s: %w", key, r.key, to, err, store.ErrConflict)
			}
			r.v = nv
			conv = append(conv, r)
		}
		vals.Close()
		if err := vals.Err(); err != nil {
			return err
		}
		for _, r := range conv {
			s, n, b, ts := typed(r.v)
			if _, err := t.tx.Exec(ctx, "UPDATE attr_values SET type = $3, s = $4, n = $5, b = $6, t = $7 WHERE entity_key = $1 AND key = $2",
				r.key, key, int16(to), s, n, b, ts); err != nil {
				return fmt.Errorf("convert %s: %w", key, err)
			}
		}
		if _, err := t.tx.Exec(ctx, "UPDATE attr_keys SET type = $4 WHERE site_id = $1 AND entity = $2 AND key = $3",
			site, int16(entity), key, int16(to)); err != nil {
			return fmt.Errorf("change type of %s: %w", key, err)
		}
		t.rows.attrKey(site, entity, key, to, first, uint64(micros(t.now)))
		t.touch.Site = true
		converted = len(conv)
		return t.finish()
	})
	if err != nil {
		return 0, err
	}
	return converted, nil
}
