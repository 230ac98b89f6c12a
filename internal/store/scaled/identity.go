package scaled

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/store"
)

// prefetch loads, in one query, the keys of every external ID the
// messages name.
func (t *txn) prefetch(msgs []store.Message, idx []int) error {
	var sites []int64
	var kinds []int16
	var ids []string
	add := func(site int64, kind uint8, id string) {
		if id == "" {
			return
		}
		k := idKey{site, kind, id}
		if _, ok := t.ids[k]; ok {
			return
		}
		t.ids[k] = 0 // until the query says otherwise
		sites, kinds, ids = append(sites, site), append(kinds, int16(kind)), append(ids, id)
	}
	for _, i := range idx {
		m := &msgs[i]
		add(m.SiteID, idUser, m.UserID)
		add(m.SiteID, idAnon, m.AnonymousID)
		add(m.SiteID, idGroup, m.GroupID)
		add(m.SiteID, idUser, m.PreviousID)
		add(m.SiteID, idAnon, m.PreviousID)
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := t.tx.Query(t.ctx, `SELECT i.site_id, i.kind, i.external_id, i.entity_key,
			coalesce(e.merged_into, e.key), l.identified
		FROM unnest($1::BIGINT[], $2::SMALLINT[], $3::TEXT[]) AS x(s, k, id)
		JOIN identities i ON i.site_id = x.s AND i.kind = x.k AND i.external_id = x.id
		JOIN entities e ON e.key = i.entity_key
		JOIN entities l ON l.key = coalesce(e.merged_into, e.key)`, sites, kinds, ids)
	if err != nil {
		return fmt.Errorf("look up identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k idKey
		var kind int16
		var raw, live int64
		var named bool
		if err := rows.Scan(&k.site, &kind, &k.id, &raw, &live, &named); err != nil {
			return fmt.Errorf("look up identities: %w", err)
		}
		k.kind = uint8(kind)
		t.ids[k] = raw
		t.live[raw] = live
		t.named[live] = named
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up identities: %w", err)
	}
	rows.Close()
	// The known users' sessions near the batch, in one query.
	var users []int64
	for _, l := range t.live {
		if !slices.Contains(users, l) {
			users = append(users, l)
		}
	}
	if len(users) == 0 {
		return nil
	}
	return t.loadSessions(users)
}

// lookup returns the live key of an external ID.
func (t *txn) lookup(site int64, kind uint8, id string) (int64, bool, error) {
	k := idKey{site, kind, id}
	raw, ok := t.ids[k]
	if !ok {
		var live int64
		var named bool
		err := t.tx.QueryRow(t.ctx, `SELECT i.entity_key, coalesce(e.merged_into, e.key), l.identified
			FROM identities i JOIN entities e ON e.key = i.entity_key JOIN entities l ON l.key = coalesce(e.merged_into, e.key)
			WHERE i.site_id = $1 AND i.kind = $2 AND i.external_id = $3`, site, int16(kind), id).Scan(&raw, &live, &named)
		if errNoRows(err) {
			t.ids[k] = 0
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("look up identity: %w", err)
		}
		t.ids[k] = raw
		t.live[raw] = live
		t.named[live] = named
	}
	if raw == 0 {
		return 0, false, nil
	}
	return t.liveOf(raw), true, nil
}

// liveOf follows a key to the key it was merged into.
func (t *txn) liveOf(key int64) int64 {
	if l, ok := t.live[key]; ok {
		return l
	}
	return key
}

// identified reports whether a live key has a user ID.
func (t *txn) identified(key int64) (bool, error) {
	if named, ok := t.named[key]; ok {
		return named, nil
	}
	var named bool
	if err := t.tx.QueryRow(t.ctx, "SELECT identified FROM entities WHERE key = $1", key).Scan(&named); err != nil {
		return false, fmt.Errorf("look up entity: %w", err)
	}
	t.named[key] = named
	return named, nil
}

// create makes a new entity for an external ID. When another
// transaction gave the ID a key first (only possible without the site
// lock), that key is returned.
func (t *txn) create(site int64, kind uint8, id string) (int64, error) {
	key, err := t.newEntityKey()
	if err != nil {
		return 0, err
	}
	t.named[key] = kind == idUser
	t.live[key] = key
	t.visits[key] = nil                  // new: no sessions
	t.values[key] = map[string]*curVal{} // and no attributes
	if t.locked[site] {
		// Under the site's lock no other transaction can take the ID:
		// the rows wait for the flush, in one statement with the
		// batch's others.
		t.newEntities = append(t.newEntities, newEntity{key: key, site: site})
	} else if _, err := t.tx.Exec(t.ctx, "INSERT INTO entities (key, site_id, identified) VALUES ($1, $2, $3)",
		key, site, kind == idUser); err != nil {
		return 0, fmt.Errorf("new entity: %w", err)
	}
	return t.addIdentity(site, kind, id, key)
}

// newEntity is an entity created in the transaction, written at the
// flush.
type newEntity struct{ key, site int64 }

// newIdentity is an identity recorded in the transaction, written at the
// flush.
type newIdentity struct {
	site int64
	kind uint8
	id   string
	key  int64
}

// newEntityKey returns a new entity key, from a block drawn at once.
func (t *txn) newEntityKey() (int64, error) {
	return t.draw(&t.keyPool, "entity_keys")
}

// draw pops a value of pool, drawing a block of the sequence when it is
// empty: one round trip for many new keys.
func (t *txn) draw(pool *[]int64, sequence string) (int64, error) {
	if len(*pool) == 0 {
		rows, err := t.tx.Query(t.ctx, "SELECT nextval('"+sequence+"') FROM generate_series(1, $1)", t.drawSize)
		if err != nil {
			return 0, fmt.Errorf("draw from %s: %w", sequence, err)
		}
		vals, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, fmt.Errorf("draw from %s: %w", sequence, err)
		}
		*pool = vals
	}
	v := (*pool)[0]
	*pool = (*pool)[1:]
	return v, nil
}

// addIdentity records that an external ID belongs to key, and returns
// the live key the ID has (key, unless another transaction was first).
func (t *txn) addIdentity(site int64, kind uint8, id string, key int64) (int64, error) {
	if t.locked[site] {
		t.newIdentities = append(t.newIdentities, newIdentity{site: site, kind: kind, id: id, key: key})
	} else {
		var got int64
		err := t.tx.QueryRow(t.ctx, `INSERT INTO identities (site_id, kind, external_id, entity_key, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (site_id, kind, external_id) DO NOTHING RETURNING entity_key`,
			site, int16(kind), id, key, t.now).Scan(&got)
		if errNoRows(err) {
			delete(t.ids, idKey{site, kind, id})
			live, _, err := t.lookup(site, kind, id)
			return live, err
		}
		if err != nil {
			return 0, fmt.Errorf("record identity: %w", err)
		}
	}
	t.ids[idKey{site, kind, id}] = key
	t.rows.identity(site, kind, id, key, t.now)
	if kind == idUser && !t.named[key] {
		t.identify = append(t.identify, key)
		t.named[key] = true
	}
	return key, nil
}

// flushIdentities writes the entities and identities the transaction
// created, and marks the entities that got a user ID, in three
// statements.
func (t *txn) flushIdentities() error {
	if n := len(t.newEntities); n > 0 {
		keys, sites, named := make([]int64, n), make([]int64, n), make([]bool, n)
		for i, e := range t.newEntities {
			keys[i], sites[i], named[i] = e.key, e.site, t.named[e.key]
		}
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO entities (key, site_id, identified)
			SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BOOLEAN[])`, keys, sites, named); err != nil {
			return fmt.Errorf("new entities: %w", err)
		}
		t.newEntities = t.newEntities[:0]
	}
	if n := len(t.newIdentities); n > 0 {
		sites, kinds, ids, keys := make([]int64, n), make([]int16, n), make([]string, n), make([]int64, n)
		for i, x := range t.newIdentities {
			sites[i], kinds[i], ids[i], keys[i] = x.site, int16(x.kind), x.id, x.key
		}
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO identities (site_id, kind, external_id, entity_key, created_at)
			SELECT s, k, i, e, $5 FROM unnest($1::BIGINT[], $2::SMALLINT[], $3::TEXT[], $4::BIGINT[]) AS x(s, k, i, e)`,
			sites, kinds, ids, keys, t.now); err != nil {
			return fmt.Errorf("record identities: %w", err)
		}
		t.newIdentities = t.newIdentities[:0]
	}
	if len(t.identify) > 0 {
		if _, err := t.tx.Exec(t.ctx, "UPDATE entities SET identified = true WHERE key = ANY($1) AND NOT identified", t.identify); err != nil {
			return fmt.Errorf("mark entities identified: %w", err)
		}
		t.identify = t.identify[:0]
	}
	return nil
}

