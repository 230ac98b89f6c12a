package scaled

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/eventcat"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/chstore"
)

// chRows are a transaction's rows for ClickHouse, table by table, each
// row in the order of the table's column list.
type chRows struct {
	tables  map[string][][]any
	latest  map[valKey][]any // the last current value of each key in the batch
	catalog eventcat.Batch   // the events' aggregate, for the event catalog
}

func newChRows() chRows { return chRows{tables: map[string][][]any{}, latest: map[valKey][]any{}} }

// columns are the column lists of the inserts: chstore's schema.
var columns = map[string]string{
	"identities":         "site_id, kind, external_id, entity_key, id_hash, created_at",
	"identity_overrides": "site_id, from_key, into_key, merged_seq, version",
	"events": "site_id, user_key, session_id, kind, name, ts, received_at, message_id, url, path, title, referrer, source," +
		" properties, prop_keys, prop_vals",
	"sessions": "site_id, session_id, user_key, started_at, ended_at, page_count, event_count, clicks, rage_clicks," +
		" dead_clicks, u_turns, errors, max_scroll, entry_page, exit_page, device_type, browser, os, country, locale," +
		" timezone, channel, referrer, utm_source, utm_medium, utm_campaign, version",
	"attr_keys":       "site_id, entity, key, type, first_seen, version",
	"attr_current":    "site_id, entity, entity_key, key, type, is_null, s, n, b, t, changed_at",
	"attr_history":    "site_id, entity, entity_key, key, type, is_null, s, n, b, t, set_at",
	"attr_rejections": "site_id, entity, key, expected, received, value, entity_key, message_id, at",
	"user_groups":     "site_id, user_key, group_key, linked_at",
	"clicks": "site_id, user_key, session_id, name, ts, url, path, selector, pageview_id, offset_x, offset_y, page_x, page_y," +
		" viewport_width, clicks, depth, viewport_height, page_height",
	"event_catalog":    "site_id, kind, name, events, first_seen, last_seen, sources",
	"event_properties": "site_id, kind, name, key, types, events, samples",
	"survey_responses": "site_id, survey_id, response_id, anonymous_id, user_id, session_id, url, answers, nps, completed," +
		" created_at, updated_at, completed_at, version",
	"survey_answers": "site_id, survey_id, response_id, question_id, num, text, answered_at",
	"recordings": "site_id, id, browser_session, anonymous_id, anon_hash, user_id, user_hash, created_at, started_at," +
		" ended_at, chunk_count, bytes_stored, bytes_raw, first_seq, first_url, pages, version, deleted",
}

// order is the order tables are sent in: whatever a read maps through
// (overrides, identities) before what it maps.
var order = []string{"identity_overrides", "identities", "attr_keys", "attr_current", "attr_history", "attr_rejections",
	"user_groups", "sessions", "events", "clicks", "event_catalog", "event_properties", "survey_responses", "survey_answers",
	"recordings"}

func (r *chRows) add(table string, row ...any) { r.tables[table] = append(r.tables[table], row) }

func (r *chRows) identity(site int64, kind uint8, id string, key int64, at time.Time) {
	r.add("identities", site, kind, id, key, store.IDHash(site, kind, id), micros(at))
}

func (r *chRows) override(site, from, into, seq, version int64) {
	r.add("identity_overrides", site, from, into, uint64(seq), uint64(version))
}

func (r *chRows) event(m *store.Message, user, sess int64) {
	props := m.Properties
	if props == "" {
		props = "{}"
	}
	keys, vals := propArrays(props)
	r.add("events", m.SiteID, user, sess, uint8(m.Kind), m.Name, micros(m.Timestamp), micros(m.ReceivedAt), m.MessageID,
		m.Page.URL, m.Page.Path, m.Page.Title, m.Page.Referrer, uint8(m.Source), props, keys, vals)
	if _, name, ok := store.HeatmapSignal(m.Kind, m.Name); ok {
		v := store.ClickColumns(m.Properties)
		row := []any{m.SiteID, user, sess, name, micros(m.Timestamp), m.Page.URL, m.Page.Path, v.Texts[0], v.Texts[1]}
		for _, n := range v.Numbers {
			row = append(row, n)
		}
		r.add("clicks", row...)
	}
	if eventcat.Catalogued(m.Kind) {
		r.catalog.Add(m.SiteID, m.Kind, m.Name, m.Timestamp, m.Timestamp, 1, eventcat.SourceBit(m.Source), m.Properties)
	}
}

