package compare

import (
	"strings"

	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/store"
)

// sqlw builds one query for a dialect: it is the compiler.Writer the
// dialect's From and CurrentFrom write into, and takes member sets
// (compiled segments) whose arguments are already bound.
type sqlw struct {
	d    compiler.Dialect
	b    strings.Builder
	args []any
}

var _ compiler.Writer = (*sqlw)(nil)

func newSQL(d compiler.Dialect) *sqlw { return &sqlw{d: d} }

// Write implements compiler.Writer.
func (w *sqlw) Write(parts ...string) {
	for _, p := range parts {
		w.b.WriteString(p)
	}
}

// Arg implements compiler.Writer.
func (w *sqlw) Arg(v any) {
	w.args = append(w.args, w.d.Arg(v))
	w.b.WriteString("?")
}

// members writes a compiled member set (a SELECT of one column u).
func (w *sqlw) members(k store.KeySet) {
	w.b.WriteString(k.SQL)
	w.args = append(w.args, k.Args...)
}

// keyIn writes a condition: col is one of keys.
func (w *sqlw) keyIn(col string, keys []int64) {
	w.b.WriteString(w.d.KeyIn(col))
	w.args = append(w.args, w.d.Arg(keys))
}

func (w *sqlw) String() string { return w.b.String() }