// resolveUser returns the key of the user a message is about, creating
// and joining identities as the Segment spec implies: an anonymous
// visitor who identifies becomes that user, and their earlier events with
// them. An anonymous ID that already belongs to another identified user
// (a shared browser) is not merged.
func (t *txn) resolveUser(site int64, userID, anonID string) (int64, error) {
	if userID == "" {
		key, ok, err := t.lookup(site, idAnon, anonID)
		if err != nil || ok {
			return key, err
		}
		return t.create(site, idAnon, anonID)
	}
	uk, uok, err := t.lookup(site, idUser, userID)
	if err != nil {
		return 0, err
	}
	if anonID == "" {
		if !uok {
			return t.create(site, idUser, userID)
		}
		return uk, nil
	}
	ak, aok, err := t.lookup(site, idAnon, anonID)
	if err != nil {
		return 0, err
	}
	var named bool
	if aok {
		if named, err = t.identified(ak); err != nil {
			return 0, err
		}
	}
	switch {
	case uok && aok:
		if ak != uk && !named {
			return uk, t.merge(site, ak, uk)
		}
		return uk, nil
	case uok:
		_, err := t.addIdentity(site, idAnon, anonID, uk)
		return uk, err
	case aok && !named:
		return t.addIdentity(site, idUser, userID, ak)
	default:
		uk, err := t.create(site, idUser, userID)
		if err != nil || aok {
			return uk, err
		}
		_, err = t.addIdentity(site, idAnon, anonID, uk)
		return uk, err
	}
}

