package duckstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
)

// Bulk appends large amounts of already-consistent data (new users and
// companies with their attributes, closed sessions and events) without the
// per-message work of Write: no identity resolution, no sessionisation, no
// dedupe, no type inference. It is for synthetic data and imports that build
// whole histories, such as the data generator.
//
// The caller guarantees consistency: every user and company is new (Bulk
// does not look up existing identities), every current value set with
// SetAttr is also the last change of its key, sessions do not overlap and
// events fall inside their session. Bulk only checks attribute types against
// the site's catalog and the site's attribute key limit.
//
// Methods do not return errors; the first error is kept, later calls do
// nothing, and Err and Close report it, in the manner of bufio.Writer. Rows
// are buffered and appended by writer goroutines with connections of their
// own, so that generating and appending use every core; each writer commits
// about every Options.BulkChunkRows rows, so memory stays bounded. A failed
// or interrupted load keeps the chunks committed before the failure.
//
// A Bulk starts once everything acknowledged is applied, and holds back
// writes until Close: Write, Merge and ChangeType wait. Its rows bypass the
// write-ahead log; each chunk is durable when its transaction commits.
type Bulk struct {
	db      *DB
	ctx     context.Context
	release func() // lets writes go on
	buf     *bulkBuf
	newKeys map[catalogKey]*time.Time // first_seen of keys this load created
	bufRows int                       // rows in a full buffer
	full    chan *bulkBuf             // to the writers
	free    chan *bulkBuf             // back from them, emptied
	result  chan error                // each writer's final error
	failed  atomic.Bool               // set once err is
	late    map[int64]*lateCounts     // what late events add to appended sessions, by session
	events  eventcat.Batch            // the event catalog of the appended events
	mu      sync.Mutex                // guards err
	err     error
	closed  bool
	stats   BulkStats
	days    [2]atomic.Int64 // user_days and event_days rows the writers appended
	named   atomic.Int64    // events_by_name rows the writers appended
}

// BulkStats counts the rows a Bulk appended.
type BulkStats struct {
	Identities, Groups, Links int64
	AttrValues, AttrChanges   int64 // attr_current and attr_history rows
	Sessions, Events          int64
	Responses, Feedback       int64 // survey responses and feedback items
}

const (
	// bulkBufRows is how many rows are handed to a writer at once: large
	// enough that the hand-over costs nothing, small enough that the
	// buffers in flight stay within a few tens of megabytes. (At 1<<16
	// they held 48 MB of events alone, and the demo's peak RSS was
	// 120-160 MB higher for no gain in speed.)
	bulkBufRows = 1 << 14
	// bulkWriters is how many writers append at once. DuckDB spends about
	// a microsecond per appended row, mostly on the appending thread: on
	// two cores, generating 100k users (5M events) took 14s with one writer
	// and 10s with two; a third changed nothing measurable.
	bulkWriters = 2
	bulkBuffers = bulkWriters + 2
)

// Bulk starts a bulk load: it waits until everything acknowledged is in the
// database and holds back writes until Close.
func (db *DB) Bulk(ctx context.Context) (*Bulk, error) {
	release, err := db.exclusive(ctx)
	if err != nil {
		return nil, err
	}
	// Chunks commit on their own, the catalog's rows once at Close: if
	// the load fails or the process dies in between, the next start
	// rebuilds the catalog.
	if err := db.markEventCatalogStale(ctx, "bulk load"); err != nil {
		release()
		return nil, err
	}
	var conns []driver.Conn
	for range bulkWriters {
		conn, err := db.swap.Connect(ctx)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			release()
			return nil, fmt.Errorf("open bulk connection: %w", err)
		}
		conns = append(conns, conn)
	}
	b := &Bulk{
		db:      db,
		ctx:     ctx,
		release: release,
		newKeys: map[catalogKey]*time.Time{},
		late:    map[int64]*lateCounts{},
		bufRows: min(bulkBufRows, db.opts.BulkChunkRows),
		full:    make(chan *bulkBuf, bulkBuffers),
		free:    make(chan *bulkBuf, bulkBuffers),
		result:  make(chan error, bulkWriters),
	}
	for range bulkBuffers - 1 {
		b.free <- &bulkBuf{}
	}
	b.buf = &bulkBuf{}
	for _, conn := range conns {
		w := &bulkWriter{ctx: ctx, conn: conn, chunk: db.opts.BulkChunkRows, fail: b.fail, err: b.Err,
			vers: db.vers, days: &b.days, selectors: &db.selectors, named: &b.named}
		go func() { b.result <- w.run(b.full, b.free) }()
	}
	return b, nil
}

