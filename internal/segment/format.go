package segment

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
)

// Format returns the canonical text form of a condition. For every tree t
// that Parse returns, Parse(Format(t)) is t again (positions aside), and
// formatting is idempotent.
//
// The canonical form writes keywords in lower case, puts parentheses only
// where precedence needs them or where a group sits directly inside a group
// of the same kind (so that the nesting survives), and around a negated
// condition that ends in a comparison, for legibility: not (plan = "pro").
// A group of one condition is written as that condition. Durations use the
// largest unit that divides them among d, h, m and s (2w is written 14d);
// times at midnight UTC are written as dates, others in RFC 3339 in UTC;
// strings that are ISO dates are written without quotes, like the unquoted
// dates they parse from.
//
// Trees that Validate refuses may format to text that does not parse.
func Format(n Node) string {
	var f formatter
	f.node(n, ctxTop)
	return f.String()
}

// fmtContext is where a node is written, which decides its parentheses.
type fmtContext uint8

const (
	ctxTop fmtContext = iota
	ctxOr
	ctxAnd
	ctxNot
)

type formatter struct{ strings.Builder }

func (f *formatter) node(n Node, ctx fmtContext) {
	switch n := n.(type) {
	case *Group:
		f.group(n, ctx)
	case *Not:
		f.WriteString("not ")
		f.node(n.Condition, ctxNot)
	case nil:
		f.WriteString("<nil>")
	default:
		paren := ctx == ctxNot && endsInComparison(n)
		if paren {
			f.WriteByte('(')
		}
		f.leaf(n)
		if paren {
			f.WriteByte(')')
		}
	}
}

func (f *formatter) group(g *Group, ctx fmtContext) {
	if len(g.Conditions) == 1 {
		f.node(g.Conditions[0], ctx)
		return
	}
	sep, inner := " and ", ctxAnd
	if g.Op == Any {
		sep, inner = " or ", ctxOr
	}
	paren := ctx == ctxNot || ctx == inner || (g.Op == Any && ctx == ctxAnd) || len(g.Conditions) == 0
	if paren {
		f.WriteByte('(')
	}
	for i, c := range g.Conditions {
		if i > 0 {
			f.WriteString(sep)
		}
		f.node(c, inner)
	}
	if paren {
		f.WriteByte(')')
	}
}

// endsInComparison reports whether a leaf is more than a bare call, so
// that "not" before it reads ambiguously without parentheses.
func endsInComparison(n Node) bool {
	switch n := n.(type) {
	case *Event:
		return n.Count.Op != ""
	case *Visited:
		return n.Count.Op != ""
	case *Signal:
		return n.Count.Op != ""
	case *InSegment, *Identified:
		return false
	case *FunnelStep:
		return !n.Completed
	}
	return true
}

func (f *formatter) leaf(n Node) {
	switch n := n.(type) {
	case *Attribute:
		f.ref(n.Scope, n.Key)
		f.op(n.Op, n.Values)
		if !n.AsOf.IsZero() {
			f.WriteString(" as of ")
			f.WriteString(formatTime(n.AsOf))
		}
	case *Changed:
		f.ref(ScopeUser, n.Key)
		f.WriteString(" changed")
		if n.From != nil {
			f.WriteString(" from ")
			f.WriteString(formatValue(*n.From))
		}
		if n.To != nil {
			f.WriteString(" to ")
			f.WriteString(formatValue(*n.To))
		}
		f.within(n.Period)
	case *Event:
		f.event(n)
	case *ActiveDays:
		f.WriteString("active_days(")
		f.period(n.Period)
		f.WriteByte(')')
		f.count(n.Count)
	case *Visited:
		f.WriteString("visited(")
		if n.Match != OpEq && n.Match != "" {
			f.WriteString(string(n.Match))
			f.WriteByte(' ')
		}
		f.WriteString(quote(n.Pattern))
		if !n.Period.IsZero() {
			f.WriteString(", ")
			f.period(n.Period)
		}
		f.WriteByte(')')
		f.count(n.Count)
	case *Sessions:
		f.WriteString("sessions(")
		f.period(n.Period)
		f.WriteByte(')')
		f.count(n.Count)
	case *SessionDuration:
		if n.Agg == AggAvg {
			f.WriteString("avg_")
		}
		f.WriteString("session_duration")
		if !n.Period.IsZero() {
			f.WriteByte('(')
			f.period(n.Period)
			f.WriteByte(')')
		}
		f.WriteString(" " + string(n.Op) + " " + formatDuration(n.Value))
	case *SessionField:
		f.WriteString("session." + n.Field)
		f.op(n.Op, n.Values)
		f.within(n.Period)
	case *Signal:
		f.WriteString(string(n.Kind) + "(")
		f.period(n.Period)
		if n.Match != "" {
			if !n.Period.IsZero() {
				f.WriteString(", ")
			}
			f.WriteString("page " + string(n.Match) + " " + quote(n.Page))
		}
		f.WriteByte(')')
		f.count(n.Count)
	case *NPS:
		f.nps(n)
	case *Answer:
		f.answer(n)
	case *FeedbackRating:
		f.feedbackRating(n)
	case *Identified:
		f.WriteString("identified()")
	case *InSegment:
		f.WriteString("in_segment(" + quote(n.ID) + ")")
	case *FunnelStep:
		f.funnelStep(n)
	default:
		f.WriteString("<unknown>")
	}
}

