package insight

import (
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/segment/compiler"
)

// query accumulates SQL text and its arguments for a dialect; it is the
// compiler.Writer that dialect methods write into.
type query struct {
	d    compiler.InsightDialect
	sb   *strings.Builder
	args []any
}

var _ compiler.Writer = (*query)(nil)

func newQuery(d compiler.InsightDialect) *query { return &query{d: d, sb: &strings.Builder{}} }

// Write implements compiler.Writer.
func (q *query) Write(parts ...string) {
	for _, p := range parts {
		q.sb.WriteString(p)
	}
}

// Arg implements compiler.Writer: v as the dialect binds it.
func (q *query) Arg(v any) {
	q.args = append(q.args, q.d.Arg(v))
	q.sb.WriteString("?")
}

// Int writes an integer argument, typed: ClickHouse binds a bare
// integer as the smallest type that holds it.
func (q *query) Int(v int64) {
	q.sb.WriteString("CAST(")
	q.Arg(v)
	q.sb.WriteString(" AS BIGINT)")
}

// Frag writes a compiled fragment: SQL whose arguments are bound already.
func (q *query) Frag(f compiler.Query) {
	q.sb.WriteString(f.SQL)
	q.args = append(q.args, f.Args...)
}

// capture returns the text that fn writes instead of writing it, its
// arguments bound in order: the caller must write the text before any
// other argument.
func (q *query) capture(fn func()) string {
	saved := q.sb
	q.sb = &strings.Builder{}
	fn()
	text := q.sb.String()
	q.sb = saved
	return text
}

// intText is a constant of the code as SQL text.
func (q *query) intText(v int64) string { return strconv.FormatInt(v, 10) }

// String returns the SQL.
func (q *query) String() string { return q.sb.String() }