// NewUser creates a user with a user ID, anonymous IDs or both (at least one
// ID), first seen at at, and returns its entity key. The IDs must be new on
// the site.
func (b *Bulk) NewUser(site int64, at time.Time, userID string, anonIDs ...string) int64 {
	if b.Err() != nil {
		return 0
	}
	if userID == "" && len(anonIDs) == 0 {
		b.fail(errors.New("bulk: a user needs a user ID or an anonymous ID"))
		return 0
	}
	key := b.newEntity()
	if userID != "" {
		b.identity(site, idUser, userID, key, at)
	}
	for _, a := range anonIDs {
		b.identity(site, idAnon, a, key, at)
	}
	return key
}

// NewGroup creates a company (a Segment group) and returns its entity key.
// The group ID must be new on the site.
func (b *Bulk) NewGroup(site int64, at time.Time, groupID string) int64 {
	if b.Err() != nil {
		return 0
	}
	key := b.newEntity()
	b.identity(site, idGroup, groupID, key, at)
	b.stats.Groups++
	return key
}

func (b *Bulk) newEntity() int64 {
	key := b.db.w.nextKey
	b.db.w.nextKey++
	return key
}

func (b *Bulk) identity(site int64, kind uint8, id string, key int64, at time.Time) {
	b.buf.identities = append(b.buf.identities, identityRow{site: site, hash: idHash(site, kind, id), kind: kind,
		id: id, key: key, at: at})
	b.stats.Identities++
	b.added()
}

// Link records that a user belongs to a company.
func (b *Bulk) Link(site, user, group int64, at time.Time) {
	if b.Err() != nil {
		return
	}
	b.buf.links = append(b.buf.links, linkRow{site: site, user: user, group: group, at: at})
	b.stats.Links++
	b.added()
}

// SetAttr sets the current value of an attribute of a user or company (the
// entity key) and records it in the history, as its change at at. Call it
// once per entity and key, with the final value; earlier values go through
// AttrChange. A value whose type differs from the key's type on the site is
// an error.
func (b *Bulk) SetAttr(site int64, entity store.Entity, key int64, name string, v attr.Value, at time.Time) {
	if v.Null {
		b.fail(fmt.Errorf("bulk: %s: a current value cannot be null; record the unset with AttrChange", name))
		return
	}
	if _, ok := b.checkKey(site, entity, name, v, at); !ok {
		return
	}
	b.buf.current = append(b.buf.current, attrSet{site: site, entity: entity, key: key, name: name, value: v, at: at})
	b.buf.history = append(b.buf.history, attrSet{site: site, entity: entity, key: key, name: name, value: v, at: at})
	b.stats.AttrValues++
	b.stats.AttrChanges++
	b.added()
	b.added()
}

// AttrChange records an earlier change of an attribute in its history only:
// a value since replaced, or an unset (a Null value).
func (b *Bulk) AttrChange(site int64, entity store.Entity, key int64, name string, v attr.Value, at time.Time) {
	typ, ok := b.checkKey(site, entity, name, v, at)
	if !ok {
		return
	}
	if v.Null {
		v.Type = typ // so the history says of which type the unset value was
	}
	b.buf.history = append(b.buf.history, attrSet{site: site, entity: entity, key: key, name: name, value: v, at: at})
	b.stats.AttrChanges++
	b.added()
}