// catalogRows turns the batch's aggregate into the catalog tables' rows:
// partial sums, which readers add up.
func (r *chRows) catalogRows() {
	for k, e := range r.catalog.Events {
		r.add("event_catalog", k.Site, uint8(k.Kind), k.Name, e.Count, micros(e.First), micros(e.Last), uint8(e.Sources))
		for key, p := range e.Properties {
			samples := p.Samples
			if samples == nil {
				samples = []string{}
			}
			r.add("event_properties", k.Site, uint8(k.Kind), k.Name, key, uint8(p.Types), p.Count, samples)
		}
	}
	r.catalog = eventcat.Batch{}
}

func (r *chRows) session(s *session) {
	st, c, g := s.state, s.state.Context, s.state.Signals
	r.add("sessions", s.site, s.id, s.chUser, micros(s.start), micros(s.last), int32(st.Pages), int32(st.Events),
		int32(g.Clicks), int32(g.RageClicks), int32(g.DeadClicks), int32(g.UTurns), int32(g.Errors), int32(g.MaxScroll),
		st.Entry, st.Exit, c.DeviceType, c.Browser, c.OS, c.Country, c.Locale, c.Timezone, c.Channel, c.Referrer,
		c.UTMSource, c.UTMMedium, c.UTMCampaign, s.version)
}

func (r *chRows) attrKey(site int64, entity store.Entity, key string, typ attr.Type, at time.Time, version uint64) {
	r.add("attr_keys", site, uint8(entity), key, uint8(typ), micros(at), version)
}

func (r *chRows) history(site int64, entity store.Entity, key int64, name string, v attr.Value, typ attr.Type, at time.Time) {
	if v.Null {
		v.Type = typ
	}
	s, n, b, t := chTyped(v)
	r.add("attr_history", site, uint8(entity), key, name, uint8(v.Type), boolByte(v.Null), s, n, b, t, micros(at))
}

func (r *chRows) current(site int64, entity store.Entity, key int64, name string, v attr.Value, at time.Time) {
	s, n, b, t := chTyped(v)
	r.latest[valKey{key, name}] = []any{site, uint8(entity), key, name, uint8(v.Type), boolByte(v.Null), s, n, b, t, micros(at)}
}

func (r *chRows) rejection(m *store.Message, entity store.Entity, key int64, name string, expected attr.Type, received, value string) {
	r.add("attr_rejections", m.SiteID, uint8(entity), name, uint8(expected), received, value, key, m.MessageID, micros(m.ReceivedAt))
}

func (r *chRows) link(site, user, group int64, at time.Time) {
	r.add("user_groups", site, user, group, micros(at))
}

// walTag is the log position an applier's rows carry (chstore.Tagged);
// zero for rows written otherwise.
type walTag struct{ node, lsn uint64 }

// tagged reports whether table's rows carry a walTag.
func tagged(table string) bool { return chstore.Tagged[table] || table == "attr_rejections" }

// send inserts the rows, one batch per table, the tagged ones with tag.
func (r *chRows) send(ctx context.Context, ch driver.Conn, tag walTag) error {
	for _, row := range r.latest {
		r.add("attr_current", row...)
	}
	clear(r.latest)
	r.catalogRows()
	for _, table := range order {
		rows := r.tables[table]
		if len(rows) == 0 {
			continue
		}
		cols := columns[table]
		if tagged(table) {
			cols += ", wal_node, wal_lsn"
		}
		b, err := ch.PrepareBatch(ctx, "INSERT INTO "+table+" ("+cols+")")
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		for _, row := range rows {
			if tagged(table) {
				row = append(row, tag.node, tag.lsn)
			}
			if err := b.Append(row...); err != nil {
				b.Abort()
				return fmt.Errorf("insert into %s: %w", table, err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		delete(r.tables, table)
	}
	return nil
}

// chTyped returns the s, n, b, t columns of a value as ClickHouse takes
// them.
func chTyped(v attr.Value) (s *string, n *float64, b *uint8, t *int64) {
	if v.Null {
		return
	}
	switch v.Type {
	case attr.String:
		s = &v.Str
	case attr.Number:
		n = &v.Num
	case attr.Boolean:
		x := boolByte(v.Bool)
		b = &x
	case attr.Datetime:
		x := micros(v.Time)
		t = &x
	}
	return
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// propArrays returns the top-level members of a JSON object and their
// texts (a string's value, other values' JSON text), null members left
// out: chstore's prop_keys and prop_vals.
func propArrays(props string) (keys, vals []string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(props), &obj) != nil {
		return []string{}, []string{}
	}
	keys, vals = make([]string, 0, len(obj)), make([]string, 0, len(obj))
	for k, raw := range obj {
		text := strings.TrimSpace(string(raw))
		if text == "null" {
			continue
		}
		if strings.HasPrefix(text, `"`) {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				text = s
			}
		}
		keys, vals = append(keys, k), append(vals, text)
	}
	return keys, vals
}
