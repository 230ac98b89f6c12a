package duckstore

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/store"
)

// prefetchIdentities loads, in one query, the entity keys of every external
// ID the batch names that the cache lacks, and remembers which do not exist.
func (db *DB) prefetchIdentities(ctx context.Context, b *batch, ds []decided) error {
	w := db.w
	var want []int64
	need := func(site int64, kind uint8, id string) {
		if id == "" {
			return
		}
		h := idHash(site, kind, id)
		if _, ok := w.ids.get(h); !ok && !b.absent[h] {
			b.absent[h] = true // until the query says otherwise
			want = append(want, h)
		}
	}
	for i := range ds {
		m := &ds[i].m
		need(m.SiteID, idUser, m.UserID)
		need(m.SiteID, idAnon, m.AnonymousID)
		need(m.SiteID, idGroup, m.GroupID)
		need(m.SiteID, idUser, m.PreviousID)
		need(m.SiteID, idAnon, m.PreviousID)
	}
	if len(want) == 0 {
		return nil
	}
	rows, err := db.wconn.QueryContext(ctx, `SELECT i.id_hash, i.entity_key,
			EXISTS (SELECT 1 FROM identities u WHERE u.entity_key = i.entity_key AND u.kind = 1)
		FROM identities i WHERE i.id_hash IN (SELECT unnest(?::BIGINT[]))`, want)
	if err != nil {
		return fmt.Errorf("look up identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h int64
		var key int64
		var named bool
		if err := rows.Scan(&h, &key, &named); err != nil {
			return fmt.Errorf("look up identities: %w", err)
		}
		delete(b.absent, h)
		w.ids.put(h, key)
		w.named.put(key, named)
	}
	return rows.Err()
}

// lookup returns the entity key of an external ID, following merges.
func (db *DB) lookup(ctx context.Context, b *batch, site int64, kind uint8, id string) (int64, bool) {
	w := db.w
	h := idHash(site, kind, id)
	key, ok := w.ids.get(h)
	if !ok {
		if b.absent[h] {
			return 0, false
		}
		// Not prefetched (evicted since): ask the database.
		err := db.wconn.QueryRowContext(ctx,
			"SELECT entity_key FROM identities WHERE id_hash = ? AND site_id = ? AND kind = ? AND external_id = ?",
			h, site, kind, id).Scan(&key)
		if err != nil {
			b.absent[h] = true
			return 0, false
		}
		w.ids.put(h, key)
	}
	for {
		next, ok := w.redirect[key]
		if !ok {
			return key, true
		}
		key = next
	}
}

// identified reports whether an entity key has a user ID.
func (db *DB) identified(ctx context.Context, key int64) bool {
	if named, ok := db.w.named.get(key); ok {
		return named
	}
	var named bool
	if err := db.wconn.QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM identities WHERE entity_key = ? AND kind = 1)", key).Scan(&named); err != nil {
		db.log.Warn("look up identity", "key", key, "err", err)
	}
	db.w.named.put(key, named)
	return named
}

// addIdentity records that an external ID belongs to key.
func (db *DB) addIdentity(b *batch, site int64, kind uint8, id string, key int64) {
	h := idHash(site, kind, id)
	b.identities = append(b.identities, identityRow{site: site, hash: h, kind: kind, id: id, key: key, at: b.now})
	delete(b.absent, h)
	db.w.ids.put(h, key)
	if kind == idUser {
		db.w.named.put(key, true)
	}
}

// create makes a new entity for an external ID.
func (db *DB) create(b *batch, site int64, kind uint8, id string) int64 {
	key := db.w.nextKey
	db.w.nextKey++
	db.w.named.put(key, false)
	db.addIdentity(b, site, kind, id, key)
	return key
}

