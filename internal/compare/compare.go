// Package compare compares two groups of users — two segments, or one
// segment and everyone else — over a period: their activity side by side,
// and every event, page, attribute and session property on which they
// differ, each with the right test, a Benjamini–Hochberg adjustment and
// an effect size, ranked.
//
// The database aggregates (per-user counts grouped by count, value counts
// per group); the tests run in Go (package stats). The SQL is written
// through the segment compiler's dialect, so it runs on DuckDB and on
// ClickHouse 18.16: member sets are compiled segments read with
// "IN (subquery)", tables are read through Dialect.From, and there are no
// CTEs, window functions or second JOINs.
package compare

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// Store is what a comparison needs of storage.
type Store interface {
	// Sync waits until every acknowledged write is queryable.
	Sync(ctx context.Context) error
	// SQL is the database the queries run on.
	SQL() *sql.DB
}

// Comparer runs comparisons.
type Comparer struct {
	store   Store
	seg     *engine.Engine
	dialect compiler.CompareDialect
	now     func() time.Time
}

// New returns a comparer over st, whose groups seg compiles for dialect.
func New(st Store, seg *engine.Engine, dialect compiler.CompareDialect, now func() time.Time) *Comparer {
	if now == nil {
		now = time.Now
	}
	return &Comparer{store: st, seg: seg, dialect: dialect, now: now}
}

// Rest says who "everyone else" is when a comparison names one segment.
type Rest string

// The values of Rest.
const (
	RestIdentified Rest = "identified" // identified users not in A
	RestAll        Rest = "all"        // every user not in A, anonymous visitors too
)

// Request is a comparison to run.
type Request struct {
	A segment.Node
	// B is the second group; nil compares A with everyone else (Rest).
	B              segment.Node
	ALabel, BLabel string
	Rest           Rest
	// From and To bound the activity compared (events and sessions),
	// To excluded. Attributes are their current values.
	From, To time.Time
	// KeepShared counts the users in both A and B in both groups; by
	// default they are left out of both (A becomes "A and not B", B "B
	// and not A"), so that the groups are independent, as the tests
	// assume.
	KeepShared bool
	// Questions are the survey questions whose answers are compared
	// (the API lists the site's rating and choice questions).
	Questions []Question
}

// Question is a survey question whose answers a comparison compares:
// each user's latest answer to it in the period.
type Question struct {
	Survey     string // the survey's ID
	SurveyName string
	ID         string // the question's ID
	Prompt     string
	// Score is set for scored questions (ratings), compared as numbers
	// from Low up; the others' answers are options, compared one by one.
	Score bool
	Low   float64
}

// ErrInvalid wraps problems of the request itself.
var ErrInvalid = errors.New("invalid comparison")

// Group is one side of a comparison.
type Group struct {
	Label string `json:"label"`
	// Segment is the group's definition in the segment language.
	Segment string `json:"segment"`
	Size    int64  `json:"size"`
}

