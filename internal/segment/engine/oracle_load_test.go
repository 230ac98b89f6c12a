package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
)

// This file loads a site's raw rows into plain Go values for the oracle.
// It reads the tables directly with plain SELECTs and keeps no SQL logic:
// every condition is decided in Go (oracle_eval_test.go).

// world is everything the oracle knows about one site.
type world struct {
	now       time.Time
	universe  []int64 // every user key, ascending
	users     map[int64]*oUser
	companies map[int64]map[string]attr.Value // current company attributes by group key
	segments  map[string]segment.Node         // saved segments by ID
	funnels   map[string]oFunnel              // saved funnels by ID (oracle_insight_test.go)
}

// oUser is one user's data.
type oUser struct {
	key      int64
	ids      []string // "user:u1", "anonymous:a1"
	attrs    map[string]attr.Value
	history  map[string][]histEntry // by set_at
	events   []oEvent               // kinds 2, 3 and 4
	sessions []oSession
	groups   []int64
	// survey answers and feedback (oracle_survey_test.go)
	responses []oResponse
	answers   []oAnswer
	feedback  []oFeedback
}

// histEntry is one entry of an attribute's history; an unset has a Null
// value.
type histEntry struct {
	v  attr.Value
	at time.Time
}

type oEvent struct {
	kind  uint8
	name  string
	ts    time.Time
	path  string
	props map[string]string // each property as text; absent when missing or null
}

type oSession struct {
	start, end time.Time
	fields     map[string]string // by segment field name: device, browser, …
}