// checkKey checks v against the key's type, adding the key to the catalog
// when it is new, and returns the key's type and whether v may be stored.
func (b *Bulk) checkKey(site int64, entity store.Entity, name string, v attr.Value, at time.Time) (attr.Type, bool) {
	if b.Err() != nil {
		return 0, false
	}
	s := &b.db.seq
	ck := catalogKey{site: site, entity: entity, key: name}
	typ, known := s.catalog[ck]
	switch {
	case !known && v.Null:
		b.fail(fmt.Errorf("bulk: %s: the first value of a key cannot be null", name))
		return 0, false
	case !known:
		if s.keyCount[site] >= b.db.opts.MaxAttrKeys {
			b.fail(fmt.Errorf("bulk: %s: the site already has %d attribute keys, the limit", name, b.db.opts.MaxAttrKeys))
			return 0, false
		}
		typ = v.Type
		s.catalog[ck] = typ
		s.keyCount[site]++
		first := at
		b.newKeys[ck] = &first
		b.buf.keys = append(b.buf.keys, newKeyRow{site: site, entity: entity, key: name, typ: v.Type, at: at})
		b.added()
	case !v.Null && v.Type != typ:
		b.fail(fmt.Errorf("bulk: %s is a %s attribute; received a %s value", name, typ, v.Type))
		return 0, false
	}
	if first := b.newKeys[ck]; first != nil && at.Before(*first) {
		*first = at
	}
	return typ, true
}

// Session appends a closed session of a user and returns the session ID it
// was given, which is also set in s.ID. s.Events counts its track, page and
// screen events, s.Pages its page and screen events and s.Signals its
// tracker signals, as the writer counts them.
func (b *Bulk) Session(site, user int64, s *store.Session) int64 {
	if b.Err() != nil {
		return 0
	}
	s.ID = b.db.w.nextSession
	b.db.w.nextSession++
	b.buf.sessions = append(b.buf.sessions, session{id: s.ID, site: site, user: user, start: s.Start, last: s.End,
		pages: s.Pages, events: s.Events, entry: s.EntryPage, exit: s.ExitPage, ctx: s.Context, sig: s.Signals,
		closed: true})
	b.stats.Sessions++
	b.added()
	return s.ID
}

// Event appends one event of a user in a session (0 for none). Of m it uses
// SiteID, Kind, MessageID, Name, Timestamp, ReceivedAt, Page and Properties
// (a JSON object, or empty for {}); message IDs must be unique on the site.
func (b *Bulk) Event(user, session int64, m *store.Message) {
	if b.Err() != nil {
		return
	}
	b.buf.events = append(b.buf.events, bulkEvent{site: m.SiteID, user: user, session: session, kind: uint8(m.Kind),
		name: m.Name, ts: m.Timestamp, received: m.ReceivedAt, messageID: m.MessageID, url: m.Page.URL,
		path: m.Page.Path, title: m.Page.Title, referrer: m.Page.Referrer, props: m.Properties})
	if eventcat.Catalogued(m.Kind) {
		b.events.Add(m.SiteID, m.Kind, m.Name, m.Timestamp, m.Timestamp, 1, eventcat.SourceBit(store.SourceServer), m.Properties)
	}
	b.stats.Events++
	b.added()
}

// added counts one buffered row and hands the buffer over when it is full.
func (b *Bulk) added() {
	if b.buf.rows++; b.buf.rows >= b.bufRows {
		b.flush()
	}
}

// flush hands the current buffer to a writer and takes an empty one.
func (b *Bulk) flush() {
	if err := b.ctx.Err(); err != nil {
		b.fail(err)
	}
	b.full <- b.buf
	b.buf = <-b.free
}

// Stats returns how many rows have been appended so far.
func (b *Bulk) Stats() BulkStats { return b.stats }

// Err returns the first error of the load, if any.
func (b *Bulk) Err() error {
	if !b.failed.Load() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (b *Bulk) fail(err error) {
	if err == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
		b.failed.Store(true)
	}
}

// Close commits what remains (or, after an error, rolls it back), brings the
// store's in-memory state up to date with the loaded data, and lets writes
// go on. It returns the first error of the load.
func (b *Bulk) Close() error {
	if b.closed {
		return b.Err()
	}
	b.closed = true
	db := b.db
	defer b.release()
	defer db.vers.site.Add(1) // after the last rows and the reconciliation
	b.full <- b.buf
	close(b.full)
	for range bulkWriters {
		b.fail(<-b.result)
	}
	err := b.Err()
	ctx := context.Background() // the data must be reconciled even when ctx ended
	if err == nil {
		err = b.fixFirstSeen(ctx)
	}
	if err == nil {
		err = b.countLateEvents(ctx)
	}
	err = errors.Join(err, b.closeEventCatalog(ctx, err))
	if err == nil {
		err = b.putInOrder(ctx)
	}
	if _, cerr := db.wconn.ExecContext(ctx, "CHECKPOINT"); cerr != nil && err == nil {
		err = fmt.Errorf("checkpoint after bulk load: %w", cerr)
	}
	// The applier's memory (next keys and session IDs, open sessions) and
	// the sequencer's (catalog, dedupe window) must describe the database
	// as it now is.
	if lerr := db.loadWriter(ctx); lerr != nil {
		err = errors.Join(err, fmt.Errorf("reload writer state after bulk load: %w", lerr))
	}
	if lerr := db.loadSequencer(ctx); lerr != nil {
		err = errors.Join(err, fmt.Errorf("reload catalog and dedupe window after bulk load: %w", lerr))
	}
	return err
}