// Result is a comparison.
type Result struct {
	A    Group     `json:"a"`
	B    Group     `json:"b"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Overlap is how many users were in both segments (0 against
	// everyone else); Shared says what was done with them: "excluded"
	// from both groups (the default) or "counted_in_both".
	Overlap int64  `json:"overlap"`
	Shared  string `json:"shared,omitempty"`
	Metrics []Row  `json:"metrics"`
	// Rows are the differences, ranked: significant ones first, then by
	// the size of the effect.
	Rows []Row `json:"rows"`
	// Tests is how many tests the adjustment covered.
	Tests  int   `json:"tests"`
	TookMS int64 `json:"took_ms"`
}

// groups completes the request's groups and labels and returns the
// member sets to read: A's, and B's unless B is everyone else (rest is
// then set, and B's members are the universe's less A's).
func (c *Comparer) groups(ctx context.Context, site int64, req *Request) (a, b store.KeySet, rest Rest, err error) {
	if req.A == nil {
		return a, b, "", fmt.Errorf("%w: segment A is missing", ErrInvalid)
	}
	if req.B == nil {
		rest := segment.Node(&segment.Not{Condition: req.A})
		switch req.Rest {
		case RestIdentified, "":
			rest = &segment.Group{Op: segment.All, Conditions: []segment.Node{rest, &segment.Identified{}}}
			req.Rest = RestIdentified
		case RestAll:
		default:
			return a, b, "", fmt.Errorf("%w: rest is %q or %q, not %q", ErrInvalid, RestIdentified, RestAll, req.Rest)
		}
		req.B = rest
		if req.BLabel == "" {
			req.BLabel = "Everyone else"
		}
		if req.ALabel == "" {
			req.ALabel = "A"
		}
		a, err = c.seg.MembersQuery(ctx, site, req.A)
		return a, b, req.Rest, err
	}
	if req.ALabel == "" {
		req.ALabel = "A"
	}
	if req.BLabel == "" {
		req.BLabel = "B"
	}
	if a, err = c.seg.MembersQuery(ctx, site, req.A); err != nil {
		return a, b, "", err
	}
	b, err = c.seg.MembersQuery(ctx, site, req.B)
	return a, b, "", err
}

// Compare runs a comparison for a site.
func (c *Comparer) Compare(ctx context.Context, site int64, req Request) (*Result, error) {
	start := time.Now()
	if req.To.IsZero() {
		req.To = c.now().UTC()
	}
	if req.From.IsZero() {
		req.From = req.To.Add(-30 * 24 * time.Hour)
	}
	if !req.From.Before(req.To) {
		return nil, fmt.Errorf("%w: from must be before to", ErrInvalid)
	}
	if err := c.store.Sync(ctx); err != nil {
		return nil, err
	}
	a, b, rest, err := c.groups(ctx, site, &req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.seg.Bound(ctx)
	defer cancel()
	q := &querier{c: c, site: site, from: req.From, to: req.To}
	cat, err := c.seg.Catalog(ctx, site)
	if err != nil {
		return nil, err
	}
	// Each group's members are read once, and every query after takes
	// them as a bound list: the segments are not evaluated again.
	// Everyone else is not listed: the queries take the universe less A.
	var keys [2][]int64
	var sels []sel
	var sizes [2]int64
	var shared int64
	if keys[0], err = q.keys(ctx, a); err != nil {
		return nil, c.seg.QueryError(ctx, "compare segments", err)
	}
	slices.Sort(keys[0])
	sizes[0] = int64(len(keys[0]))
	if rest != "" {
		if sizes[1], err = q.restSize(ctx, rest, keys[0]); err != nil {
			return nil, c.seg.QueryError(ctx, "compare segments", err)
		}
		sels = []sel{{lists: keys[:1], rest: rest}}
	} else {
		if keys[1], err = q.keys(ctx, b); err != nil {
			return nil, c.seg.QueryError(ctx, "compare segments", err)
		}
		slices.Sort(keys[1])
		shared = overlap(keys[0], keys[1])
		sels = []sel{{lists: keys[:]}}
		switch {
		case shared > 0 && req.KeepShared:
			sels = []sel{{lists: keys[:1]}, {lists: keys[1:], base: 1}}
		case shared > 0:
			keys[0], keys[1] = withoutShared(keys[0], keys[1])
			a, b := req.A, req.B
			req.A = &segment.Group{Op: segment.All, Conditions: []segment.Node{a, &segment.Not{Condition: b}}}
			req.B = &segment.Group{Op: segment.All, Conditions: []segment.Node{b, &segment.Not{Condition: a}}}
		}
		sizes[0], sizes[1] = int64(len(keys[0])), int64(len(keys[1]))
	}
	data, err := q.collect(ctx, cat, sizes, sels, req.Questions)
	if err != nil {
		return nil, c.seg.QueryError(ctx, "compare segments", err)
	}
	res := &Result{
		A:    Group{Label: req.ALabel, Segment: segment.Format(req.A), Size: data.size[0]},
		B:    Group{Label: req.BLabel, Segment: segment.Format(req.B), Size: data.size[1]},
		From: req.From, To: req.To, Overlap: shared,
	}
	if shared > 0 {
		res.Shared = "excluded"
		if req.KeepShared {
			res.Shared = "counted_in_both"
		}
	}
	res.Metrics = data.metrics()
	res.Rows = data.rows(segment.Period{From: req.From, To: req.To}, req.A, req.B)
	res.Tests = rank(res.Rows)
	adjust(res.Metrics)
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}
