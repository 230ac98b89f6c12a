package scaled

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/pgstore"
)

// lockSpace is the first key of the sites' advisory locks
// (pg_advisory_xact_lock(lockSpace, site)).
const lockSpace = 7301

// Identity kinds, as duckstore and chstore store them.
const (
	idUser  = store.IDUser
	idAnon  = store.IDAnonymous
	idGroup = store.IDGroup
)

// Write stores msgs. With a write-ahead log (Options.WALDir) it returns
// once they are durable in the log, and the applier stores them shortly
// after (wal.go); without one, once they are stored (apply).
func (db *DB) Write(ctx context.Context, msgs []store.Message) ([]store.Outcome, error) {
	if db.log != nil {
		return db.logWrite(ctx, msgs)
	}
	return db.apply(ctx, msgs, nil)
}

// apply stores msgs: when it returns without error, every message that is
// not a duplicate or refused is in ClickHouse, and its decisions are
// committed in PostgreSQL. A batch is one PostgreSQL transaction holding
// its sites' locks; its ClickHouse rows are inserted before the commit, so
// a failure leaves no decision without rows (but may leave rows of a
// batch that then failed: see the design notes). mark, when set, runs in
// the transaction before the commit (the log records what it applied).
func (db *DB) apply(ctx context.Context, msgs []store.Message, mark func(t *txn) error) ([]store.Outcome, error) {
	out := make([]store.Outcome, len(msgs))
	var keep []int
	for i := range msgs {
		if f := store.InvalidText(&msgs[i]); f != "" {
			out[i].Refused = &store.Warning{Code: "invalid_utf8", Field: f, Message: f + " is not valid UTF-8"}
			continue
		}
		keep = append(keep, i)
	}
	if len(keep) == 0 && mark == nil {
		return out, nil
	}
	db.collectGarbage(ctx)
	err := db.inTx(ctx, func(t *txn) error {
		if mark != nil {
			if err := mark(t); err != nil {
				return err
			}
		}
		if len(keep) == 0 {
			return nil
		}
		var sites []int64
		for _, i := range keep {
			if !slices.Contains(sites, msgs[i].SiteID) {
				sites = append(sites, msgs[i].SiteID)
			}
		}
		if err := t.lockSites(sites); err != nil {
			return err
		}
		fresh, err := t.dedupe(msgs, keep, out)
		if err != nil {
			return err
		}
		if fresh, err = t.unsuppressed(msgs, fresh, out); err != nil {
			return err
		}
		if len(fresh) == 0 {
			return nil
		}
		t.minTs, t.maxTs = msgs[fresh[0]].Timestamp, msgs[fresh[0]].Timestamp
		for _, i := range fresh {
			t.minTs = minTime(t.minTs, msgs[i].Timestamp)
			t.maxTs = maxTime(t.maxTs, msgs[i].Timestamp)
		}
		t.drawSize = max(16, min(len(fresh), 1000))
		if err := t.prefetch(msgs, fresh); err != nil {
			return err
		}
		for _, i := range fresh {
			if err := t.apply(&msgs[i], &out[i]); err != nil {
				return err
			}
		}
		return t.finish()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inTx runs fn in a PostgreSQL transaction with a new txn, and commits
// when it succeeds.
func (db *DB) inTx(ctx context.Context, fn func(t *txn) error) error {
	tx, err := db.pg.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%w: begin: %w", store.ErrUnavailable, err)
	}
	defer tx.Rollback(context.Background())
	t := newTxn(ctx, db, tx)
	if err := fn(t); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%w: commit: %w", store.ErrUnavailable, err)
	}
	if t.recorded > 0 {
		db.wake.call()
	}
	return nil
}

// collectGarbage forgets message IDs older than the dedupe window and
// sessions untouched for SessionKeep, at most once a minute per node.
func (db *DB) collectGarbage(ctx context.Context) {
	now := db.opts.Now()
	last := db.lastGC.Load()
	if now.UnixNano()-last < int64(time.Minute) || !db.lastGC.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	db.pg.Exec(ctx, "DELETE FROM message_ids WHERE seen_at < $1", now.Add(-db.opts.DedupeWindow))
	// Sessions no message joined for SessionKeep: a message that late
	// opens a session of its own.
	db.pg.Exec(ctx, "DELETE FROM visit_sessions WHERE touched_at < $1", now.Add(-db.opts.SessionKeep))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// txn is one transaction's decisions: what it read from PostgreSQL and
// the rows it will send to ClickHouse.
type txn struct {
	ctx context.Context
	db  *DB
	tx  pgx.Tx
	now time.Time

	ids   map[idKey]int64  // external ID → key it was given (0: known not to exist)
	live  map[int64]int64  // key → the live key it is merged into (itself when not merged)
	named map[int64]bool   // live key → has a user ID
	types map[int64]*types // site → attribute keys

	values   map[int64]map[string]*curVal // live entity key → current values, as loaded and changed
	dirty    map[valKey]bool              // values to write back
	visits   map[int64][]*session         // live user key → its sessions near the batch's times
	sessions map[int64]*session           // sessions to write back, by ID
	links    []link                       // user–company links to record

	minTs, maxTs time.Time
	rows         chRows

	touch    pgstore.Touch      // the change counters to move at the commit
	changed  map[siteUser]bool  // users whose data changed, for change causes
	causes   []store.AlertCause // other causes to record
	recorded int                // causes recorded so far
	tag      walTag             // the log position the rows carry (an applier's)

	locked        map[int64]bool // the sites whose locks the transaction holds
	drawSize      int            // how many keys a draw of a sequence takes
	keyPool       []int64        // entity keys drawn, not used yet
	sessionPool   []int64        // session IDs drawn, not used yet
	newEntities   []newEntity    // to write at the flush
	newIdentities []newIdentity
	identify      []int64 // entities that got a user ID, to mark at the flush
}

type siteUser struct{ site, user int64 }

type link struct{ site, user, group int64 }

type idKey struct {
	site int64
	kind uint8
	id   string
}

type valKey struct {
	key  int64
	name string
}

type types struct {
	byKey map[typeKey]attr.Type
}

type typeKey struct {
	entity store.Entity
	key    string
}

type curVal struct {
	site   int64
	entity store.Entity
	value  attr.Value // Null: unset in this batch (deleted when written back)
	at     time.Time
}

func newTxn(ctx context.Context, db *DB, tx pgx.Tx) *txn {
	return &txn{ctx: ctx, db: db, tx: tx, now: db.opts.Now().UTC(),
		ids: map[idKey]int64{}, live: map[int64]int64{}, named: map[int64]bool{}, types: map[int64]*types{},
		values: map[int64]map[string]*curVal{}, dirty: map[valKey]bool{}, visits: map[int64][]*session{},
		sessions: map[int64]*session{}, rows: newChRows(), changed: map[siteUser]bool{}, locked: map[int64]bool{},
		drawSize: 16}
}

// lockSites takes the sites' advisory locks, in order.
func (t *txn) lockSites(sites []int64) error {
	slices.Sort(sites)
	for _, s := range sites {
		if _, err := t.tx.Exec(t.ctx, "SELECT pg_advisory_xact_lock($1, $2)", int32(lockSpace), int32(s)); err != nil {
			return fmt.Errorf("%w: lock site %d: %w", store.ErrUnavailable, s, err)
		}
		t.locked[s] = true
	}
	return nil
}

// dedupe marks the messages of keep that repeat an earlier message ID
// (in the batch or in the window) and returns the others.
func (t *txn) dedupe(msgs []store.Message, keep []int, out []store.Outcome) ([]int, error) {
	type mk struct {
		site int64
		id   string
	}
	seen := map[mk]bool{}
	var sites []int64
	var ids []string
	var cand []int
	for _, i := range keep {
		m := &msgs[i]
		if m.MessageID == "" {
			cand = append(cand, i)
			continue
		}
		k := mk{m.SiteID, m.MessageID}
		if seen[k] {
			out[i].Duplicate = true
			continue
		}
		seen[k] = true
		sites, ids = append(sites, m.SiteID), append(ids, m.MessageID)
		cand = append(cand, i)
	}
	fresh := map[mk]bool{}
	if len(ids) > 0 {
		rows, err := t.tx.Query(t.ctx, `INSERT INTO message_ids (site_id, message_id, seen_at)
			SELECT s, m, $3 FROM unnest($1::BIGINT[], $2::TEXT[]) AS x(s, m)
			ON CONFLICT DO NOTHING RETURNING site_id, message_id`, sites, ids, t.now)
		if err != nil {
			return nil, fmt.Errorf("%w: record message IDs: %w", store.ErrUnavailable, err)
		}
		for rows.Next() {
			var k mk
			if err := rows.Scan(&k.site, &k.id); err != nil {
				rows.Close()
				return nil, err
			}
			fresh[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("%w: record message IDs: %w", store.ErrUnavailable, err)
		}
	}
	var res []int
	for _, i := range cand {
		m := &msgs[i]
		if m.MessageID != "" && !fresh[mk{m.SiteID, m.MessageID}] {
			out[i].Duplicate = true
			continue
		}
		res = append(res, i)
	}
	return res, nil
}

// apply decides one message: its user, session, attributes and rows.
func (t *txn) apply(m *store.Message, out *store.Outcome) error {
	var user int64
	var err error
	if m.Kind == store.KindAlias {
		user, err = t.alias(m)
	} else {
		user, err = t.resolveUser(m.SiteID, m.UserID, m.AnonymousID)
	}
	if err != nil {
		return err
	}
	var sess int64
	switch m.Kind {
	case store.KindTrack, store.KindPage, store.KindScreen:
		s, err := t.sessionFor(user, m)
		if err != nil {
			return err
		}
		sess = s.id
	default:
		if sess, err = t.sessionAt(user, m); err != nil {
			return err
		}
	}
	entity, entityKey := store.EntityUser, user
	if m.Kind == store.KindGroup {
		entity = store.EntityGroup
		if entityKey, err = t.resolveGroup(m.SiteID, m.GroupID); err != nil {
			return err
		}
		t.links = append(t.links, link{m.SiteID, user, entityKey})
	}
	if m.Kind == store.KindIdentify || m.Kind == store.KindGroup {
		if err := t.attributes(m, out, entity, entityKey); err != nil {
			return err
		}
	}
	t.rows.event(m, user, sess)
	switch m.Kind {
	case store.KindTrack, store.KindPage, store.KindScreen:
		t.changedUser(m.SiteID, user, false, true)
	default:
		t.changedUser(m.SiteID, user, true, false)
	}
	return nil
}

// attributes checks a message's traits against the site's keys and sets
// the values that fit. A value of the wrong type is refused for its key
// alone: recorded as a rejection and reported as a warning.
func (t *txn) attributes(m *store.Message, out *store.Outcome, entity store.Entity, key int64) error {
	ty, err := t.siteTypes(m.SiteID)
	if err != nil {
		return err
	}
	for _, p := range m.Traits {
		tk := typeKey{entity, p.Key}
		typ, known := ty.byKey[tk]
		if !known {
			if typ, known = store.NewTraitKey(p, len(ty.byKey), t.db.opts.MaxAttrKeys, out); !known {
				continue
			}
			if typ, err = t.newKey(m.SiteID, entity, p.Key, typ, m.ReceivedAt); err != nil {
				return err
			}
			ty.byKey[tk] = typ
		}
		v, ok, rej := store.ConformTrait(p, typ, out)
		if !ok {
			t.rows.rejection(m, entity, key, p.Key, typ, rej.Received, rej.Value)
			continue
		}
		if err := t.set(m.SiteID, entity, key, p.Key, v, typ, m.Timestamp); err != nil {
			return err
		}
	}
	return nil
}

// siteTypes returns a site's attribute keys, loaded once a transaction.
func (t *txn) siteTypes(site int64) (*types, error) {
	if ty := t.types[site]; ty != nil {
		return ty, nil
	}
	ty := &types{byKey: map[typeKey]attr.Type{}}
	rows, err := t.tx.Query(t.ctx, "SELECT entity, key, type FROM attr_keys WHERE site_id = $1", site)
	if err != nil {
		return nil, fmt.Errorf("load attribute keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, typ int16
		var k string
		if err := rows.Scan(&e, &k, &typ); err != nil {
			return nil, fmt.Errorf("load attribute keys: %w", err)
		}
		ty.byKey[typeKey{store.Entity(e), k}] = attr.Type(typ)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load attribute keys: %w", err)
	}
	t.types[site] = ty
	return ty, nil
}

// newKey records a new attribute key with its type. Another
// transaction's key of the same name (possible only without the site
// lock) wins: its type is returned.
func (t *txn) newKey(site int64, entity store.Entity, key string, typ attr.Type, at time.Time) (attr.Type, error) {
	var got int16
	err := t.tx.QueryRow(t.ctx, `INSERT INTO attr_keys (site_id, entity, key, type, first_seen) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (site_id, entity, key) DO UPDATE SET type = attr_keys.type RETURNING type`,
		site, int16(entity), key, int16(typ), at.UTC()).Scan(&got)
	if err != nil {
		return 0, fmt.Errorf("record attribute key %s: %w", key, err)
	}
	t.rows.attrKey(site, entity, key, attr.Type(got), at, 1)
	t.touch.Site = true
	return attr.Type(got), nil
}

// set changes an entity's attribute: a history row when the value
// changes, and a new current value unless an older value arrives late.
func (t *txn) set(site int64, entity store.Entity, key int64, name string, v attr.Value, typ attr.Type, at time.Time) error {
	vals, err := t.valuesOf(key)
	if err != nil {
		return err
	}
	c := vals[name]
	if c != nil && c.value.Null {
		c = nil
	}
	if (c == nil && v.Null) || (c != nil && c.value.Equal(v)) {
		return nil
	}
	t.rows.history(site, entity, key, name, v, typ, at)
	if entity == store.EntityGroup {
		t.touch.Site = true // a company's value: any of its users may move
	}
	if c != nil && at.Before(c.at) {
		return nil // an older value arriving late: history only
	}
	if v.Null {
		v.Type = typ
	}
	vals[name] = &curVal{site: site, entity: entity, value: v, at: at}
	t.dirty[valKey{key, name}] = true
	t.rows.current(site, entity, key, name, v, at)
	return nil
}

// valuesOf returns an entity's current values, loaded once.
func (t *txn) valuesOf(key int64) (map[string]*curVal, error) {
	if vals, ok := t.values[key]; ok {
		return vals, nil
	}
	vals := map[string]*curVal{}
	rows, err := t.tx.Query(t.ctx, "SELECT site_id, entity, key, type, s, n, b, t, changed_at FROM attr_values WHERE entity_key = $1", key)
	if err != nil {
		return nil, fmt.Errorf("load current attributes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c curVal
		var name string
		if err := scanValue(rows, &c.site, &c.entity, &name, &c.value, &c.at); err != nil {
			return nil, fmt.Errorf("load current attributes: %w", err)
		}
		vals[name] = &c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load current attributes: %w", err)
	}
	t.values[key] = vals
	return vals, nil
}

// scanValue scans (site, entity, key, type, s, n, b, t, changed_at).
func scanValue(r pgx.Row, site *int64, entity *store.Entity, name *string, v *attr.Value, at *time.Time) error {
	var e, typ int16
	var s *string
	var n *float64
	var b *bool
	var ts *time.Time
	if err := r.Scan(site, &e, name, &typ, &s, &n, &b, &ts, at); err != nil {
		return err
	}
	*entity = store.Entity(e)
	*v = valueOf(attr.Type(typ), s, n, b, ts)
	*at = at.UTC()
	return nil
}

func valueOf(typ attr.Type, s *string, n *float64, b *bool, t *time.Time) attr.Value {
	v := attr.Value{Type: typ}
	switch {
	case s != nil:
		v.Str = *s
	case n != nil:
		v.Num = *n
	case b != nil:
		v.Bool = *b
	case t != nil:
		v.Time = t.UTC()
	default:
		v.Null = true
	}
	return v
}

// typed returns the s, n, b, t columns of a value.
func typed(v attr.Value) (s *string, n *float64, b *bool, t *time.Time) {
	if v.Null {
		return
	}
	switch v.Type {
	case attr.String:
		s = &v.Str
	case attr.Number:
		n = &v.Num
	case attr.Boolean:
		b = &v.Bool
	case attr.Datetime:
		tt := v.Time.UTC()
		t = &tt
	}
	return
}

// flush writes the transaction's changed values, sessions and links to
// PostgreSQL (before a merge moves them, and at the end).
func (t *txn) flush() error {
	if err := t.flushIdentities(); err != nil {
		return err
	}
	for k := range t.dirty {
		c := t.values[k.key][k.name]
		var err error
		if c == nil || c.value.Null {
			_, err = t.tx.Exec(t.ctx, "DELETE FROM attr_values WHERE entity_key = $1 AND key = $2", k.key, k.name)
		} else {
			s, n, b, ts := typed(c.value)
			_, err = t.tx.Exec(t.ctx, `INSERT INTO attr_values (site_id, entity, entity_key, key, type, s, n, b, t, changed_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (entity_key, key) DO UPDATE SET type = EXCLUDED.type, s = EXCLUDED.s, n = EXCLUDED.n,
					b = EXCLUDED.b, t = EXCLUDED.t, changed_at = EXCLUDED.changed_at`,
				c.site, int16(c.entity), k.key, k.name, int16(c.value.Type), s, n, b, ts, c.at.UTC())
		}
		if err != nil {
			return fmt.Errorf("write current attribute %s: %w", k.name, err)
		}
	}
	clear(t.dirty)
	var sessions []*session
	for _, s := range t.sessions {
		if s.flushed != s.version {
			sessions = append(sessions, s)
		}
	}
	if len(sessions) > 0 {
		if err := t.writeSessions(sessions); err != nil {
			return err
		}
	}
	if len(t.links) > 0 {
		users := make([]int64, len(t.links))
		groups := make([]int64, len(t.links))
		site := map[int64]int64{}
		for i, l := range t.links {
			users[i], groups[i] = t.liveOf(l.user), l.group
			site[l.group] = l.site
		}
		t.links = nil
		rows, err := t.tx.Query(t.ctx, `INSERT INTO group_links (user_key, group_key)
			SELECT DISTINCT u, g FROM unnest($1::BIGINT[], $2::BIGINT[]) AS x(u, g)
			ON CONFLICT DO NOTHING RETURNING user_key, group_key`, users, groups)
		if err != nil {
			return fmt.Errorf("link users to companies: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u, g int64
			if err := rows.Scan(&u, &g); err != nil {
				return err
			}
			t.rows.link(site[g], u, g, t.now)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("link users to companies: %w", err)
		}
	}
	return nil
}

// finish writes the decisions back, sends the rows to ClickHouse, then
// records the alert causes and moves the change counters in the
// transaction, so that the change, its causes and its counters commit
// together.
func (t *txn) finish() error {
	if err := t.flush(); err != nil {
		return err
	}
	for _, s := range t.sessions {
		t.rows.session(s)
	}
	if err := t.rows.send(t.ctx, t.db.ch, t.tag); err != nil {
		return fmt.Errorf("%w: insert into ClickHouse: %w", store.ErrUnavailable, err)
	}
	causes := t.causes
	for su := range t.changed {
		causes = append(causes, store.AlertCause{SiteID: su.site, Kind: store.CauseChange, UserKey: t.liveOf(su.user)})
	}
	n, err := pgstore.RecordAlertCausesIn(t.ctx, t.tx, causes, t.now)
	if err != nil {
		return err
	}
	t.recorded += n
	// The counters of the keys as written and of the users they belong
	// to now (a key merged away is read under its own key until then).
	for _, keys := range []*[]int64{&t.touch.Profile, &t.touch.Activity} {
		for _, k := range *keys {
			if l := t.liveOf(k); l != k {
				*keys = append(*keys, l)
			}
		}
	}
	if err := touchIn(t.ctx, t.tx, t.touch); err != nil {
		return err
	}
	t.causes, t.touch = nil, pgstore.Touch{}
	clear(t.changed)
	return nil
}

// changedUser notes that a user's data changed: a change cause for the
// sites that watch them, and the counters of its kind (profile or
// activity).
func (t *txn) changedUser(site, user int64, profile, activity bool) {
	t.changed[siteUser{site, user}] = true
	if profile {
		t.touch.Profile = append(t.touch.Profile, user)
	}
	if activity {
		t.touch.Activity = append(t.touch.Activity, user)
	}
}

// errNoRows reports pgx's no-rows error.
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// joinKinds spells the kind for errors.
func kindName(k uint8) string {
	return [...]string{"", "user", "anonymous", "group"}[k]
}

// suppressedWarning is the outcome of a message dropped because it names
// an ID deleted with suppression (duckstore's).
var suppressedWarning = store.Warning{Code: "suppressed", Field: "userId",
	Message: "this ID was deleted at its owner's request with suppression; its messages are not stored"}

// unsuppressed returns the messages of idx that name no ID deleted with
// suppression (as user ID, anonymous ID or, for an alias, previous ID of
// either kind), and marks the others' outcomes.
func (t *txn) unsuppressed(msgs []store.Message, idx []int, out []store.Outcome) ([]int, error) {
	var sites, hashes []int64
	for _, i := range idx {
		m := &msgs[i]
		for _, h := range messageHashes(m) {
			sites, hashes = append(sites, m.SiteID), append(hashes, h)
		}
	}
	if len(hashes) == 0 {
		return idx, nil
	}
	rows, err := t.tx.Query(t.ctx, `SELECT s.site_id, s.id_hash FROM suppressed_ids s
		JOIN unnest($1::BIGINT[], $2::BIGINT[]) AS x(site, h) ON s.site_id = x.site AND s.id_hash = x.h`, sites, hashes)
	if err != nil {
		return nil, fmt.Errorf("look up suppressed IDs: %w", err)
	}
	type sh struct{ site, hash int64 }
	found := map[sh]bool{}
	for rows.Next() {
		var k sh
		if err := rows.Scan(&k.site, &k.hash); err != nil {
			rows.Close()
			return nil, fmt.Errorf("look up suppressed IDs: %w", err)
		}
		found[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up suppressed IDs: %w", err)
	}
	if len(found) == 0 {
		return idx, nil
	}
	var keep []int
	for _, i := range idx {
		m := &msgs[i]
		dropped := false
		for _, h := range messageHashes(m) {
			if found[sh{m.SiteID, h}] {
				dropped = true
				break
			}
		}
		if dropped {
			w := suppressedWarning
			out[i].Refused = &w
			continue
		}
		keep = append(keep, i)
	}
	return keep, nil
}

// messageHashes are the hashes of the IDs a message names.
func messageHashes(m *store.Message) []int64 {
	var out []int64
	add := func(kind uint8, id string) {
		if id != "" {
			out = append(out, store.IDHash(m.SiteID, kind, id))
		}
	}
	add(idUser, m.UserID)
	add(idAnon, m.AnonymousID)
	add(idUser, m.PreviousID)
	add(idAnon, m.PreviousID)
	return out
}