// resolveUser returns the entity key of the user a message is about,
// creating and joining identities as the Segment spec implies: an anonymous
// visitor who identifies becomes that user, and their earlier events with
// them. An anonymous ID that already belongs to another identified user (a
// shared browser) is not merged.
func (db *DB) resolveUser(ctx context.Context, b *batch, site int64, userID, anonID string) int64 {
	if userID == "" {
		if key, ok := db.lookup(ctx, b, site, idAnon, anonID); ok {
			return key
		}
		return db.create(b, site, idAnon, anonID)
	}
	uk, uok := db.lookup(ctx, b, site, idUser, userID)
	if anonID == "" {
		if !uok {
			uk = db.create(b, site, idUser, userID)
		}
		return uk
	}
	ak, aok := db.lookup(ctx, b, site, idAnon, anonID)
	switch {
	case uok && aok:
		if ak != uk && !db.identified(ctx, ak) {
			db.merge(b, ak, uk)
		}
	case uok:
		db.addIdentity(b, site, idAnon, anonID, uk)
	case aok && !db.identified(ctx, ak):
		db.addIdentity(b, site, idUser, userID, ak)
		uk = ak
	default:
		uk = db.create(b, site, idUser, userID)
		if !aok {
			db.addIdentity(b, site, idAnon, anonID, uk)
		}
	}
	return uk
}

// resolveGroup returns the entity key of a company, creating it if new.
func (db *DB) resolveGroup(b *batch, site int64, groupID string) int64 {
	if key, ok := db.lookup(context.Background(), b, site, idGroup, groupID); ok {
		return key
	}
	return db.create(b, site, idGroup, groupID)
}

// alias joins previousId (a user ID or an anonymous ID) into userId.
func (db *DB) alias(ctx context.Context, b *batch, m *store.Message) int64 {
	into := db.resolveUser(ctx, b, m.SiteID, m.UserID, "")
	from, ok := db.lookup(ctx, b, m.SiteID, idUser, m.PreviousID)
	if !ok {
		from, ok = db.lookup(ctx, b, m.SiteID, idAnon, m.PreviousID)
	}
	switch {
	case !ok:
		// Unknown so far (the alias came first): later messages under
		// previousId, as a user ID or an anonymous ID, join the user.
		db.addIdentity(b, m.SiteID, idAnon, m.PreviousID, into)
		db.addIdentity(b, m.SiteID, idUser, m.PreviousID, into)
	case from != into:
		db.merge(b, from, into)
	}
	return into
}

// merge joins entity from into entity into. The rows move in SQL when the
// batch commits; in memory, lookups of from are redirected.
func (db *DB) merge(b *batch, from, into int64) {
	w := db.w
	b.merges = append(b.merges, [2]int64{from, into})
	w.redirect[from] = into
	if named, _ := w.named.get(from); named {
		w.named.put(into, true)
	}
	db.mergeSessions(b, from, into)
}

// Merge joins two identities on an explicit request (the merge API). It
// holds back new writes and waits for everything logged to be applied, so
// that it acts on the data as acknowledged.
func (db *DB) Merge(ctx context.Context, siteID int64, from, into store.Identity) error {
	unlock, err := db.exclusive(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	b := newBatch(db.opts.Now())
	fk, err := db.keyOf(ctx, b, siteID, from)
	if err != nil {
		return err
	}
	ik, err := db.keyOf(ctx, b, siteID, into)
	if err != nil {
		return err
	}
	if fk == ik {
		return nil
	}
	db.merge(b, fk, ik)
	if err := db.commit(ctx, b); err != nil {
		return db.fail(ctx, err)
	}
	return nil
}

func (db *DB) keyOf(ctx context.Context, b *batch, site int64, id store.Identity) (int64, error) {
	kind, err := store.IdentityKind(id.Kind)
	if err != nil {
		return 0, err
	}
	key, ok := db.lookup(ctx, b, site, kind, id.ID)
	if !ok {
		return 0, fmt.Errorf("%s %q: %w", id.Kind, id.ID, store.ErrNotFound)
	}
	return key, nil
}
