package scaled

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// predictions are the attribute keys this node's acknowledged writes
// will create, by the log record that holds their first value: Write
// answers with them until the applier stored that record, after which
// PostgreSQL has the key.
type predictions struct {
	keys map[int64]map[typeKey]predicted
}

type predicted struct {
	typ attr.Type
	lsn uint64 // 0 until the record is appended
}

// check decides what Write answers before a message is applied (see
// wal.go): it returns the outcomes and the indexes of the messages to
// log. The caller holds appendMu, and sets the LSN of the keys it
// predicts once it appended them (predicted).
func (db *DB) check(ctx context.Context, msgs []store.Message) ([]store.Outcome, []int, error) {
	out := make([]store.Outcome, len(msgs))
	var cand []int
	inBatch := map[msgKey]bool{}
	s := db.log
	s.mu.Lock()
	for i := range msgs {
		m := &msgs[i]
		if f := store.InvalidText(m); f != "" {
			out[i].Refused = &store.Warning{Code: "invalid_utf8", Field: f, Message: f + " is not valid UTF-8"}
			continue
		}
		if m.MessageID != "" {
			k := msgKey{m.SiteID, m.MessageID}
			if inBatch[k] || s.held[k] > 0 {
				out[i].Duplicate = true
				continue
			}
			inBatch[k] = true
		}
		cand = append(cand, i)
	}
	s.mu.Unlock()
	if len(cand) == 0 {
		return out, nil, nil
	}
	seen, suppressed, err := db.seenBefore(ctx, msgs, cand)
	if err != nil {
		return nil, nil, err
	}
	keys, err := db.siteKeys(ctx, msgs, cand)
	if err != nil {
		return nil, nil, err
	}
	var keep []int
	for _, i := range cand {
		m := &msgs[i]
		if m.MessageID != "" && seen[msgKey{m.SiteID, m.MessageID}] {
			out[i].Duplicate = true
			continue
		}
		dropped := false
		for _, h := range messageHashes(m) {
			dropped = dropped || suppressed[siteHash{m.SiteID, h}]
		}
		if dropped {
			w := suppressedWarning
			out[i].Refused = &w
			continue
		}
		if m.Kind == store.KindIdentify || m.Kind == store.KindGroup {
			db.predictTraits(m, &out[i], keys[m.SiteID])
		}
		keep = append(keep, i)
	}
	return out, keep, nil
}

type siteHash struct{ site, hash int64 }

