package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
)

// What package insight needs of the engine: it compiles its queries with
// the same compiler, dialect and saved segments, and runs them on the
// same database under the same bounds.

// Compiler returns a compiler for a site at this moment that resolves
// the saved segments n names, having held n to the limits with them
// written out. n may be nil, for a compiler of event conditions only.
func (e *Engine) Compiler(ctx context.Context, site int64, n segment.Node) (*compiler.Compiler, error) {
	if n == nil {
		n = &segment.Group{Op: segment.All}
	}
	return e.compiler(ctx, site, n)
}

// Dialect returns the dialect the engine compiles for.
func (e *Engine) Dialect() compiler.Dialect { return e.dialect }

// SQL returns the database the engine's queries run on.
func (e *Engine) SQL() *sql.DB { return e.store.SQL() }

// Sync waits until every acknowledged write is queryable.
func (e *Engine) Sync(ctx context.Context) error { return e.store.Sync(ctx) }

// Now returns the engine's clock's moment.
func (e *Engine) Now() time.Time { return e.now() }

// SavedFunnels returns a site's saved funnel by ID as of now
// (store.ErrNotFound when there is none), for funnel_step conditions.
type SavedFunnels func(ctx context.Context, site int64, id string) (compiler.Funnel, error)

// WithFunnels lets segments name saved funnels (package insight provides
// them). Call it before the engine is used.
func (e *Engine) WithFunnels(f SavedFunnels) *Engine {
	e.funnels = f
	return e
}
