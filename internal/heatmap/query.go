// Package heatmap answers heatmaps of a page group: where visitors click
// (per element and as a density grid), rage and dead clicks, and how far
// they scroll, filtered by date range, device breakpoint and segment. The
// queries are written once, through the segment compiler's dialect, and
// run on DuckDB and ClickHouse alike.
package heatmap

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// Match says how a page group's page value selects pages.
type Match string

// Page group matches.
const (
	MatchExact   Match = "exact"   // the full URL, query included
	MatchPath    Match = "path"    // the path: the URL without its query
	MatchPattern Match = "pattern" // a path pattern: * is any run of characters but /, ** any run at all
	MatchRegex   Match = "regex"   // an RE2 regular expression searched in the full URL
)

// Kind is a heatmap's kind.
type Kind string

// Heatmap kinds.
const (
	KindClick  Kind = "click"
	KindRage   Kind = "rage"
	KindDead   Kind = "dead"
	KindScroll Kind = "scroll"
)

// signal is the clicks table's signal a kind counts.
func (k Kind) signal() store.Signal {
	switch k {
	case KindRage:
		return store.SignalRage
	case KindDead:
		return store.SignalDead
	case KindScroll:
		return store.SignalScroll
	}
	return store.SignalClick
}

// sig is the SQL condition on the clicks table's sig column that keeps
// the rows of signals (a number, never user text).
func sig(signals ...store.Signal) string {
	if len(signals) == 1 {
		return "sig = " + itoa(int(signals[0]))
	}
	var b strings.Builder
	b.WriteString("sig IN (")
	for i, s := range signals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(itoa(int(s)))
	}
	b.WriteString(")")
	return b.String()
}

// Device breakpoints, by the viewport's width when the visitor clicked:
// desktop from TabletMax+1 px, tablet from MobileMax+1 px, mobile below.
const (
	MobileMax = 767
	TabletMax = 1023
)

// Devices are the breakpoints a heatmap may be filtered by.
var Devices = []string{"desktop", "tablet", "mobile"}

// ErrInvalid wraps every error about a query's parameters.
var ErrInvalid = errors.New("invalid heatmap query")

