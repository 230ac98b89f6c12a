package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/segment"
)

// DefaultQueryTimeout is how long one query of a segment may run unless
// WithQueryTimeout says otherwise.
const DefaultQueryTimeout = 30 * time.Second

// Errors of queries that went beyond what the server allows. The
// definition is valid; evaluating it cost too much.
var (
	// ErrTimeout means a query ran longer than the query timeout and was
	// interrupted.
	ErrTimeout = errors.New("the segment took too long to evaluate")
	// ErrTooExpensive means the database refused a query for want of
	// memory.
	ErrTooExpensive = errors.New("the segment needs more memory than the database may use")
)

// errTimedOut is the cause of contexts that Bound ends, which tells the
// query timeout from a deadline of the caller's.
var errTimedOut = errors.New("segment query timeout")

// WithQueryTimeout sets how long each query of a segment may run before
// it is interrupted and answered with ErrTimeout; 0 means no limit. Call
// it before the engine is used.
func (e *Engine) WithQueryTimeout(d time.Duration) *Engine {
	e.timeout = d
	return e
}

// Bound returns ctx ended after the query timeout, for a query that
// includes a segment (such as MembersQuery's) which the caller runs
// itself; QueryError then tells a timeout from other errors.
func (e *Engine) Bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if e.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, e.timeout, errTimedOut)
}

// QueryError classifies err, from a query run under a context made by
// Bound: ErrTimeout when the timeout interrupted it, ErrTooExpensive when
// the database ran out of memory, else err as it is. what says what the
// query was doing, for the message.
func (e *Engine) QueryError(ctx context.Context, what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(context.Cause(ctx), errTimedOut):
		return fmt.Errorf("%s: %w (the limit is %s)", what, ErrTimeout, e.timeout)
	case e.store.OutOfMemory(err):
		return fmt.Errorf("%s: %w: %v", what, ErrTooExpensive, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// queryRow runs one query under the timeout and scans its row into dest.
func (e *Engine) queryRow(ctx context.Context, what, query string, args []any, dest ...any) error {
	ctx, cancel := e.Bound(ctx)
	defer cancel()
	return e.QueryError(ctx, what, e.store.SQL().QueryRowContext(ctx, query, args...).Scan(dest...))
}

// queryKeys runs one query of user keys under the timeout and calls fn
// with each.
func (e *Engine) queryKeys(ctx context.Context, what, query string, args []any, fn func(k int64)) error {
	ctx, cancel := e.Bound(ctx)
	defer cancel()
	rows, err := e.store.SQL().QueryContext(ctx, query, args...)
	if err != nil {
		return e.QueryError(ctx, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return e.QueryError(ctx, what, err)
		}
		fn(k)
	}
	return e.QueryError(ctx, what, rows.Err())
}

// checkExpanded holds a tree that names saved segments to the limits as
// written out in full: a segment it names may have grown since it was
// saved. Trees without in_segment were held to them when parsed.
func checkExpanded(n segment.Node, resolve func(id string) (segment.Node, error)) error {
	if len(segment.SegmentRefs(n)) == 0 {
		return nil
	}
	err := segment.CheckExpanded(n, "", resolve)
	var le *segment.LimitError
	if errors.As(err, &le) || errors.Is(err, segment.ErrCycle) {
		return invalid{err}
	}
	return err
}