// loadWorld reads the site's rows.
func loadWorld(ctx context.Context, db *sql.DB, site int64, now time.Time) (*world, error) {
	w := &world{now: now, users: map[int64]*oUser{}, companies: map[int64]map[string]attr.Value{},
		segments: map[string]segment.Node{}, funnels: map[string]oFunnel{}}
	rows, err := db.QueryContext(ctx, `SELECT entity_key, kind, external_id FROM identities
		WHERE site_id = ? AND kind IN (1, 2) ORDER BY entity_key, kind, external_id`, site)
	if err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	err = scanAll(rows, func() error {
		var key int64
		var kind uint8
		var id string
		if err := rows.Scan(&key, &kind, &id); err != nil {
			return err
		}
		u := w.users[key]
		if u == nil {
			u = &oUser{key: key, attrs: map[string]attr.Value{}, history: map[string][]histEntry{}}
			w.users[key] = u
			w.universe = append(w.universe, key)
		}
		u.ids = append(u.ids, map[uint8]string{1: "user:", 2: "anonymous:"}[kind]+id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	if err := w.loadAttrs(ctx, db, site); err != nil {
		return nil, err
	}
	if err := w.loadEvents(ctx, db, site); err != nil {
		return nil, err
	}
	if err := w.loadSessions(ctx, db, site); err != nil {
		return nil, err
	}
	if err := w.loadSurveys(ctx, db, site); err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, "SELECT user_key, group_key FROM user_groups WHERE site_id = ?", site)
	if err != nil {
		return nil, fmt.Errorf("load user groups: %w", err)
	}
	err = scanAll(rows, func() error {
		var uk, gk int64
		if err := rows.Scan(&uk, &gk); err != nil {
			return err
		}
		u := w.users[uk]
		if u == nil {
			return fmt.Errorf("user_groups links user key %d, which has no identity", uk)
		}
		if !slices.Contains(u.groups, gk) {
			u.groups = append(u.groups, gk)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load user groups: %w", err)
	}
	return w, nil
}

func scanAll(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// typed builds a value from the typed columns, as the schema defines them.
func typed(typ uint8, s *string, n *float64, b *bool, t *time.Time) attr.Value {
	v := attr.Value{Type: attr.Type(typ)}
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

func (w *world) loadAttrs(ctx context.Context, db *sql.DB, site int64) error {
	rows, err := db.QueryContext(ctx, `SELECT entity, entity_key, key, type, s, n, b, t
		FROM attr_current WHERE site_id = ?`, site)
	if err != nil {
		return fmt.Errorf("load current attributes: %w", err)
	}
	err = scanAll(rows, func() error {
		var entity, typ uint8
		var ek int64
		var key string
		var s *string
		var n *float64
		var b *bool
		var t *time.Time
		if err := rows.Scan(&entity, &ek, &key, &typ, &s, &n, &b, &t); err != nil {
			return err
		}
		v := typed(typ, s, n, b, t)
		if entity == 1 {
			if w.companies[ek] == nil {
				w.companies[ek] = map[string]attr.Value{}
			}
			w.companies[ek][key] = v
			return nil
		}
		u := w.users[ek]
		if u == nil {
			return fmt.Errorf("attr_current has user key %d, which has no identity", ek)
		}
		if _, dup := u.attrs[key]; dup {
			return fmt.Errorf("attr_current holds two values of %q for user %d", key, ek)
		}
		u.attrs[key] = v
		return nil
	})
	if err != nil {
		return fmt.Errorf("load current attributes: %w", err)
	}
	rows, err = db.QueryContext(ctx, `SELECT entity_key, key, type, s, n, b, t, is_null, set_at
		FROM attr_history WHERE site_id = ? AND entity = 0`, site)
	if err != nil {
		return fmt.Errorf("load attribute history: %w", err)
	}
	err = scanAll(rows, func() error {
		var typ uint8
		var ek int64
		var key string
		var s *string
		var n *float64
		var b *bool
		var t *time.Time
		var isNull bool
		var at time.Time
		if err := rows.Scan(&ek, &key, &typ, &s, &n, &b, &t, &isNull, &at); err != nil {
			return err
		}
		u := w.users[ek]
		if u == nil {
			return fmt.Errorf("attr_history has user key %d, which has no identity", ek)
		}
		v := typed(typ, s, n, b, t)
		if isNull {
			v = attr.Value{Null: true}
		}
		u.history[key] = append(u.history[key], histEntry{v: v, at: at.UTC()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("load attribute history: %w", err)
	}
	for _, u := range w.users {
		for key, h := range u.history {
			slices.SortStableFunc(h, func(a, b histEntry) int { return a.at.Compare(b.at) })
			for i := 1; i < len(h); i++ {
				if h[i].at.Equal(h[i-1].at) {
					// "The previous entry" would be ambiguous; the generator
					// keeps attribute messages at distinct moments.
					return fmt.Errorf("user %d has two history entries of %q at %s", u.key, key, h[i].at)
				}
			}
		}
	}
	return nil
}

func (w *world) loadEvents(ctx context.Context, db *sql.DB, site int64) error {
	rows, err := db.QueryContext(ctx, `SELECT user_key, kind, name, ts, path, properties
		FROM events WHERE site_id = ? AND kind IN (2, 3, 4)`, site)
	if err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	err = scanAll(rows, func() error {
		var e oEvent
		var uk int64
		var props string
		if err := rows.Scan(&uk, &e.kind, &e.name, &e.ts, &e.path, &props); err != nil {
			return err
		}
		e.ts = e.ts.UTC()
		u := w.users[uk]
		if u == nil {
			return fmt.Errorf("event of user key %d, which has no identity", uk)
		}
		var err error
		if e.props, err = propertyTexts(props); err != nil {
			return err
		}
		u.events = append(u.events, e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	return nil
}

// propertyTexts reads an event's properties as text: a string's value, a
// number's JSON text, true or false, an object's or array's JSON text.
// Null properties are left out, like missing ones.
func propertyTexts(doc string) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("properties %s: %w", doc, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case string(v) == "null":
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			out[k] = s
		default:
			out[k] = string(v)
		}
	}
	return out, nil
}

func (w *world) loadSessions(ctx context.Context, db *sql.DB, site int64) error {
	cols := []string{"entry_page", "exit_page", "device_type", "browser", "os", "country", "locale", "timezone",
		"channel", "referrer", "utm_source", "utm_medium", "utm_campaign"}
	rows, err := db.QueryContext(ctx, "SELECT user_key, started_at, ended_at, "+strings.Join(cols, ", ")+
		" FROM all_sessions WHERE site_id = ?", site)
	if err != nil {
		return fmt.Errorf("load sessions: %w", err)
	}
	err = scanAll(rows, func() error {
		var uk int64
		var s oSession
		vals := make([]string, len(cols))
		dest := []any{&uk, &s.start, &s.end}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		s.start, s.end = s.start.UTC(), s.end.UTC()
		s.fields = map[string]string{}
		for i, c := range cols {
			name := map[string]string{"device_type": "device", "locale": "language"}[c]
			if name == "" {
				name = c
			}
			s.fields[name] = vals[i]
		}
		u := w.users[uk]
		if u == nil {
			return fmt.Errorf("session of user key %d, which has no identity", uk)
		}
		u.sessions = append(u.sessions, s)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load sessions: %w", err)
	}
	return nil
}
