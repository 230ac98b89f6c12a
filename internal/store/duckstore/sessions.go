package duckstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// session is an open session in the writer's memory.
type session struct {
	id, site, user int64
	start, last    time.Time
	pages, events  int
	entry, exit    string
	ctx            store.Context
	sig            store.Signals
	closed         bool
	// device is the anonymous ID of the browser or app the session runs
	// on ("" until a message names one: server-side calls, or sessions
	// loaded after a restart, which the first device to send adopts).
	device string
}

// openFor returns the user's open session on device (a message's
// anonymous ID), or nil: one session per device, so that a second device
// that identifies as an existing user keeps its own session. A session
// with no device yet is adopted; a message without a device joins the
// user's latest session.
func (db *DB) openFor(user int64, device string) *session {
	list := db.w.open[user]
	if device == "" {
		var latest *session
		for _, s := range list {
			if latest == nil || s.last.After(latest.last) {
				latest = s
			}
		}
		return latest
	}
	for _, s := range list {
		if s.device == device {
			return s
		}
	}
	for _, s := range list {
		if s.device == "" {
			s.device = device
			return s
		}
	}
	return nil
}

// dropOpen removes s from its user's open sessions.
func (db *DB) dropOpen(s *session) {
	w := db.w
	list := w.open[s.user]
	for i, o := range list {
		if o == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(w.open, s.user)
	} else {
		w.open[s.user] = list
	}
}

// sessionFor returns the session a track, page or screen message belongs to,
// opening a new one after SessionIdle of inactivity or when the current one
// reached SessionMax.
func (db *DB) sessionFor(b *batch, user int64, m *store.Message) int64 {
	w := db.w
	ts := m.Timestamp
	s := db.openFor(user, m.AnonymousID)
	if bf := w.backfill[user]; bf != nil && (s == nil || s.start.Sub(ts) > db.opts.SessionIdle) && db.joins(bf.s, ts) {
		return db.extendBackfill(b, bf, m)
	}
	if s != nil && s.start.Sub(ts) > db.opts.SessionIdle {
		return db.backfillSession(b, user, m)
	}
	if s != nil && (ts.Sub(s.last) > db.opts.SessionIdle || ts.Sub(s.start) >= db.opts.SessionMax) {
		db.closeSession(b, s)
		s = nil
	}
	if s == nil {
		s = db.newSession(user, m)
		s.device = m.AnonymousID
		w.open[user] = append(w.open[user], s)
	}
	db.touchSession(b, s, m)
	return s.id
}

func (db *DB) newSession(user int64, m *store.Message) *session {
	id := db.w.nextSession
	db.w.nextSession++
	return &session{id: id, site: m.SiteID, user: user, start: m.Timestamp, last: m.Timestamp, ctx: m.Context}
}

func (db *DB) touchSession(b *batch, s *session, m *store.Message) {
	if m.Timestamp.After(s.last) {
		s.last = m.Timestamp
	}
	if m.Timestamp.Before(s.start) {
		s.start = m.Timestamp
	}
	s.events++
	if m.Kind == store.KindPage || m.Kind == store.KindScreen {
		s.pages++
		page := m.Page.Path
		if page == "" {
			page = m.Name
		}
		if s.entry == "" {
			s.entry = page
		}
		s.exit = page
	}
	if m.Kind == store.KindTrack && strings.HasPrefix(m.Name, "$") {
		s.sig.Count(m.Name, m.Properties)
	}
	b.touched[s.id] = s
}

// backfillSession returns the session of a message far older than the
// user's open session (an import, a client that sends late): such a
// message leaves the open session alone. Consecutive backfilled messages
// within the idle gap of each other share one session, closed from the
// start (it goes straight to sessions), which later backfilled messages of
// the user extend while they keep within the gap and SessionMax (also once
// the open session has ended).
//
// The writer remembers each user's backfill session only as a way to find
// it again: the session itself is on disk, closed, whenever a batch
// commits. A failed batch or a restart forgets it, and the next backfilled
// message starts a new session, so replaying the log after a crash may
// split a backfill where the crash fell, never lose or double an event.
func (db *DB) backfillSession(b *batch, user int64, m *store.Message) int64 {
	w := db.w
	s := db.newSession(user, m)
	db.touchSession(b, s, m)
	db.closeSession(b, s)
	if len(w.backfill) >= db.opts.IdentityCache {
		clear(w.backfill) // bounded: a forgotten one only splits a backfill
	}
	w.backfill[user] = &backfill{s: s, seen: b.now}
	return s.id
}

// extendBackfill adds m to a user's backfill session.
func (db *DB) extendBackfill(b *batch, bf *backfill, m *store.Message) int64 {
	if _, ok := b.touched[bf.s.id]; !ok {
		// Committed by an earlier batch: its row is replaced.
		b.rewritten = append(b.rewritten, bf.s.id)
		b.closed = append(b.closed, bf.s)
	}
	bf.seen = b.now
	db.touchSession(b, bf.s, m)
	return bf.s.id
}