func (f *formatter) event(e *Event) {
	if e.First {
		f.WriteString("did_first(")
	} else {
		f.WriteString("did(")
	}
	f.WriteString(quote(e.Name))
	if !e.Period.IsZero() {
		f.WriteString(", ")
		f.period(e.Period)
	}
	for _, p := range e.Where {
		f.WriteString(", ")
		if isIdentPath(p.Key) {
			f.WriteString(p.Key)
		} else {
			f.WriteString(quote(p.Key))
		}
		f.op(p.Op, p.Values)
	}
	f.WriteByte(')')
	f.count(e.Count)
}

// ref writes an attribute reference: bare where the parser reads it back,
// attr("…") or company("…") otherwise.
func (f *formatter) ref(scope Scope, key string) {
	switch {
	case scope == ScopeCompany && isIdentPath(key):
		f.WriteString("company." + key)
	case scope == ScopeCompany:
		f.WriteString("company(" + quote(key) + ")")
	case isIdentPath(key) && !reserved(strings.SplitN(key, ".", 2)[0]):
		f.WriteString(key)
	default:
		f.WriteString("attr(" + quote(key) + ")")
	}
}

// op writes " op values", with a leading space.
func (f *formatter) op(op Op, vals []Value) {
	f.WriteString(" " + string(op))
	switch op {
	case OpSet, OpNotSet:
	case OpIn, OpNotIn:
		f.WriteString(" (")
		for i, v := range vals {
			if i > 0 {
				f.WriteString(", ")
			}
			f.WriteString(formatValue(v))
		}
		f.WriteByte(')')
	case OpBetween:
		for i, v := range vals {
			if i > 0 {
				f.WriteString(" and")
			}
			f.WriteString(" " + formatValue(v))
		}
	case OpContains, OpStarts, OpEnds, OpMatches:
		for _, v := range vals {
			if v.Kind == ValString {
				f.WriteString(" " + quote(v.Str)) // never a bare date here
			} else {
				f.WriteString(" " + formatValue(v))
			}
		}
	default:
		for _, v := range vals {
			f.WriteString(" " + formatValue(v))
		}
	}
}

func (f *formatter) count(c Count) {
	if c.Op != "" {
		f.WriteString(" " + string(c.Op) + " " + formatNumber(c.N))
	}
}

func (f *formatter) within(p Period) {
	if !p.IsZero() {
		f.WriteString(" within ")
		f.period(p)
	}
}

func (f *formatter) period(p Period) {
	switch {
	case !p.From.IsZero() || !p.To.IsZero():
		f.WriteString(formatTime(p.From) + ".." + formatTime(p.To))
	case p.Last != 0:
		f.WriteString(formatDuration(p.Last))
	}
}

// isIdentPath reports whether s is IDENT {"." IDENT}.
func isIdentPath(s string) bool {
	for _, seg := range strings.Split(s, ".") {
		if seg == "" || !isIdentStart(seg[0]) {
			return false
		}
		for i := 1; i < len(seg); i++ {
			if !isIdentPart(seg[i]) {
				return false
			}
		}
	}
	return true
}

// formatValue writes a literal as the text form reads it.
func formatValue(v Value) string {
	switch v.Kind {
	case ValString:
		if isDateText(v.Str) {
			return v.Str
		}
		return quote(v.Str)
	case ValNumber:
		return formatNumber(v.Num)
	case ValBool:
		return strconv.FormatBool(v.Bool)
	case ValDate:
		return formatTime(v.Time)
	case ValDuration:
		return formatDuration(v.Dur)
	}
	return "?"
}

// formatNumber writes a number in its shortest exact form, in plain
// decimal between 1e-6 and 1e21 and with an exponent outside.
func formatNumber(x float64) string {
	if x == 0 {
		return "0"
	}
	if a := math.Abs(x); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// formatDuration writes d in the largest of d, h, m and s that divides it.
func formatDuration(d time.Duration) string {
	units := [...]struct {
		suffix string
		size   time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	for _, u := range units {
		if d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.suffix
		}
	}
	return d.String()
}

// formatTime writes a date for midnight UTC and RFC 3339 in UTC otherwise.
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// quote writes s in double quotes with the escapes the lexer reads.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if unicode.IsPrint(r) {
				b.WriteRune(r)
				continue
			}
			if r > 0xFFFF {
				hi, lo := utf16.EncodeRune(r)
				b.WriteString(`\u` + hex(hi) + `\u` + hex(lo))
			} else {
				b.WriteString(`\u` + hex(r))
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func hex(r rune) string {
	s := strconv.FormatInt(int64(r), 16)
	return strings.Repeat("0", 4-len(s)) + s
}
