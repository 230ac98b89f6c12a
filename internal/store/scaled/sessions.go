package scaled

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// session is a session as a transaction sees it: the row of
// visit_sessions, decoded.
type session struct {
	id, site, user int64
	chUser         int64 // the key its ClickHouse rows carry
	device         string
	start, last    time.Time
	state          sessionState
	version        uint64 // of the ClickHouse row: grows with every change
	flushed        uint64 // the version written back to PostgreSQL
	stored         bool   // visit_sessions has a row
}

// sessionState is what visit_sessions keeps of a session as JSON.
type sessionState struct {
	Pages   int           `json:"pages"`
	Events  int           `json:"events"`
	Entry   string        `json:"entry"`
	EntryAt time.Time     `json:"entry_at"`
	Exit    string        `json:"exit"`
	ExitAt  time.Time     `json:"exit_at"`
	Context store.Context `json:"context"`
	Signals store.Signals `json:"signals"`
}

// sessionsOf returns a live user's sessions that a message of the batch
// may join: those ending at most the idle gap before its first message
// and starting at most the idle gap after its last.
func (t *txn) sessionsOf(user int64) ([]*session, error) {
	if list, ok := t.visits[user]; ok {
		return list, nil
	}
	if err := t.loadSessions([]int64{user}); err != nil {
		return nil, err
	}
	return t.visits[user], nil
}

// loadSessions loads the sessions of users (live keys) near the batch's
// times, in one query.
func (t *txn) loadSessions(users []int64) error {
	idle := t.db.opts.SessionIdle
	rows, err := t.tx.Query(t.ctx, `SELECT session_id, site_id, user_key, ch_user_key, device, started_at, ended_at, state, version
		FROM visit_sessions WHERE user_key = ANY($1) AND ended_at >= $2 AND started_at <= $3`,
		users, t.minTs.Add(-idle), t.maxTs.Add(idle))
	if err != nil {
		return fmt.Errorf("load sessions: %w", err)
	}
	defer rows.Close()
	for _, u := range users {
		t.visits[u] = nil
	}
	for rows.Next() {
		s := &session{stored: true}
		var state []byte
		var version int64
		if err := rows.Scan(&s.id, &s.site, &s.user, &s.chUser, &s.device, &s.start, &s.last, &state, &version); err != nil {
			return fmt.Errorf("load sessions: %w", err)
		}
		if err := json.Unmarshal(state, &s.state); err != nil {
			return fmt.Errorf("load session %d: %w", s.id, err)
		}
		s.start, s.last = s.start.UTC(), s.last.UTC()
		s.version, s.flushed = uint64(version), uint64(version)
		t.visits[s.user] = append(t.visits[s.user], s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load sessions: %w", err)
	}
	return nil
}

// onDevice reports whether a message from device may join s: one session
// per device, so that a second device of a user keeps its own. A session
// of no device yet is adopted; a message of no device joins any.
func onDevice(s *session, device string) bool {
	return device == "" || s.device == "" || s.device == device
}

// fits reports whether a message at ts belongs to s: within the idle gap
// of it, on either side, without stretching it to the longest span.
func (t *txn) fits(s *session, ts time.Time) bool {
	idle := t.db.opts.SessionIdle
	if ts.Before(s.start.Add(-idle)) || ts.After(s.last.Add(idle)) {
		return false
	}
	return maxTime(s.last, ts).Sub(minTime(s.start, ts)) < t.db.opts.SessionMax
}

// best returns the session of user's list that a message at ts from
// device joins (the latest that fits), or nil.
func (t *txn) best(list []*session, device string, ts time.Time) *session {
	var best *session
	for _, s := range list {
		if onDevice(s, device) && t.fits(s, ts) && (best == nil || s.last.After(best.last)) {
			best = s
		}
	}
	return best
}

// sessionFor returns the session a track, page or screen message joins,
// opening one when none fits: after the idle gap, past the longest span,
// or far from every session of the user (a late message, an import).
func (t *txn) sessionFor(user int64, m *store.Message) (*session, error) {
	list, err := t.sessionsOf(user)
	if err != nil {
		return nil, err
	}
	ts := m.Timestamp.UTC()
	s := t.best(list, m.AnonymousID, ts)
	if s == nil {
		id, err := t.draw(&t.sessionPool, "session_ids")
		if err != nil {
			return nil, fmt.Errorf("new session: %w", err)
		}
		s = &session{id: id, site: m.SiteID, user: user, chUser: user, device: m.AnonymousID, start: ts, last: ts,
			state: sessionState{Context: m.Context}}
		t.visits[user] = append(list, s)
	}
	if s.device == "" {
		s.device = m.AnonymousID
	}
	s.start, s.last = minTime(s.start, ts), maxTime(s.last, ts)
	st := &s.state
	st.Events++
	if m.Kind == store.KindPage || m.Kind == store.KindScreen {
		st.Pages++
		page := m.Page.Path
		if page == "" {
			page = m.Name
		}
		if st.Entry == "" || ts.Before(st.EntryAt) {
			st.Entry, st.EntryAt = page, ts
		}
		if st.Exit == "" || !ts.Before(st.ExitAt) {
			st.Exit, st.ExitAt = page, ts
		}
	}
	if m.Kind == store.KindTrack && strings.HasPrefix(m.Name, "$") {
		st.Signals.Count(m.Name, m.Properties)
	}
	s.version = max(uint64(micros(s.last)), s.version+1)
	t.sessions[s.id] = s
	return s, nil
}

// sessionAt returns the session an identify, group or alias message
// falls in (the latest of the user's that fits its time, on its device),
// or 0; such a message does not change a session.
func (t *txn) sessionAt(user int64, m *store.Message) (int64, error) {
	list, err := t.sessionsOf(user)
	if err != nil {
		return 0, err
	}
	if s := t.best(list, m.AnonymousID, m.Timestamp.UTC()); s != nil {
		return s.id, nil
	}
	return 0, nil
}

// writeSessions writes changed sessions back to visit_sessions, in one
// statement.
func (t *txn) writeSessions(list []*session) error {
	n := len(list)
	ids, sites, users, chUsers, versions := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	devices, states := make([]string, n), make([]string, n)
	starts, ends := make([]time.Time, n), make([]time.Time, n)
	for i, s := range list {
		state, err := json.Marshal(s.state)
		if err != nil {
			return err
		}
		ids[i], sites[i], users[i], chUsers[i], versions[i] = s.id, s.site, t.liveOf(s.user), s.chUser, int64(s.version)
		devices[i], states[i], starts[i], ends[i] = s.device, string(state), s.start, s.last
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO visit_sessions (session_id, site_id, user_key, ch_user_key, device,
			started_at, ended_at, state, version, touched_at)
		SELECT id, site, u, chu, dev, st, en, state::JSONB, v, $10
		FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[], $6::TIMESTAMPTZ[], $7::TIMESTAMPTZ[],
			$8::TEXT[], $9::BIGINT[]) AS x(id, site, u, chu, dev, st, en, state, v)
		ON CONFLICT (session_id) DO UPDATE SET user_key = EXCLUDED.user_key, device = EXCLUDED.device,
			started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, state = EXCLUDED.state, version = EXCLUDED.version,
			touched_at = EXCLUDED.touched_at`,
		ids, sites, users, chUsers, devices, starts, ends, states, versions, t.now)
	if err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	for _, s := range list {
		s.stored, s.flushed = true, s.version
	}
	return nil
}