// FieldError is a parameter the query refused.
type FieldError struct {
	Field, Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Query selects the events of a heatmap.
type Query struct {
	Site     int64
	Page     string // the page group's value, read as Match says
	Match    Match
	Device   string    // "" for every device, else one of Devices
	From, To time.Time // [From, To); zero: open
	// Members, when not nil, restricts the events to the users of a
	// segment (a SELECT of one column u, with its arguments).
	Members *store.KeySet
	// Exclude turns Members around: the users not in the segment.
	Exclude bool
}

// MaxPage is the longest page value accepted.
const MaxPage = 2000

// Check validates q's fields.
func (q Query) Check() error {
	if q.Page == "" || len(q.Page) > MaxPage {
		return &FieldError{"page", fmt.Sprintf("a page of 1 to %d characters is required", MaxPage)}
	}
	switch q.Match {
	case MatchExact, MatchPath, MatchPattern:
	case MatchRegex:
		if _, err := regexp.Compile(q.Page); err != nil {
			return &FieldError{"page", "not a regular expression: " + err.Error()}
		}
	default:
		return &FieldError{"match", "match must be exact, path, pattern or regex"}
	}
	if q.Device != "" && q.Device != "desktop" && q.Device != "tablet" && q.Device != "mobile" {
		return &FieldError{"device", "device must be desktop, tablet or mobile"}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return &FieldError{"to", "to must come after from"}
	}
	return nil
}

// patternRegexp turns a path pattern into an anchored regular expression.
func patternRegexp(p string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString("[^/]*")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// sqlWriter collects SQL text and its arguments as a dialect binds them.
type sqlWriter struct {
	d    compiler.Dialect
	sql  strings.Builder
	args []any
}

// Write implements compiler.Writer.
func (w *sqlWriter) Write(parts ...string) {
	for _, p := range parts {
		w.sql.WriteString(p)
	}
}

// Arg implements compiler.Writer.
func (w *sqlWriter) Arg(v any) {
	w.args = append(w.args, w.d.Arg(v))
	w.sql.WriteString("?")
}

// group is a page group resolved for the queries of one answer: a
// pattern's paths, when they are few, are matched once, so that the
// queries test each row with an IN list instead of a regular expression.
type group struct {
	Query
	// paths, when resolved, are the paths seen in the period that the
	// pattern matches.
	paths    []string
	resolved bool
}

// maxGroupPaths bounds the paths of a resolved pattern: beyond it, the
// queries match the pattern row by row.
const maxGroupPaths = 1000

// resolve returns q's page group, its pattern resolved to the paths it
// matches among those seen in q's period.
func (s *Service) resolve(ctx context.Context, q Query) (group, error) {
	g := group{Query: q}
	if q.Match != MatchPattern {
		return g, nil
	}
	re, err := regexp.Compile(patternRegexp(q.Page))
	if err != nil {
		return g, &FieldError{"page", "not a pattern: " + err.Error()}
	}
	w := &sqlWriter{d: s.d}
	w.Write("SELECT DISTINCT path FROM (SELECT path ")
	w.d.From(w, compiler.Clicks, q.Site, nil)
	if err := w.period(q); err != nil {
		return g, err
	}
	if prefix := patternPrefix(q.Page); prefix != "" {
		if err := w.startsWith("path", prefix); err != nil {
			return g, err
		}
	}
	w.d.EndFrom(w)
	w.Write(") AS e")
	var paths []string
	err = s.query(ctx, w, "find the page group's paths", func(r *sql.Rows) error {
		var p string
		if err := r.Scan(&p); err != nil {
			return err
		}
		if re.MatchString(p) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil || len(paths) > maxGroupPaths {
		return g, err
	}
	sort.Strings(paths)
	g.paths, g.resolved = paths, true
	return g, nil
}

// patternPrefix is a pattern's literal start, before its first *.
func patternPrefix(p string) string {
	prefix, _, _ := strings.Cut(p, "*")
	return prefix
}

// clicks writes the rows of g's page views and signals (the heatmaps'
// clicks table), as a derived table's "FROM … WHERE …": the caller names
// the columns it reads (those of compiler.Clicks). cond, when not "",
// is one more condition on the rows (the signals they are, never user
// text).
func (w *sqlWriter) clicks(g group, cond string) error {
	w.d.From(w, compiler.Clicks, g.Site, nil)
	if cond != "" {
		w.Write(" AND ", cond)
	}
	return w.where(g, true)
}

// period writes q's conditions on the rows' time.
func (w *sqlWriter) period(q Query) error {
	if !q.From.IsZero() {
		w.Write(" AND ts >= ")
		w.Arg(q.From)
	}
	if !q.To.IsZero() {
		w.Write(" AND ts < ")
		w.Arg(q.To)
	}
	return nil
}

// startsWith writes " AND col starts with prefix".
func (w *sqlWriter) startsWith(col, prefix string) error {
	m, err := w.d.StringMatch(segment.OpStarts, col)
	if err != nil {
		return err
	}
	w.Write(" AND ", m)
	w.args = append(w.args, prefix)
	return nil
}

// where writes g's conditions on the rows' time, page and, when the rows
// have a viewport_width column (device), device, then ends the From.
func (w *sqlWriter) where(g group, device bool) error {
	if err := w.period(g.Query); err != nil {
		return err
	}
	switch {
	case g.resolved && len(g.paths) == 0:
		w.Write(" AND 1 = 0")
	case g.resolved:
		w.Write(" AND path IN (")
		for i, p := range g.paths {
			if i > 0 {
				w.Write(", ")
			}
			w.Arg(p)
		}
		w.Write(")")
	case g.Match == MatchExact:
		w.Write(" AND url = ")
		w.Arg(g.Page)
	case g.Match == MatchPath:
		w.Write(" AND path = ")
		w.Arg(g.Page)
	case g.Match == MatchPattern, g.Match == MatchRegex:
		col, re := "url", g.Page
		if g.Match == MatchPattern {
			col, re = "path", patternRegexp(g.Page)
			// The pattern's literal start first: a cheap test that
			// spares the regular expression most other pages.
			if prefix := patternPrefix(g.Page); prefix != "" {
				if err := w.startsWith(col, prefix); err != nil {
					return err
				}
			}
		}
		m, err := w.d.StringMatch(segment.OpMatches, col)
		if err != nil {
			return err
		}
		w.Write(" AND ", m)
		w.args = append(w.args, re)
	}
	if device && g.Device != "" {
		w.Write(" AND ")
		w.device(g.Device)
	}
	w.d.EndFrom(w)
	return nil
}

// device writes the condition of a breakpoint on the signal's
// viewport_width.
func (w *sqlWriter) device(d string) {
	w.Write("(")
	switch d {
	case "desktop":
		w.Write("viewport_width > ")
		w.Arg(float64(TabletMax))
	case "tablet":
		w.Write("viewport_width > ")
		w.Arg(float64(MobileMax))
		w.Write(" AND viewport_width <= ")
		w.Arg(float64(TabletMax))
	default:
		w.Write("viewport_width <= ")
		w.Arg(float64(MobileMax))
	}
	w.Write(")")
}

// members writes " WHERE 1 = 1" and, when q has a segment, " AND
// user_key [NOT] IN (members)" after a derived table of q's events; the
// caller may go on with " AND …".
func (w *sqlWriter) members(q Query) {
	w.Write(" WHERE 1 = 1")
	if q.Members == nil {
		return
	}
	w.Write(" AND user_key ")
	if q.Exclude {
		w.Write("NOT ")
	}
	w.Write("IN (", q.Members.SQL, ")")
	w.args = append(w.args, q.Members.Args...)
}