// seenBefore returns which of the messages' IDs PostgreSQL has seen, and
// which of the IDs they name are suppressed, in one round trip.
func (db *DB) seenBefore(ctx context.Context, msgs []store.Message, idx []int) (map[msgKey]bool, map[siteHash]bool, error) {
	var idSites, hashSites, hashes []int64
	var ids []string
	for _, i := range idx {
		m := &msgs[i]
		if m.MessageID != "" {
			idSites, ids = append(idSites, m.SiteID), append(ids, m.MessageID)
		}
		for _, h := range messageHashes(m) {
			hashSites, hashes = append(hashSites, m.SiteID), append(hashes, h)
		}
	}
	rows, err := db.pg.Query(ctx, `SELECT 1, m.site_id, m.message_id, 0::BIGINT FROM message_ids m
			JOIN unnest($1::BIGINT[], $2::TEXT[]) AS x(s, id) ON m.site_id = x.s AND m.message_id = x.id
		UNION ALL
		SELECT 2, s.site_id, '', s.id_hash FROM suppressed_ids s
			JOIN unnest($3::BIGINT[], $4::BIGINT[]) AS x(s, h) ON s.site_id = x.s AND s.id_hash = x.h`,
		idSites, ids, hashSites, hashes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: look up message IDs: %w", store.ErrUnavailable, err)
	}
	defer rows.Close()
	seen, suppressed := map[msgKey]bool{}, map[siteHash]bool{}
	for rows.Next() {
		var what int
		var site, hash int64
		var id string
		if err := rows.Scan(&what, &site, &id, &hash); err != nil {
			return nil, nil, fmt.Errorf("look up message IDs: %w", err)
		}
		if what == 1 {
			seen[msgKey{site, id}] = true
		} else {
			suppressed[siteHash{site, hash}] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w: look up message IDs: %w", store.ErrUnavailable, err)
	}
	return seen, suppressed, nil
}

// siteKeys returns the attribute keys of the sites whose messages carry
// traits: PostgreSQL's, read now, and those this node's writes will
// create that its applier has not stored yet.
func (db *DB) siteKeys(ctx context.Context, msgs []store.Message, idx []int) (map[int64]map[typeKey]attr.Type, error) {
	out := map[int64]map[typeKey]attr.Type{}
	for _, i := range idx {
		m := &msgs[i]
		if len(m.Traits) == 0 || out[m.SiteID] != nil {
			continue
		}
		keys, err := db.loadKeys(ctx, m.SiteID)
		if err != nil {
			return nil, err
		}
		out[m.SiteID] = keys
	}
	s := db.log
	s.mu.Lock()
	applied := s.appliedLSN
	s.mu.Unlock()
	p := &db.predicted
	for site, list := range p.keys {
		for k, pk := range list {
			if pk.lsn != 0 && pk.lsn <= applied {
				delete(list, k) // stored: PostgreSQL has it, or another node's type
				continue
			}
			if keys := out[site]; keys != nil {
				if _, ok := keys[k]; !ok {
					keys[k] = pk.typ
				}
			}
		}
		if len(list) == 0 {
			delete(p.keys, site)
		}
	}
	return out, nil
}

// predictTraits adds to out the warnings the applier will give a
// message's traits, from keys, which it adds the new keys to.
func (db *DB) predictTraits(m *store.Message, out *store.Outcome, keys map[typeKey]attr.Type) {
	entity := store.EntityUser
	if m.Kind == store.KindGroup {
		entity = store.EntityGroup
	}
	for _, p := range m.Traits {
		tk := typeKey{entity, p.Key}
		typ, known := keys[tk]
		if !known {
			if typ, known = store.NewTraitKey(p, len(keys), db.opts.MaxAttrKeys, out); !known {
				continue
			}
			keys[tk] = typ
			if db.predicted.keys == nil {
				db.predicted.keys = map[int64]map[typeKey]predicted{}
			}
			if db.predicted.keys[m.SiteID] == nil {
				db.predicted.keys[m.SiteID] = map[typeKey]predicted{}
			}
			db.predicted.keys[m.SiteID][tk] = predicted{typ: typ}
		}
		store.ConformTrait(p, typ, out)
	}
}

// appendedPredictions gives the keys check predicted since the last call
// the LSN of the record that holds them; with lsn 0 (the append failed)
// it forgets them.
func (db *DB) appendedPredictions(lsn uint64) {
	for site, list := range db.predicted.keys {
		for k, pk := range list {
			if pk.lsn != 0 {
				continue
			}
			if lsn == 0 {
				delete(list, k)
				continue
			}
			pk.lsn = lsn
			list[k] = pk
		}
		if len(list) == 0 {
			delete(db.predicted.keys, site)
		}
	}
}

// loadKeys reads a site's attribute keys.
func (db *DB) loadKeys(ctx context.Context, site int64) (map[typeKey]attr.Type, error) {
	rows, err := db.pg.Query(ctx, "SELECT entity, key, type FROM attr_keys WHERE site_id = $1", site)
	if err != nil {
		return nil, fmt.Errorf("%w: load attribute keys: %w", store.ErrUnavailable, err)
	}
	defer rows.Close()
	out := map[typeKey]attr.Type{}
	for rows.Next() {
		var e, typ int16
		var k string
		if err := rows.Scan(&e, &k, &typ); err != nil {
			return nil, fmt.Errorf("load attribute keys: %w", err)
		}
		out[typeKey{store.Entity(e), k}] = attr.Type(typ)
	}
	return out, rows.Err()
}
