package duckstore

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// sequencer holds what Write decides with before anything is logged: the
// recent message IDs (retries are dropped) and the attribute catalog (a
// key's type is fixed by its first value). It is guarded by DB.seqMu.
type sequencer struct {
	seen     *dedupe
	catalog  map[catalogKey]attr.Type
	keyCount map[int64]int // attribute keys per site
	// suppressed is the IDs deleted with suppression.
	suppressed suppressedSet
}

type catalogKey struct {
	site   int64
	entity store.Entity
	key    string
}

// decide makes the decisions for msgs in order and returns each message's
// outcome and the decided messages to log (duplicates left out).
func (db *DB) decide(msgs []store.Message) ([]store.Outcome, []decided) {
	out := make([]store.Outcome, len(msgs))
	ds := make([]decided, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if f := store.InvalidText(m); f != "" {
			out[i].Refused = &store.Warning{Code: "invalid_utf8", Field: f, Message: f + " is not valid UTF-8"}
			continue
		}
		if db.seq.suppressed.suppressedMessage(m) {
			w := suppressedWarning
			out[i].Refused = &w
			continue
		}
		if m.MessageID != "" && !db.seq.seen.add(messageHash(m.SiteID, m.MessageID)) {
			out[i].Duplicate = true
			continue
		}
		d := decided{m: *m}
		d.m.Traits = nil
		switch m.Kind {
		case store.KindIdentify:
			db.decideAttrs(&d, &out[i], m, store.EntityUser)
		case store.KindGroup:
			db.decideAttrs(&d, &out[i], m, store.EntityGroup)
		}
		ds = append(ds, d)
	}
	return out, ds
}

// decideAttrs checks a message's traits against the site's catalog. A
// value of the wrong type is refused for its key alone: it is recorded as
// a rejection and reported as a warning, and the rest of the message is
// kept.
func (db *DB) decideAttrs(d *decided, out *store.Outcome, m *store.Message, entity store.Entity) {
	s := &db.seq
	for _, p := range m.Traits {
		ck := catalogKey{site: m.SiteID, entity: entity, key: p.Key}
		typ, known := s.catalog[ck]
		if !known {
			if typ, known = store.NewTraitKey(p, s.keyCount[m.SiteID], db.opts.MaxAttrKeys, out); !known {
				continue
			}
			s.catalog[ck] = typ
			s.keyCount[m.SiteID]++
			d.newKeys = append(d.newKeys, decidedKey{entity: entity, key: p.Key, typ: typ, at: m.ReceivedAt})
		}
		v, ok, rej := store.ConformTrait(p, typ, out)
		if !ok {
			d.rejections = append(d.rejections, decidedRejection{entity: entity, key: p.Key, expected: typ,
				received: rej.Received, value: rej.Value})
			continue
		}
		d.sets = append(d.sets, decidedSet{entity: entity, key: p.Key, value: v})
	}
}

// loadSequencer rebuilds the sequencer from the database, which must hold
// everything logged (the log replayed) when it is called.
func (db *DB) loadSequencer(ctx context.Context) error {
	return db.loadSequencerWith(ctx, nil)
}

// loadSequencerWith is loadSequencer with the dedupe window given, when
// seen is not nil, instead of read from the database.
func (db *DB) loadSequencerWith(ctx context.Context, seen *dedupe) error {
	s := sequencer{
		seen:     seen,
		catalog:  map[catalogKey]attr.Type{},
		keyCount: map[int64]int{},
	}
	rows, err := db.pool().QueryContext(ctx, "SELECT site_id, entity, key, type FROM attr_keys")
	if err != nil {
		return fmt.Errorf("load attribute catalog: %w", err)
	}
	for rows.Next() {
		var k catalogKey
		var t uint8
		if err := rows.Scan(&k.site, &k.entity, &k.key, &t); err != nil {
			rows.Close()
			return fmt.Errorf("load attribute catalog: %w", err)
		}
		s.catalog[k] = attr.Type(t)
		s.keyCount[k.site]++
	}
	rows.Close()
	if s.suppressed, err = db.loadSuppressed(ctx); err != nil {
		return err
	}
	if s.seen != nil {
		db.seq = s
		return nil
	}
	s.seen = newDedupe(db.opts.DedupeWindow)
	// The newest message IDs, oldest first so the ring evicts in order;
	// quarantined messages were acknowledged too, so a retry of one is a
	// duplicate as well.
	rows, err = db.pool().QueryContext(ctx, `SELECT site_id, message_id FROM (
		SELECT site_id, message_id, received_at FROM (
			SELECT site_id, message_id, received_at FROM events WHERE message_id <> ''
			UNION ALL
			SELECT site_id, message_id, quarantined_at FROM quarantine WHERE message_id <> '')
		ORDER BY received_at DESC LIMIT ?) ORDER BY received_at`, db.opts.DedupeWindow)
	if err != nil {
		return fmt.Errorf("load recent message ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var site int64
		var id string
		if err := rows.Scan(&site, &id); err != nil {
			return fmt.Errorf("load recent message ids: %w", err)
		}
		s.seen.add(messageHash(site, id))
	}
	db.seq = s
	return rows.Err()
}