// resolveGroup returns the key of a company, creating it if new.
func (t *txn) resolveGroup(site int64, groupID string) (int64, error) {
	key, ok, err := t.lookup(site, idGroup, groupID)
	if err != nil || ok {
		return key, err
	}
	return t.create(site, idGroup, groupID)
}

// alias joins previousId (a user ID or an anonymous ID) into userId.
func (t *txn) alias(m *store.Message) (int64, error) {
	into, err := t.resolveUser(m.SiteID, m.UserID, "")
	if err != nil {
		return 0, err
	}
	from, ok, err := t.lookup(m.SiteID, idUser, m.PreviousID)
	if err == nil && !ok {
		from, ok, err = t.lookup(m.SiteID, idAnon, m.PreviousID)
	}
	if err != nil {
		return 0, err
	}
	switch {
	case !ok:
		// Unknown so far (the alias came first): later messages under
		// previousId, as a user ID or an anonymous ID, join the user.
		if _, err := t.addIdentity(m.SiteID, idAnon, m.PreviousID, into); err != nil {
			return 0, err
		}
		_, err = t.addIdentity(m.SiteID, idUser, m.PreviousID, into)
		return into, err
	case from != into:
		return into, t.merge(m.SiteID, from, into)
	}
	return into, nil
}

// merge joins live entity from into live entity into: both rows locked,
// from and every entity merged into it pointed at into (chains stay one
// hop deep), numbered, and their overrides queued for ClickHouse. The
// transaction's values, sessions and links are written back first, then
// moved in PostgreSQL; ClickHouse's rows stay under their keys, mapped on
// every read.
func (t *txn) merge(site, from, into int64) error {
	if err := t.flush(); err != nil {
		return err
	}
	rows, err := t.tx.Query(t.ctx, "SELECT key FROM entities WHERE key = ANY($1) ORDER BY key FOR UPDATE", []int64{from, into})
	if err != nil {
		return fmt.Errorf("lock entities: %w", err)
	}
	rows.Close()
	var seq, version int64
	if err := t.tx.QueryRow(t.ctx, "SELECT nextval('merge_seqs'), nextval('override_versions')").Scan(&seq, &version); err != nil {
		return fmt.Errorf("number the merge: %w", err)
	}
	var named bool
	if err := t.tx.QueryRow(t.ctx, `UPDATE entities SET merged_into = $2, merged_seq = $3 WHERE key = $1 RETURNING identified`,
		from, into, seq).Scan(&named); err != nil {
		return fmt.Errorf("merge entity: %w", err)
	}
	t.rows.override(site, from, into, seq, version)
	t.changedUser(site, from, true, true)
	t.changedUser(site, into, true, true)
	chained, err := t.tx.Query(t.ctx, "UPDATE entities SET merged_into = $2 WHERE merged_into = $1 RETURNING key, merged_seq", from, into)
	if err != nil {
		return fmt.Errorf("flatten merges: %w", err)
	}
	var moved []int64
	for chained.Next() {
		var k, s int64
		if err := chained.Scan(&k, &s); err != nil {
			chained.Close()
			return err
		}
		moved = append(moved, k)
		t.rows.override(site, k, into, s, version)
	}
	chained.Close()
	if err := chained.Err(); err != nil {
		return fmt.Errorf("flatten merges: %w", err)
	}
	if named {
		if _, err := t.tx.Exec(t.ctx, "UPDATE entities SET identified = true WHERE key = $1", into); err != nil {
			return fmt.Errorf("merge entity: %w", err)
		}
		t.named[into] = true
	}
	for _, q := range []string{
		// On a key both have, the surviving user's value wins.
		"DELETE FROM attr_values f USING attr_values i WHERE f.entity_key = $1 AND i.entity_key = $2 AND i.key = f.key",
		"UPDATE attr_values SET entity_key = $2 WHERE entity_key = $1",
		"UPDATE visit_sessions SET user_key = $2 WHERE user_key = $1",
		"INSERT INTO group_links SELECT $2, group_key FROM group_links WHERE user_key = $1 ON CONFLICT DO NOTHING",
	} {
		if _, err := t.tx.Exec(t.ctx, q, from, into); err != nil {
			return fmt.Errorf("merge entity: %w", err)
		}
	}
	t.live[from] = into
	for k, l := range t.live {
		if l == from {
			t.live[k] = into
		}
	}
	for _, k := range moved {
		t.live[k] = into
	}
	for _, k := range []int64{from, into} {
		delete(t.values, k)
		delete(t.visits, k)
	}
	return nil
}

// Merge joins two identities on an explicit request (the merge API), in
// one transaction under the site's lock.
func (db *DB) Merge(ctx context.Context, siteID int64, from, into store.Identity) error {
	if err := db.Sync(ctx); err != nil {
		return err
	}
	return db.inTx(ctx, func(t *txn) error {
		if err := t.lockSites([]int64{siteID}); err != nil {
			return err
		}
		fk, err := t.keyOf(siteID, from)
		if err != nil {
			return err
		}
		ik, err := t.keyOf(siteID, into)
		if err != nil {
			return err
		}
		if fk == ik {
			return nil
		}
		if err := t.merge(siteID, fk, ik); err != nil {
			return err
		}
		return t.finish()
	})
}

// keyOf returns the live key of an identity, or an error wrapping
// store.ErrNotFound.
func (t *txn) keyOf(site int64, id store.Identity) (int64, error) {
	kind, err := store.IdentityKind(id.Kind)
	if err != nil {
		return 0, err
	}
	key, ok, err := t.lookup(site, kind, id.ID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%s %q: %w", id.Kind, id.ID, store.ErrNotFound)
	}
	return key, nil
}
