// Package engine evaluates segments against the store: it parses and
// validates definitions against a site's attribute catalog, resolves saved
// segments, compiles to SQL and runs the queries. Every answer reflects
// all data acknowledged before the call: the two things it keeps, the
// attribute catalogs and single users' memberships (Contains), are kept
// only while the store's change counters say nothing they depend on moved.
package engine

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
	"github.com/sightline/sightline/internal/store"
)

// Store is what the engine needs of storage.
type Store interface {
	store.Segments
	store.Changes
	// Sync waits until every acknowledged write is queryable.
	Sync(ctx context.Context) error
	// SQL is the database the compiled queries run on.
	SQL() *sql.DB
	// OutOfMemory reports whether err, from a query on SQL, is the
	// database refusing it for want of memory.
	OutOfMemory(err error) bool
	// CurrentAttributes reads the named current attributes of users.
	CurrentAttributes(ctx context.Context, site int64, keys []int64, names []string) (map[int64][]store.AttrState, error)
}

// Engine evaluates segments.
type Engine struct {
	store   Store
	dialect compiler.Dialect
	now     func() time.Time
	timeout time.Duration // of each query; 0: none

	catalogs catalogCache
	members  *memberCache // nil: no cache
}

// New returns an engine over st, compiling for dialect, with a membership
// cache of DefaultCacheEntries answers kept DefaultCacheTTL (see
// Contains) and queries interrupted after DefaultQueryTimeout.
func New(st Store, dialect compiler.Dialect, now func() time.Time) *Engine {
	if now == nil {
		now = time.Now
	}
	e := &Engine{store: st, dialect: dialect, now: now, timeout: DefaultQueryTimeout,
		catalogs: catalogCache{sites: map[int64]cachedCatalog{}}}
	return e.WithMembershipCache(DefaultCacheEntries, DefaultCacheTTL)
}

// Definition is a segment as the API receives it: the JSON tree or the
// text form (exactly one).
type Definition struct {
	JSON json.RawMessage
	Text string
}

// ErrInvalid wraps every error about the definition itself (syntax, unknown
// attributes, unfit operators, missing or cyclic segment references), as
// opposed to failures of the database.
var ErrInvalid = errors.New("invalid segment")

// invalid marks err as a problem of the definition.
type invalid struct{ err error }

func (e invalid) Error() string { return e.err.Error() }
func (e invalid) Unwrap() []error {
	return []error{ErrInvalid, e.err}
}

// Prepare parses and validates a definition for a site. selfID, when not
// empty, is the saved segment being defined, so that a reference back to
// it is reported as a cycle. The definition is held to the limits of the
// segment package as written, and again with every saved segment it names
// written out in full.
func (e *Engine) Prepare(ctx context.Context, site int64, def Definition, selfID string) (segment.Node, error) {
	var n segment.Node
	var err error
	switch {
	case len(def.JSON) > 0 && def.Text != "":
		return nil, invalid{errors.New("give the definition as JSON or as text, not both")}
	case len(def.JSON) > 0:
		n, err = segment.ParseJSON(def.JSON)
	case strings.TrimSpace(def.Text) != "":
		n, err = segment.Parse(def.Text)
	default:
		return nil, invalid{errors.New("the segment has no definition")}
	}
	if err != nil {
		return nil, invalid{err}
	}
	cat, err := e.Catalog(ctx, site)
	if err != nil {
		return nil, err
	}
	if err := segment.Validate(n, cat); err != nil {
		return nil, invalid{err}
	}
	if err := e.checkRefs(ctx, site, n, selfID); err != nil {
		return nil, err
	}
	return n, nil
}

// checkRefs checks that referenced segments exist, that no chain of
// references leads back to selfID or loops, and that the tree stays within
// the limits with each of them written out.
func (e *Engine) checkRefs(ctx context.Context, site int64, n segment.Node, selfID string) error {
	err := segment.CheckExpanded(n, selfID, func(id string) (segment.Node, error) {
		s, err := e.store.Segment(ctx, site, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid{fmt.Errorf("in_segment(%q): no such saved segment", id)}
		}
		if err != nil {
			return nil, err
		}
		ref, err := segment.ParseJSON(s.Definition)
		var le *segment.LimitError
		if errors.As(err, &le) {
			return nil, invalid{fmt.Errorf("saved segment %s: %w", id, err)}
		}
		if err != nil {
			return nil, fmt.Errorf("saved segment %s is unreadable: %w", id, err)
		}
		return ref, nil
	})
	var le *segment.LimitError
	if errors.As(err, &le) || errors.Is(err, segment.ErrCycle) {
		return invalid{err}
	}
	return err
}