// joins reports whether a message at ts belongs to backfill session s:
// within the idle gap of it, on either side, and not stretching it to
// SessionMax.
func (db *DB) joins(s *session, ts time.Time) bool {
	idle := db.opts.SessionIdle
	if ts.Before(s.start.Add(-idle)) || ts.After(s.last.Add(idle)) {
		return false
	}
	from, to := s.start, s.last
	if ts.Before(from) {
		from = ts
	}
	if ts.After(to) {
		to = ts
	}
	return to.Sub(from) < db.opts.SessionMax
}

// backfill is a user's latest backfill session and when (by the writer's
// clock) a message last joined it.
type backfill struct {
	s    *session
	seen time.Time
}

// closeSession ends s: it leaves open_sessions for sessions at commit.
func (db *DB) closeSession(b *batch, s *session) {
	db.dropOpen(s)
	s.closed = true
	b.touched[s.id] = s
	b.closed = append(b.closed, s)
}

// sweepSessions closes open sessions that have been idle too long, at most
// once a minute.
func (db *DB) sweepSessions(b *batch) {
	w := db.w
	if b.now.Sub(w.lastSweep) < time.Minute {
		return
	}
	w.lastSweep = b.now
	var ended []*session
	for _, list := range w.open {
		for _, s := range list {
			if b.now.Sub(s.last) > db.opts.SessionIdle || b.now.Sub(s.start) >= db.opts.SessionMax {
				ended = append(ended, s)
			}
		}
	}
	for _, s := range ended {
		db.closeSession(b, s)
	}
	// A backfill that stopped arriving a while ago is over: forget its
	// session rather than keep every importer's users in memory.
	for user, bf := range w.backfill {
		if b.now.Sub(bf.seen) > db.opts.SessionIdle {
			delete(w.backfill, user)
		}
	}
}

// mergeSessions moves the open sessions of a merged user to the user it
// joined. Each keeps running on its device: one that runs on a device the
// joined user already has an open session on (or on no known device,
// while the joined user has any) is closed instead.
func (db *DB) mergeSessions(b *batch, from, into int64) {
	w := db.w
	delete(w.backfill, from) // its session moves with the merge; a later backfill starts anew
	list := w.open[from]
	delete(w.open, from)
	for _, s := range list {
		s.user = into
		b.touched[s.id] = s
		clash := false
		for _, o := range w.open[into] {
			clash = clash || o.device == s.device || s.device == ""
		}
		if clash {
			s.closed = true
			b.closed = append(b.closed, s)
			continue
		}
		w.open[into] = append(w.open[into], s)
	}
}

func (db *DB) loadOpenSessions(ctx context.Context, w *writerState) error {
	rows, err := db.pool().QueryContext(ctx, `SELECT session_id, site_id, user_key, started_at, ended_at,
		page_count, event_count, entry_page, exit_page, device_type, browser, os, country, locale,
		timezone, channel, referrer, utm_source, utm_medium, utm_campaign,
		clicks, rage_clicks, dead_clicks, u_turns, errors, max_scroll FROM open_sessions`)
	if err != nil {
		return fmt.Errorf("load open sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s := &session{}
		c := &s.ctx
		if err := rows.Scan(&s.id, &s.site, &s.user, &s.start, &s.last, &s.pages, &s.events, &s.entry, &s.exit,
			&c.DeviceType, &c.Browser, &c.OS, &c.Country, &c.Locale, &c.Timezone, &c.Channel, &c.Referrer,
			&c.UTMSource, &c.UTMMedium, &c.UTMCampaign, &s.sig.Clicks, &s.sig.RageClicks, &s.sig.DeadClicks,
			&s.sig.UTurns, &s.sig.Errors, &s.sig.MaxScroll); err != nil {
			return fmt.Errorf("load open sessions: %w", err)
		}
		w.open[s.user] = append(w.open[s.user], s)
	}
	return rows.Err()
}

// sessionRow is a session as appended to sessions or open_sessions; the
// column order follows the schema.
func sessionRow(s *session) []driver.Value {
	c, g := s.ctx, s.sig
	return []driver.Value{s.site, s.id, s.user, s.start, s.last, int32(s.pages), int32(s.events), s.entry, s.exit,
		c.DeviceType, c.Browser, c.OS, c.Country, c.Locale, c.Timezone, c.Channel, c.Referrer,
		c.UTMSource, c.UTMMedium, c.UTMCampaign, int32(g.Clicks), int32(g.RageClicks), int32(g.DeadClicks),
		int32(g.UTurns), int32(g.Errors), int32(g.MaxScroll)}
}
