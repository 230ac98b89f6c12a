package duckstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// writerState is what the single writer keeps in memory between batches. It
// mirrors the database and is rebuilt from it at start and after a failed
// commit, so it never holds anything that is not also on disk.
type writerState struct {
	nextKey     int64
	nextSession int64
	ids         *genCache[int64, int64] // identity hash → entity key
	named       *genCache[int64, bool]  // entity key → has a user ID
	redirect    map[int64]int64         // merged key → key it joined
	seen        *dedupe
	catalog     map[catalogKey]attr.Type
	keyCount    map[int64]int      // attribute keys per site
	open        map[int64]*session // open session by user key
	lastSweep   time.Time
}

type catalogKey struct {
	site   int64
	entity store.Entity
	key    string
}

// batch collects the rows one Write will commit.
type batch struct {
	identities []identityRow
	events     []eventRow
	sets       []attrSet
	rejections []rejectionRow
	newKeys    []newKeyRow
	links      [][2]int64 // user key, group key
	merges     [][2]int64 // from, into
	touched    map[int64]*session
	closed     []*session
	absent     map[int64]bool // identity hashes known not to exist
	now        time.Time
}

type identityRow struct {
	site int64
	hash int64
	kind uint8
	id   string
	key  int64
	at   time.Time
}

type eventRow struct {
	m       *store.Message
	user    int64
	session int64
}

type attrSet struct {
	site   int64
	entity store.Entity
	key    int64 // entity key
	name   string
	value  attr.Value
	at     time.Time
}

type rejectionRow struct {
	site      int64
	entity    store.Entity
	key       string
	expected  attr.Type
	received  string
	value     string
	entityKey int64
	messageID string
	at        time.Time
}

type newKeyRow struct {
	site   int64
	entity store.Entity
	key    string
	typ    attr.Type
	at     time.Time
}

// Write stores msgs in one transaction and returns what happened to each.
// When it returns without error everything is committed.
func (db *DB) Write(ctx context.Context, msgs []store.Message) ([]store.Outcome, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.wconn == nil {
		return nil, store.ErrClosed
	}
	w := db.w
	if len(w.redirect) > db.opts.IdentityCache {
		// Committed merges are in the identities table: forget the
		// redirects, and the cache entries that might still need them.
		w.redirect = map[int64]int64{}
		w.ids = newGenCache[int64, int64](db.opts.IdentityCache)
		w.named = newGenCache[int64, bool](db.opts.IdentityCache)
	}
	b := &batch{touched: map[int64]*session{}, absent: map[int64]bool{}, now: db.opts.Now().UTC()}
	out := make([]store.Outcome, len(msgs))
	fresh := make([]bool, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		fresh[i] = m.MessageID == "" || w.seen.add(messageHash(m.SiteID, m.MessageID))
		out[i].Duplicate = !fresh[i]
	}
	if err := db.prefetchIdentities(ctx, b, msgs, fresh); err != nil {
		return nil, db.fail(ctx, err)
	}
	for i := range msgs {
		if fresh[i] {
			db.apply(ctx, b, &msgs[i], &out[i])
		}
	}
	db.sweepSessions(b)
	if err := db.commit(ctx, b); err != nil {
		return nil, db.fail(ctx, err)
	}
	return out, nil
}

// fail rebuilds the writer's memory from the database after a failed
// batch, so that nothing of the failed batch lingers, and returns err.
func (db *DB) fail(ctx context.Context, err error) error {
	if rerr := db.loadWriter(ctx); rerr != nil {
		db.log.Error("reload writer state after failed write", "err", rerr)
	}
	return fmt.Errorf("write batch: %w", err)
}

// apply turns one message into rows of the batch.
func (db *DB) apply(ctx context.Context, b *batch, m *store.Message, out *store.Outcome) {
	w := db.w
	var user, sess int64
	switch m.Kind {
	case store.KindAlias:
		user = db.alias(ctx, b, m)
	default:
		user = db.resolveUser(ctx, b, m.SiteID, m.UserID, m.AnonymousID)
	}
	switch m.Kind {
	case store.KindTrack, store.KindPage, store.KindScreen:
		sess = db.sessionFor(b, user, m)
	default:
		if s := w.open[user]; s != nil {
			sess = s.id
		}
	}
	switch m.Kind {
	case store.KindIdentify:
		db.setAttrs(b, out, m, store.EntityUser, user)
	case store.KindGroup:
		group := db.resolveGroup(b, m.SiteID, m.GroupID)
		b.links = append(b.links, [2]int64{user, group})
		db.setAttrs(b, out, m, store.EntityGroup, group)
	}
	b.events = append(b.events, eventRow{m: m, user: user, session: sess})
}

// loadWriter (re)builds the writer's memory from the database.
func (db *DB) loadWriter(ctx context.Context) error {
	w := &writerState{
		ids:       newGenCache[int64, int64](db.opts.IdentityCache),
		named:     newGenCache[int64, bool](db.opts.IdentityCache),
		redirect:  map[int64]int64{},
		seen:      newDedupe(db.opts.DedupeWindow),
		catalog:   map[catalogKey]attr.Type{},
		keyCount:  map[int64]int{},
		open:      map[int64]*session{},
		lastSweep: db.opts.Now(),
	}
	q := db.sql
	if err := q.QueryRowContext(ctx, "SELECT coalesce(max(entity_key), 0) + 1 FROM identities").Scan(&w.nextKey); err != nil {
		return fmt.Errorf("load next entity key: %w", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT greatest(
		(SELECT coalesce(max(session_id), 0) FROM all_sessions),
		(SELECT coalesce(max(session_id), 0) FROM events)) + 1`).Scan(&w.nextSession); err != nil {
		return fmt.Errorf("load next session id: %w", err)
	}
	rows, err := q.QueryContext(ctx, "SELECT site_id, entity, key, type FROM attr_keys")
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
		w.catalog[k] = attr.Type(t)
		w.keyCount[k.site]++
	}
	rows.Close()
	// The newest message IDs, oldest first so the ring evicts in order.
	rows, err = q.QueryContext(ctx, `SELECT site_id, message_id FROM (
		SELECT site_id, message_id, received_at FROM events WHERE message_id <> ''
		ORDER BY received_at DESC LIMIT ?) ORDER BY received_at`, db.opts.DedupeWindow)
	if err != nil {
		return fmt.Errorf("load recent message ids: %w", err)
	}
	for rows.Next() {
		var site int64
		var id string
		if err := rows.Scan(&site, &id); err != nil {
			rows.Close()
			return fmt.Errorf("load recent message ids: %w", err)
		}
		w.seen.add(messageHash(site, id))
	}
	rows.Close()
	if err := db.loadOpenSessions(ctx, w); err != nil {
		return err
	}
	db.w = w
	return nil
}