// compiler returns a compiler of n for a site at this moment, having
// held n to the limits with the saved segments it names written out.
// Saved segments are read once per compiler.
func (e *Engine) compiler(ctx context.Context, site int64, n segment.Node) (*compiler.Compiler, error) {
	cat, err := e.Catalog(ctx, site)
	if err != nil {
		return nil, err
	}
	saved := map[string]segment.Node{}
	c := &compiler.Compiler{
		Site:    site,
		Now:     e.now().UTC(),
		Catalog: cat,
		Dialect: e.dialect,
		Resolve: func(id string) (segment.Node, error) {
			if n, ok := saved[id]; ok {
				return n, nil
			}
			s, err := e.store.Segment(ctx, site, id)
			if err != nil {
				return nil, err
			}
			n, err := savedNode(s, cat)
			if err != nil {
				return nil, err
			}
			saved[id] = n
			return n, nil
		},
	}
	if err := checkExpanded(n, c.Resolve); err != nil {
		return nil, err
	}
	return c, nil
}

// Count returns the number of members of n.
func (e *Engine) Count(ctx context.Context, site int64, n segment.Node) (int64, error) {
	if err := e.store.Sync(ctx); err != nil {
		return 0, err
	}
	c, err := e.compiler(ctx, site, n)
	if err != nil {
		return 0, err
	}
	q, err := c.Count(n)
	if err != nil {
		return 0, err
	}
	var count int64
	if err := e.queryRow(ctx, "count segment", q.SQL, q.Args, &count); err != nil {
		return 0, err
	}
	return count, nil
}

// Members returns up to limit members with keys above after, in key order,
// each with the named attributes.
func (e *Engine) Members(ctx context.Context, site int64, n segment.Node, after int64, limit int, attrs []string) ([]store.Member, error) {
	members, _, err := e.page(ctx, site, n, after, limit, attrs, false)
	return members, err
}

// Preview returns the size of n and its first limit members with the named
// attributes, evaluating the segment once for both.
func (e *Engine) Preview(ctx context.Context, site int64, n segment.Node, limit int, attrs []string) (int64, []store.Member, error) {
	members, size, err := e.page(ctx, site, n, 0, limit, attrs, true)
	return size, members, err
}

// page lists members after a key; with sized it also counts them all in
// the same query. IDs are looked up for the page's rows only.
func (e *Engine) page(ctx context.Context, site int64, n segment.Node, after int64, limit int, attrs []string, sized bool) ([]store.Member, int64, error) {
	if err := e.store.Sync(ctx); err != nil {
		return nil, 0, err
	}
	c, err := e.compiler(ctx, site, n)
	if err != nil {
		return nil, 0, err
	}
	q, err := c.Page(n, after, limit, sized)
	if err != nil {
		return nil, 0, err
	}
	out, total, err := e.pageRows(ctx, q.SQL, q.Args)
	if err != nil {
		return nil, 0, err
	}
	if len(out) == 0 || len(attrs) == 0 {
		return out, total, nil
	}
	keys := make([]int64, len(out))
	for i, m := range out {
		keys[i] = m.Key
	}
	byKey, err := e.store.CurrentAttributes(ctx, site, keys, attrs)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Attributes = byKey[out[i].Key]
	}
	return out, total, nil
}

// pageRows runs page's query under the timeout.
func (e *Engine) pageRows(ctx context.Context, query string, args []any) ([]store.Member, int64, error) {
	const what = "list segment members"
	ctx, cancel := e.Bound(ctx)
	defer cancel()
	rows, err := e.store.SQL().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, e.QueryError(ctx, what, err)
	}
	defer rows.Close()
	var out []store.Member
	var total int64
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.Key, &total, &m.UserID); err != nil {
			return nil, 0, e.QueryError(ctx, what, err)
		}
		out = append(out, m)
	}
	return out, total, e.QueryError(ctx, what, rows.Err())
}

// MembersQuery compiles n to a parameterised query returning its member
// keys in a column u, for callers that filter their own rows by
// membership (recordings: user_key IN (members)). Like every answer of the
// engine it reflects the data as of the caller's query, which must Sync
// first, and run it under Bound to have it interrupted in time.
func (e *Engine) MembersQuery(ctx context.Context, site int64, n segment.Node) (store.KeySet, error) {
	c, err := e.compiler(ctx, site, n)
	if err != nil {
		return store.KeySet{}, err
	}
	q, err := c.Members(n)
	if err != nil {
		return store.KeySet{}, err
	}
	return store.KeySet{SQL: q.SQL, Args: q.Args}, nil
}