// putInOrder counts the attribute rows the load appended and puts the
// attribute tables in order if that made it worth it, while writes are
// still held back.
func (b *Bulk) putInOrder(ctx context.Context) error {
	db := b.db
	added := attrAppended(b.stats.AttrValues, b.stats.AttrChanges)
	added["user_days"], added["event_days"] = b.days[0].Load(), b.days[1].Load()
	added[eventsByNameTable] = b.named.Load()
	if err := added.note(ctx, db.wconn); err != nil {
		return err
	}
	stats, err := db.cluster(ctx, false, func() func() { return func() {} })
	for _, s := range stats {
		db.log.Info("put a table in order after a bulk load", "table", s.Table, "rows", s.Rows, "took", s.Took.Round(time.Millisecond))
	}
	return err
}

// fixFirstSeen moves the first_seen of the keys this load created to their
// earliest value: values do not arrive in time order.
func (b *Bulk) fixFirstSeen(ctx context.Context) error {
	var sites, ents []int64
	var names []string
	var ats []time.Time
	for ck, at := range b.newKeys {
		sites = append(sites, ck.site)
		ents = append(ents, int64(ck.entity))
		names = append(names, ck.key)
		ats = append(ats, *at)
	}
	if len(sites) == 0 {
		return nil
	}
	_, err := b.db.wconn.ExecContext(ctx, `UPDATE attr_keys SET first_seen = f.t FROM (
			SELECT unnest(?::BIGINT[]) AS s, unnest(?::BIGINT[]) AS e, unnest(?::VARCHAR[]) AS k,
				unnest(?::TIMESTAMP[]) AS t) f
		WHERE attr_keys.site_id = f.s AND attr_keys.entity = f.e AND attr_keys.key = f.k AND f.t < attr_keys.first_seen`,
		sites, ents, names, ats)
	if err != nil {
		return fmt.Errorf("set first_seen of new attribute keys: %w", err)
	}
	return nil
}

// EntityCount returns how many users, anonymous visitors and companies a site
// has, so that a bulk load can insist on an empty site.
func (db *DB) EntityCount(ctx context.Context, site int64) (int64, error) {
	if err := db.Sync(ctx); err != nil {
		return 0, err
	}
	var n int64
	if err := db.pool().QueryRowContext(ctx, "SELECT count(DISTINCT entity_key) FROM identities WHERE site_id = ?",
		site).Scan(&n); err != nil {
		return 0, fmt.Errorf("count entities: %w", err)
	}
	return n, nil
}

// bulkBuf holds rows on their way to the writer goroutine.
type bulkBuf struct {
	identities []identityRow
	keys       []newKeyRow
	current    []attrSet
	history    []attrSet
	links      []linkRow
	sessions   []session
	events     []bulkEvent
	responses  []store.SurveyResponse
	answers    []answerRow
	feedback   []store.FeedbackItem
	rows       int
}

type linkRow struct {
	site, user, group int64
	at                time.Time
}

type bulkEvent struct {
	site, user, session int64
	kind                uint8
	name                string
	ts, received        time.Time
	messageID           string
	url, path, title    string
	referrer, props     string
}

// reset empties the buffer for reuse, keeping its capacity.
func (buf *bulkBuf) reset() {
	clear(buf.events) // drop the strings, so the collector may take them
	clear(buf.responses)
	clear(buf.answers)
	clear(buf.feedback)
	*buf = bulkBuf{identities: buf.identities[:0], keys: buf.keys[:0], current: buf.current[:0],
		history: buf.history[:0], links: buf.links[:0], sessions: buf.sessions[:0], events: buf.events[:0],
		responses: buf.responses[:0], answers: buf.answers[:0], feedback: buf.feedback[:0]}
}
