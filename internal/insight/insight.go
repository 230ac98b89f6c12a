// Package insight computes trends, funnels and retention tables over a
// site's events, broken down by segments. Its queries are compiled like
// segments: through the segment compiler (event conditions, property
// filters and segment membership come from it) and a dialect
// (compiler.InsightDialect), so DuckDB and ClickHouse run the same
// logic; every value reaches the database as a bound argument.
//
// Users merged into another count as that one: events are read through
// Dialect.From, which gives every row its surviving user's key.
package insight

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Engine computes insights with a segment engine's compiler, dialect and
// database.
type Engine struct {
	seg   *engine.Engine
	saved Saved
	d     compiler.InsightDialect
}

// Saved is what the engine reads of saved things: segments that
// breakdowns name, and funnels that funnel_step conditions name.
type Saved interface {
	Segment(ctx context.Context, site int64, id string) (store.SavedSegment, error)
	Insight(ctx context.Context, site int64, id string) (store.SavedInsight, error)
}

// New returns an engine over seg, whose dialect must implement
// compiler.InsightDialect (DuckDB and ClickHouse do); saved holds the
// saved segments and funnels definitions refer to. It lets seg's segments
// name saved funnels (funnel_step).
func New(seg *engine.Engine, saved Saved) (*Engine, error) {
	d, ok := seg.Dialect().(compiler.InsightDialect)
	if !ok {
		return nil, fmt.Errorf("dialect %T cannot compute insights", seg.Dialect())
	}
	e := &Engine{seg: seg, saved: saved, d: d}
	seg.WithFunnels(e.SavedFunnel)
	return e, nil
}

// group is one breakdown value: everyone (members nil) or a segment's
// members.
type group struct {
	label   string
	node    segment.Node // nil: everyone
	members *compiler.Query
}

// event is a compiled did(…) or visited(…) condition.
type event struct {
	text string
	rows compiler.Query // " AND …" on an event row
	node segment.Node
	// named is " AND …" on a row of compiler.EventsByName, nil when the
	// condition has property filters (compiler.Compiler.NameRows).
	named *compiler.Query
}

// parseCondition reads a segment condition given as a JSON string (the
// text form) or a JSON object (the JSON form), validated for the site.
func (e *Engine) parseCondition(ctx context.Context, site int64, raw json.RawMessage, field string) (segment.Node, error) {
	def := engine.Definition{JSON: raw}
	var s string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid("invalid_definition", field, "%v", err)
		}
		def = engine.Definition{Text: s}
	}
	n, err := e.seg.Prepare(ctx, site, def, "")
	if errors.Is(err, engine.ErrInvalid) {
		return nil, &store.FieldError{Code: segment.Code(err), Field: field, Msg: err.Error()}
	}
	return n, err
}

// event compiles a did(…) or visited(…) condition.
func (e *Engine) event(ctx context.Context, site int64, raw Event, field string) (event, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return event{}, invalid("missing_event", field, "%s is missing: write did(\"event\") or visited(\"/page\")", field)
	}
	n, err := e.parseCondition(ctx, site, json.RawMessage(raw), field)
	if err != nil {
		return event{}, err
	}
	c, err := e.seg.Compiler(ctx, site, nil)
	if err != nil {
		return event{}, err
	}
	rows, err := c.EventRows(n)
	if err != nil {
		return event{}, invalid("invalid_event", field, "%v", err)
	}
	ev := event{text: segment.Format(n), rows: rows, node: n}
	if named, ok, err := c.NameRows(n); err != nil {
		return event{}, invalid("invalid_event", field, "%v", err)
	} else if ok {
		ev.named = &named
	}
	return ev, nil
}

