package segment

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
)

// Catalog is what validation needs to know about a site.
type Catalog interface {
	// AttributeType returns the type of a key and whether the key is known.
	AttributeType(scope Scope, key string) (attr.Type, bool)
	// AttributeKeys lists the known keys, for "did you mean" suggestions.
	AttributeKeys(scope Scope) []string
}

// Error is one problem that Validate found. Pos is where it is in the text
// form (zero for trees parsed from JSON); Path is always the JSON path of
// the part at fault, such as "conditions[1].value".
type Error struct {
	Pos  Pos
	Path string
	Msg  string
}

// Error returns the message prefixed by the position, or by the path when
// the position is unknown.
func (e *Error) Error() string {
	switch {
	case e.Pos != (Pos{}):
		return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

// ErrorList is every problem Validate found, in the order of the tree.
type ErrorList []*Error

// Error joins the messages, one a line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors, for errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Validate checks a tree against a site's catalog: keys exist, operators
// fit the attribute types, values parse for them, regular expressions
// compile, counts, durations and periods make sense. It returns nil or an
// ErrorList, or a *LimitError alone for a tree beyond MaxConditions or
// MaxDepth, which is not checked further. It does not resolve InSegment
// references; see SegmentRefs and CheckExpanded.
//
// Validate changes the tree in one way: a ValString holding an ISO-8601
// date, compared with a datetime attribute (in Attribute.Values or
// Changed.From and To), becomes a ValDate with Time set and Str emptied.
// After a successful Validate every value compared with a datetime
// attribute is a ValDate. Validating again is harmless.
func Validate(n Node, cat Catalog) error {
	if cat == nil {
		cat = StaticCatalog(nil)
	}
	if f := checkLimits(n); f != nil {
		return &LimitError{Limit: f.limit, Err: f.err}
	}
	v := &validator{cat: cat}
	v.node(n, "")
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

type validator struct {
	cat  Catalog
	errs ErrorList
}

func (v *validator) errorf(pos Pos, path, format string, args ...any) {
	v.errs = append(v.errs, &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) node(n Node, path string) {
	switch n := n.(type) {
	case *Group:
		switch {
		case n.Op != All && n.Op != Any:
			v.errorf(n.Pos, joinPath(path, "type"), `unknown group operator %q (use "all" or "any")`, n.Op)
		case len(n.Conditions) == 0:
			v.errorf(n.Pos, joinPath(path, "conditions"), "a group needs at least one condition")
		}
		for i, c := range n.Conditions {
			v.node(c, fmt.Sprintf("%s[%d]", joinPath(path, "conditions"), i))
		}
	case *Not:
		v.node(n.Condition, joinPath(path, "condition"))
	case *Attribute:
		v.attribute(n, path)
	case *Changed:
		v.changed(n, path)
	case *Event:
		v.event(n, path)
	case *ActiveDays:
		v.count(n.Count, true, n.Pos, path)
		v.period(n.Period, n.Pos, path)
	case *Visited:
		v.visited(n, path)
	case *Sessions:
		v.count(n.Count, true, n.Pos, path)
		v.period(n.Period, n.Pos, path)
	case *SessionDuration:
		if n.Agg != AggAny && n.Agg != AggAvg {
			v.errorf(n.Pos, joinPath(path, "agg"), `unknown aggregate %q (use "any" or "avg")`, n.Agg)
		}
		if !slices.Contains(opsFor(opsCount), n.Op) {
			v.errorf(n.Pos, joinPath(path, "op"), "session durations compare with %s, not %q", joinOps(opsFor(opsCount)), n.Op)
		}
		v.duration(n.Value, n.Pos, joinPath(path, "value"))
		v.period(n.Period, n.Pos, path)
	case *SessionField:
		v.sessionField(n, path)
	case *Signal:
		v.signal(n, path)
	case *NPS:
		v.nps(n, path)
	case *Answer:
		v.answer(n, path)
	case *FeedbackRating:
		v.feedbackRating(n, path)
	case *Identified: // nothing to check
	case *FunnelStep:
		v.funnelStep(n, path)
	case *InSegment:
		if n.ID == "" {
			v.errorf(n.Pos, joinPath(path, "id"), "empty segment ID")
		}
	case nil:
		v.errorf(Pos{}, path, "missing condition")
	default:
		v.errorf(n.Position(), path, "unknown kind of condition %T", n)
	}
}

// opsForType returns the operators that fit an attribute type.
func opsForType(t attr.Type) []Op {
	switch t {
	case attr.String:
		return []Op{OpEq, OpNe, OpIn, OpNotIn, OpContains, OpStarts, OpEnds, OpMatches, OpSet, OpNotSet}
	case attr.Number:
		return []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpBetween, OpIn, OpNotIn, OpSet, OpNotSet}
	case attr.Boolean:
		return []Op{OpEq, OpNe, OpSet, OpNotSet}
	case attr.Datetime:
		return []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpBetween, OpWithin, OpOlderThan, OpSet, OpNotSet}
	}
	return nil
}

// lookup returns a key's type, reporting an unknown key with suggestions.
func (v *validator) lookup(scope Scope, key string, pos Pos, path string) (attr.Type, bool) {
	noun := "attribute"
	switch scope {
	case ScopeUser:
	case ScopeCompany:
		noun = "company attribute"
	default:
		v.errorf(pos, joinPath(path, "scope"), "unknown scope %d", scope)
		return attr.Invalid, false
	}
	if key == "" {
		v.errorf(pos, joinPath(path, "key"), "empty attribute key")
		return attr.Invalid, false
	}
	t, ok := v.cat.AttributeType(scope, key)
	switch {
	case ok:
	case scope == ScopeUser && slices.Contains(functionNames(), key):
		// nps_group = "detractor": a condition written without its
		// parentheses reads as an attribute of that name.
		v.errorf(pos, joinPath(path, "key"), "unknown attribute %q; did you mean the condition %s()? "+
			"(conditions take parentheses, even when empty)", key, key)
	default:
		v.errorf(pos, joinPath(path, "key"), "unknown %s %q%s", noun, key, didYouMean(key, v.cat.AttributeKeys(scope)))
	}
	return t, ok
}

func (v *validator) attribute(a *Attribute, path string) {
	typ, ok := v.lookup(a.Scope, a.Key, a.Pos, path)
	if !ok {
		return
	}
	if allowed := opsForType(typ); !slices.Contains(allowed, a.Op) {
		v.errorf(a.Pos, joinPath(path, "op"), "operator %q does not apply to %s attribute %q (use %s)",
			a.Op, typ, a.Key, joinOps(allowed))
		return
	}
	v.values(a.Values, a.Op, typ, fmt.Sprintf("attribute %q", a.Key), a.Pos, path)
	if !a.AsOf.IsZero() {
		switch {
		case a.Scope != ScopeUser:
			v.errorf(a.Pos, joinPath(path, "as_of"), "as of reads the history of user attributes only")
		case a.Op == OpWithin || a.Op == OpOlderThan:
			v.errorf(a.Pos, joinPath(path, "as_of"), "as of cannot be combined with %s; compare with dates instead", a.Op)
		}
	}
}

func (v *validator) changed(c *Changed, path string) {
	typ, ok := v.lookup(ScopeUser, c.Key, c.Pos, path)
	if ok {
		what := fmt.Sprintf("attribute %q", c.Key)
		okFrom := c.From == nil || v.value(c.From, OpEq, typ, what, c.Pos, joinPath(path, "from"))
		okTo := c.To == nil || v.value(c.To, OpEq, typ, what, c.Pos, joinPath(path, "to"))
		if okFrom && okTo && c.From != nil && c.To != nil && sameValue(*c.From, *c.To) {
			v.errorf(posOr(c.To.Pos, c.Pos), joinPath(path, "to"), "changed from and to the same value never matches")
		}
	}
	v.period(c.Period, c.Pos, path)
}

func (v *validator) event(e *Event, path string) {
	if e.Name == "" {
		v.errorf(e.Pos, joinPath(path, "name"), "empty event name")
	}
	for i := range e.Where {
		p := &e.Where[i]
		pp := fmt.Sprintf("%s[%d]", joinPath(path, "where"), i)
		pos := posOr(p.Pos, e.Pos)
		if p.Key == "" {
			v.errorf(pos, joinPath(pp, "key"), "empty property name")
		}
		if allowed := opsFor(opsProperty); !slices.Contains(allowed, p.Op) {
			v.errorf(pos, joinPath(pp, "op"), "operator %q does not apply to event properties (use %s)", p.Op, joinOps(allowed))
			continue
		}
		v.values(p.Values, p.Op, attr.Invalid, fmt.Sprintf("property %q", p.Key), pos, pp)
	}
	if e.First {
		if len(e.Where) > 0 || e.Count.Op != "" {
			v.errorf(e.Pos, path, "did_first takes no property conditions and no count")
		}
		if e.Period.IsZero() {
			v.errorf(e.Pos, joinPath(path, "within"), "did_first needs a period (like 7d)")
		}
	} else {
		v.count(e.Count, false, e.Pos, path)
	}
	v.period(e.Period, e.Pos, path)
}

func (v *validator) visited(n *Visited, path string) {
	v.pageMatch("visited", n.Match, n.Pattern, n.Pos, path)
	v.count(n.Count, false, n.Pos, path)
	v.period(n.Period, n.Pos, path)
}

func (v *validator) signal(n *Signal, path string) {
	if n.Kind.EventName() == "" {
		kinds := make([]string, 0, 4)
		for _, k := range SignalKinds() {
			kinds = append(kinds, string(k))
		}
		v.errorf(n.Pos, joinPath(path, "type"), "unknown signal %q%s", n.Kind, didYouMean(string(n.Kind), kinds))
	}
	if n.Match != "" {
		v.pageMatch(string(n.Kind)+" page", n.Match, n.Page, n.Pos, path)
	} else if n.Page != "" {
		v.errorf(n.Pos, joinPath(path, "match"), "a page needs a match (like =)")
	}
	v.count(n.Count, false, n.Pos, path)
	v.period(n.Period, n.Pos, path)
}

// pageMatch checks a page path condition as visited(…) and the signals
// take it: what names the condition for the message.
func (v *validator) pageMatch(what string, match Op, pattern string, pos Pos, path string) {
	switch match {
	case OpEq, OpContains, OpStarts, OpMatches:
	default:
		v.errorf(pos, joinPath(path, "match"), `%s matches pages with "=", "contains", "starts_with" or "matches", not %q`, what, match)
	}
	if pattern == "" {
		v.errorf(pos, joinPath(path, "page"), "empty page")
	} else if match == OpMatches {
		v.regexp(pattern, pos, joinPath(path, "page"))
	}
}

func (v *validator) sessionField(s *SessionField, path string) {
	if !slices.Contains(SessionFields(), s.Field) {
		v.errorf(s.Pos, joinPath(path, "field"), "unknown session field %q%s", s.Field, didYouMean(s.Field, SessionFields()))
	} else if allowed := opsForType(attr.String); !slices.Contains(allowed, s.Op) {
		v.errorf(s.Pos, joinPath(path, "op"), "operator %q does not apply to session field %q (use %s)", s.Op, s.Field, joinOps(allowed))
	} else {
		v.values(s.Values, s.Op, attr.String, fmt.Sprintf("session field %q", s.Field), s.Pos, path)
	}
	v.period(s.Period, s.Pos, path)
}

// values checks the number of values an operator takes, then each value.
// typ is attr.Invalid for event properties, whose types are not known.
func (v *validator) values(vals []Value, op Op, typ attr.Type, what string, pos Pos, path string) {
	switch op {
	case OpSet, OpNotSet:
		if len(vals) > 0 {
			v.errorf(pos, joinPath(path, "values"), "%q takes no value", op)
		}
		return
	case OpBetween:
		if len(vals) != 2 {
			v.errorf(pos, joinPath(path, "values"), "between takes two values, not %d", len(vals))
			return
		}
	case OpIn, OpNotIn:
		if len(vals) == 0 {
			v.errorf(pos, joinPath(path, "values"), "%q needs at least one value", op)
			return
		}
	default:
		if len(vals) != 1 {
			v.errorf(pos, joinPath(path, "value"), "%q takes one value, not %d", op, len(vals))
			return
		}
	}
	ok := true
	for i := range vals {
		vp := joinPath(path, "value")
		if op == OpBetween || op == OpIn || op == OpNotIn {
			vp = fmt.Sprintf("%s[%d]", joinPath(path, "values"), i)
		}
		ok = v.value(&vals[i], op, typ, what, pos, vp) && ok
	}
	if ok && op == OpBetween && less(vals[1], vals[0]) {
		v.errorf(posOr(vals[0].Pos, pos), joinPath(path, "values"), "between's low value %s is above its high value %s",
			formatValue(vals[0]), formatValue(vals[1]))
	}
}

// value checks one value against the type it is compared with, turning an
// ISO date string into a ValDate for datetime attributes.
func (v *validator) value(val *Value, op Op, typ attr.Type, what string, pos Pos, path string) bool {
	pos = posOr(val.Pos, pos)
	bad := func(format string, args ...any) bool {
		v.errorf(pos, path, format, args...)
		return false
	}
	if op == OpWithin || op == OpOlderThan {
		if val.Kind != ValDuration {
			return bad("%s takes a duration (like 30d), not %s", op, describeValue(*val))
		}
		return v.duration(val.Dur, pos, path)
	}
	if val.Kind == ValDuration {
		return bad("a duration is not a value to compare with; durations follow within or older_than")
	}
	if op == OpContains || op == OpStarts || op == OpEnds || op == OpMatches {
		if val.Kind != ValString {
			return bad("%s takes a string, not %s", op, describeValue(*val))
		}
		if op == OpMatches {
			return v.regexp(val.Str, pos, path)
		}
		return true
	}
	switch typ {
	case attr.Invalid: // an event property: any literal
		if val.Kind == ValDate || val.Kind == 0 || val.Kind > ValDuration {
			return bad("event properties compare with strings, numbers and booleans, not %s", describeValue(*val))
		}
	case attr.String:
		if val.Kind != ValString {
			return bad("%s is a string; %s is not (quote it: %s)", what, describeValue(*val), quote(plainText(*val)))
		}
	case attr.Number:
		if val.Kind == ValString {
			if f, err := strconv.ParseFloat(strings.TrimSpace(val.Str), 64); err == nil && !math.IsInf(f, 0) {
				return bad("%s is a number; %s is a string (write it without quotes: %s)", what, quote(val.Str), formatNumber(f))
			}
		}
		if val.Kind != ValNumber {
			return bad("%s is a number; %s is not", what, describeValue(*val))
		}
	case attr.Boolean:
		if val.Kind != ValBool {
			return bad("%s is a boolean (true or false); %s is not", what, describeValue(*val))
		}
	case attr.Datetime:
		switch val.Kind {
		case ValDate:
		case ValString:
			t, ok := parseTime(val.Str)
			if !ok {
				return bad("%s is a datetime; %s is not a date (like 2024-05-01 or 2024-05-01T10:00:00Z; use within or older_than for times relative to now)",
					what, quote(val.Str))
			}
			val.Kind, val.Str, val.Time = ValDate, "", t
		default:
			return bad("%s is a datetime; %s is not a date", what, describeValue(*val))
		}
	}
	return true
}

// regexp checks a regular expression as the database will read it.
func (v *validator) regexp(pattern string, pos Pos, path string) bool {
	if msg := regexpProblem(pattern); msg != "" {
		v.errorf(pos, path, "%s", msg)
		return false
	}
	return true
}

// count checks a Count; required says the zero Count is refused.
func (v *validator) count(c Count, required bool, pos Pos, path string) {
	if c.Op == "" {
		if required {
			v.errorf(pos, joinPath(path, "op"), "missing comparison (like >= 4)")
		} else if c.N != 0 {
			v.errorf(pos, joinPath(path, "op"), "a count of %s has no comparison", formatNumber(c.N))
		}
		return
	}
	if !slices.Contains(opsFor(opsCount), c.Op) {
		v.errorf(pos, joinPath(path, "op"), "counts compare with %s, not %q", joinOps(opsFor(opsCount)), c.Op)
	}
	if c.N < 0 || c.N != math.Trunc(c.N) || c.N > maxCount {
		v.errorf(pos, joinPath(path, "value"), "a count is a whole number, 0 or more, not %s", formatNumber(c.N))
	}
}

// maxCount is the largest count: larger whole numbers lose precision as
// float64 and could never match anyway.
const maxCount = 1 << 53

func (v *validator) duration(d time.Duration, pos Pos, path string) bool {
	switch {
	case d <= 0:
		v.errorf(pos, path, "a duration must be positive, not %s", d)
	case d%time.Second != 0:
		v.errorf(pos, path, "a duration is a whole number of seconds, not %s", d)
	default:
		return true
	}
	return false
}

func (v *validator) period(p Period, pos Pos, path string) {
	path = joinPath(path, "within")
	ranged := !p.From.IsZero() || !p.To.IsZero()
	switch {
	case ranged && p.Last != 0:
		v.errorf(pos, path, "a period is either the last N or a date range, not both")
	case ranged && (p.From.IsZero() || p.To.IsZero()):
		v.errorf(pos, path, "a date range needs a start and an end")
	case ranged && !p.From.Before(p.To):
		v.errorf(pos, path, "the period's start %s is not before its end %s", formatTime(p.From), formatTime(p.To))
	case p.Last != 0:
		v.duration(p.Last, pos, path)
	}
}

func posOr(p, fallback Pos) Pos {
	if p == (Pos{}) {
		return fallback
	}
	return p
}

// describeValue names a value for messages: the number 3, the string "x".
func describeValue(v Value) string {
	names := map[ValueKind]string{ValString: "the string", ValNumber: "the number", ValBool: "the boolean",
		ValDate: "the date", ValDuration: "the duration"}
	if v.Kind == ValString {
		return "the string " + quote(v.Str)
	}
	if n, ok := names[v.Kind]; ok {
		return n + " " + formatValue(v)
	}
	return fmt.Sprintf("a value of kind %d", v.Kind)
}

// plainText is a value's text without quotes, for "quote it" hints.
func plainText(v Value) string {
	if v.Kind == ValString {
		return v.Str
	}
	return formatValue(v)
}

// less orders two values of the same kind; it is false across kinds.
func less(a, b Value) bool {
	switch {
	case a.Kind != b.Kind:
		return false
	case a.Kind == ValNumber:
		return a.Num < b.Num
	case a.Kind == ValDate:
		return a.Time.Before(b.Time)
	case a.Kind == ValString:
		return a.Str < b.Str
	}
	return false
}

// sameValue reports whether two values are the same literal.
func sameValue(a, b Value) bool {
	return a.Kind == b.Kind && !less(a, b) && !less(b, a) && a.Bool == b.Bool && a.Dur == b.Dur
}