// groups resolves a breakdown's segments, after everyone.
func (e *Engine) groups(ctx context.Context, site int64, b Breakdown) ([]group, error) {
	out := []group{{label: "All users"}}
	if len(b.Segments) > MaxSegments {
		return nil, invalid("too_many_segments", "breakdown.segments", "at most %d segments", MaxSegments)
	}
	for i, ref := range b.Segments {
		field := fmt.Sprintf("breakdown.segments[%d]", i)
		var raw json.RawMessage
		label := ref.Name
		switch {
		case ref.ID != "" && (ref.Text != "" || len(ref.JSON) > 0), ref.Text != "" && len(ref.JSON) > 0:
			return nil, invalid("invalid_segment", field, "name a segment by one of id, text or json")
		case ref.ID != "":
			s, err := e.saved.Segment(ctx, site, ref.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil, invalid("unknown_segment", field+".id", "no saved segment %q", ref.ID)
			} else if err != nil {
				return nil, err
			}
			raw, _ = json.Marshal(fmt.Sprintf("in_segment(%q)", ref.ID))
			if label == "" {
				label = s.Name
			}
		case ref.Text != "":
			raw, _ = json.Marshal(ref.Text)
			if label == "" {
				label = ref.Text
			}
		case len(ref.JSON) > 0:
			raw = ref.JSON
		default:
			return nil, invalid("invalid_segment", field, "name a segment by id, text or json")
		}
		n, err := e.parseCondition(ctx, site, raw, field)
		if err != nil {
			return nil, err
		}
		if label == "" {
			label = segment.Format(n)
		}
		g, err := e.segmentGroup(ctx, site, label, n)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// segmentGroup compiles a segment's members for a breakdown.
func (e *Engine) segmentGroup(ctx context.Context, site int64, label string, n segment.Node) (group, error) {
	c, err := e.seg.Compiler(ctx, site, n)
	if err != nil {
		return group{}, err
	}
	m, err := c.Members(n)
	if err != nil {
		return group{}, err
	}
	return group{label: label, node: n, members: &m}, nil
}

// restrict writes " AND user_key IN (members)" for a segment's group.
func (g group) restrict(q *query) {
	if g.members == nil {
		return
	}
	q.Write(" AND user_key IN (")
	q.Frag(*g.members)
	q.Write(")")
}

// events writes "FROM events … WHERE site … AND <ev> AND from <= ts < to"
// up to EndFrom, with the rows of the group's users only.
func (e *Engine) events(q *query, site int64, ev compiler.Query, from, to time.Time, g group, more func()) {
	q.d.From(q, compiler.Events, site, nil)
	q.Frag(ev)
	q.Write(" AND ts >= ")
	q.Arg(from)
	q.Write(" AND ts < ")
	q.Arg(to)
	g.restrict(q)
	if more != nil {
		more()
	}
	q.d.EndFrom(q)
}

// rows runs a query under the engine's bounds and calls scan for each row.
func (e *Engine) rows(ctx context.Context, what string, q *query, scan func(*sql.Rows) error) error {
	if err := e.seg.Sync(ctx); err != nil {
		return err
	}
	ctx, cancel := e.seg.Bound(ctx)
	defer cancel()
	rows, err := e.seg.SQL().QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return e.seg.QueryError(ctx, what, fmt.Errorf("%w\n%s", err, clip(q.String())))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return e.seg.QueryError(ctx, what, err)
		}
	}
	return e.seg.QueryError(ctx, what, rows.Err())
}

// clip shortens SQL for an error message.
func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "…"
	}
	return s
}

// now returns the engine's moment.
func (e *Engine) now() time.Time { return e.seg.Now() }

// anyEvent is the condition of "any page, screen or event".
var anyEvent = compiler.Query{SQL: " AND kind IN (2, 3, 4)"}

// isAnyEvent reports whether q is anyEvent: activity of any kind, which
// user_days holds day by day.
func isAnyEvent(q compiler.Query) bool { return q.SQL == anyEvent.SQL && len(q.Args) == 0 }

// keyword reports whether an Event is the JSON string word.
func keyword(ev Event, word string) bool {
	s, ok := ev.text()
	return ok && strings.TrimSpace(s) == word
}
