package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PathError is an error in the JSON form, at a path such as
// "conditions[2].op" (empty for the document as a whole).
type PathError struct {
	Path string
	Msg  string
}

// Error returns the error as "path: message".
func (e *PathError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// conditionTypes lists the JSON "type" of each kind of condition.
func conditionTypes() []string {
	return []string{"all", "any", "not", "attribute", "changed", "event", "first_event",
		"active_days", "visited", "sessions", "session_duration", "session", "segment",
		"rage_clicks", "dead_clicks", "u_turns", "errors", "nps_score", "nps_group",
		"answer", "feedback_rating", "identified", "funnel_step", "completed_funnel"}
}

// fieldsOf returns the fields a condition of type typ may have.
func fieldsOf(typ string) ([]string, bool) {
	switch typ {
	case "all", "any":
		return []string{"type", "conditions"}, true
	case "not":
		return []string{"type", "condition"}, true
	case "attribute":
		return []string{"type", "key", "op", "value", "values", "scope", "as_of"}, true
	case "changed":
		return []string{"type", "key", "from", "to", "within", "scope"}, true
	case "event":
		return []string{"type", "name", "where", "op", "value", "within"}, true
	case "first_event":
		return []string{"type", "name", "within"}, true
	case "active_days", "sessions":
		return []string{"type", "op", "value", "within"}, true
	case "visited":
		return []string{"type", "match", "page", "within", "op", "value"}, true
	case "session_duration":
		return []string{"type", "agg", "op", "value", "within"}, true
	case "session":
		return []string{"type", "field", "op", "value", "values", "within"}, true
	case "segment":
		return []string{"type", "id"}, true
	case "identified":
		return []string{"type"}, true
	case "nps_score", "nps_group":
		return []string{"type", "survey", "within", "op", "value", "values"}, true
	case "answer":
		return []string{"type", "survey", "question", "within", "op", "value", "values"}, true
	case "feedback_rating":
		return []string{"type", "within", "op", "value", "values"}, true
	case "funnel_step":
		return []string{"type", "id", "op", "value"}, true
	case "completed_funnel":
		return []string{"type", "id"}, true
	case "rage_clicks", "dead_clicks", "u_turns", "errors":
		return []string{"type", "within", "match", "page", "op", "value"}, true
	}
	return nil, false
}

// opContext is where an operator appears; each allows the operators the
// text grammar allows there.
type opContext uint8

const (
	opsAttribute opContext = iota
	opsSession
	opsProperty
	opsCount
)

// String names the context for messages.
func (c opContext) String() string {
	return [...]string{"an attribute", "a session field", "an event property", "a count"}[c]
}

// opsFor returns the operators allowed in ctx.
func opsFor(ctx opContext) []Op {
	switch ctx {
	case opsAttribute:
		return []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpBetween, OpIn, OpNotIn, OpContains, OpStarts, OpEnds,
			OpMatches, OpSet, OpNotSet, OpWithin, OpOlderThan}
	case opsSession:
		return []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpBetween, OpIn, OpNotIn, OpContains, OpStarts, OpEnds,
			OpMatches, OpSet, OpNotSet}
	case opsProperty:
		return []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpIn, OpNotIn, OpContains, OpStarts, OpEnds, OpMatches,
			OpSet, OpNotSet}
	}
	return []Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe}
}

// ParseJSON parses the JSON form of a condition. Errors are *PathError
// values naming the JSON path at fault; a document beyond one of the
// limits (MaxJSONBytes, MaxConditions, MaxDepth) gives a *LimitError
// wrapping one. Strings stay ValString even when they hold ISO dates;
// Validate reads them by the attribute's type.
func ParseJSON(data []byte) (Node, error) {
	if err := jsonLimit(data); err != nil {
		return nil, err
	}
	// The decoder refuses JSON nested deeper than 10,000 levels on its
	// own; decodeNode stops at MaxDepth.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &PathError{Msg: "invalid JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &PathError{Msg: "invalid JSON: more data after the condition"}
	}
	n, err := decodeNode(v, "", 1)
	if err != nil {
		return nil, err
	}
	if f := checkLimits(n); f != nil {
		return nil, &LimitError{Limit: f.limit, Err: &PathError{Path: f.err.Path, Msg: f.err.Msg}}
	}
	return n, nil
}

func decodeNode(v any, path string, depth int) (Node, error) {
	o, err := asObject(v, path)
	if err != nil {
		return nil, err
	}
	typ, err := o.reqStr("type")
	if err != nil {
		return nil, err
	}
	fields, ok := fieldsOf(typ)
	if !ok {
		return nil, o.errorf("type", "unknown condition type %q%s", typ, didYouMean(typ, conditionTypes()))
	}
	if err := o.check("a condition of type "+strconv.Quote(typ), fields); err != nil {
		return nil, err
	}
	switch typ {
	case "all", "any", "not":
		if depth > MaxDepth {
			return nil, &LimitError{Limit: LimitDepth,
				Err: &PathError{Path: path, Msg: fmt.Sprintf("conditions are nested more than %d deep", MaxDepth)}}
		}
		if typ == "not" {
			raw, ok := o.m["condition"]
			if !ok {
				return nil, o.errorf("condition", "missing")
			}
			c, err := decodeNode(raw, o.at("condition"), depth+1)
			return &Not{Condition: c}, err
		}
		return decodeGroup(o, GroupOp(typ), depth)
	case "attribute":
		return decodeAttribute(o)
	case "changed":
		return decodeChanged(o)
	case "event", "first_event":
		return decodeEvent(o, typ == "first_event")
	case "active_days":
		c, err := o.count(true)
		if err != nil {
			return nil, err
		}
		p, err := o.period()
		return &ActiveDays{Count: c, Period: p}, err
	case "sessions":
		c, err := o.count(true)
		if err != nil {
			return nil, err
		}
		p, err := o.period()
		return &Sessions{Count: c, Period: p}, err
	case "visited":
		return decodeVisited(o)
	case "session_duration":
		return decodeSessionDuration(o)
	case "session":
		return decodeSessionField(o)
	case "rage_clicks", "dead_clicks", "u_turns", "errors":
		return decodeSignal(o, SignalKind(typ))
	case "nps_score", "nps_group":
		return decodeNPS(o, typ == "nps_group")
	case "answer":
		return decodeAnswer(o)
	case "feedback_rating":
		return decodeFeedbackRating(o)
	case "funnel_step":
		return decodeFunnelStep(o)
	case "completed_funnel":
		return decodeCompletedFunnel(o)
	case "identified":
		return &Identified{}, nil
	}
	id, err := o.reqStr("id")
	return &InSegment{ID: id}, err
}

func decodeGroup(o *object, op GroupOp, depth int) (Node, error) {
	raw, ok := o.m["conditions"]
	if !ok {
		return nil, o.errorf("conditions", "missing")
	}
	list, isList := raw.([]any)
	if !isList {
		return nil, o.errorf("conditions", "expected an array, found %s", jsonKind(raw))
	}
	if len(list) == 0 {
		return nil, o.errorf("conditions", "a group needs at least one condition")
	}
	g := &Group{Op: op, Conditions: make([]Node, len(list))}
	for i, c := range list {
		var err error
		if g.Conditions[i], err = decodeNode(c, fmt.Sprintf("%s[%d]", o.at("conditions"), i), depth+1); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func decodeAttribute(o *object) (Node, error) {
	key, err := o.reqStr("key")
	if err != nil {
		return nil, err
	}
	a := &Attribute{Key: key}
	if a.Scope, err = o.scope(); err != nil {
		return nil, err
	}
	if a.Op, err = o.op(opsAttribute); err != nil {
		return nil, err
	}
	if a.Values, err = o.values(a.Op); err != nil {
		return nil, err
	}
	a.AsOf, err = o.date("as_of", false)
	return a, err
}

func decodeChanged(o *object) (Node, error) {
	key, err := o.reqStr("key")
	if err != nil {
		return nil, err
	}
	if s, err := o.scope(); err != nil || s != ScopeUser {
		if err == nil {
			err = o.errorf("scope", "changed reads the history of user attributes only")
		}
		return nil, err
	}
	c := &Changed{Key: key}
	for _, f := range []struct {
		name string
		dst  **Value
	}{{"from", &c.From}, {"to", &c.To}} {
		if raw, ok := o.m[f.name]; ok {
			v, err := scalar(raw, o.at(f.name))
			if err != nil {
				return nil, err
			}
			*f.dst = &v
		}
	}
	c.Period, err = o.period()
	return c, err
}

func decodeEvent(o *object, first bool) (Node, error) {
	name, err := o.reqStr("name")
	if err != nil {
		return nil, err
	}
	e := &Event{Name: name, First: first}
	if raw, ok := o.m["where"]; ok {
		list, isList := raw.([]any)
		if !isList {
			return nil, o.errorf("where", "expected an array, found %s", jsonKind(raw))
		}
		for i, x := range list {
			p, err := asObject(x, fmt.Sprintf("%s[%d]", o.at("where"), i))
			if err != nil {
				return nil, err
			}
			if err := p.check("a property condition", []string{"key", "op", "value", "values"}); err != nil {
				return nil, err
			}
			prop := Property{}
			if prop.Key, err = p.reqStr("key"); err != nil {
				return nil, err
			}
			if prop.Op, err = p.op(opsProperty); err != nil {
				return nil, err
			}
			if prop.Values, err = p.values(prop.Op); err != nil {
				return nil, err
			}
			e.Where = append(e.Where, prop)
		}
	}
	if !first {
		if e.Count, err = o.count(false); err != nil {
			return nil, err
		}
	}
	e.Period, err = o.period()
	return e, err
}

func decodeVisited(o *object) (Node, error) {
	v := &Visited{Match: OpEq}
	if m, ok, err := o.str("match"); err != nil {
		return nil, err
	} else if ok {
		v.Match = Op(m)
	}
	var err error
	if v.Pattern, err = o.reqStr("page"); err != nil {
		return nil, err
	}
	if v.Count, err = o.count(false); err != nil {
		return nil, err
	}
	v.Period, err = o.period()
	return v, err
}

func decodeSessionDuration(o *object) (Node, error) {
	s := &SessionDuration{Agg: AggAny}
	if a, ok, err := o.str("agg"); err != nil {
		return nil, err
	} else if ok {
		if a != string(AggAny) && a != string(AggAvg) {
			return nil, o.errorf("agg", `unknown aggregate %q (use "any" or "avg")`, a)
		}
		s.Agg = Aggregate(a)
	}
	var err error
	if s.Op, err = o.op(opsCount); err != nil {
		return nil, err
	}
	d, err := o.reqStr("value")
	if err != nil {
		return nil, err
	}
	if s.Value, err = parseDuration(d); err != nil {
		return nil, o.errorf("value", "%v", err)
	}
	s.Period, err = o.period()
	return s, err
}

func decodeSessionField(o *object) (Node, error) {
	field, err := o.reqStr("field")
	if err != nil {
		return nil, err
	}
	if !isIdentPath(field) || strings.Contains(field, ".") {
		return nil, o.errorf("field", "%q is not a session field%s", field, didYouMean(field, SessionFields()))
	}
	s := &SessionField{Field: field}
	if s.Op, err = o.op(opsSession); err != nil {
		return nil, err
	}
	if s.Values, err = o.values(s.Op); err != nil {
		return nil, err
	}
	s.Period, err = o.period()
	return s, err
}

// decodeSignal reads a signal condition; "match" (default "=") goes with
// "page", which is optional.
func decodeSignal(o *object, kind SignalKind) (Node, error) {
	s := &Signal{Kind: kind}
	m, hasMatch, err := o.str("match")
	if err != nil {
		return nil, err
	}
	page, hasPage, err := o.str("page")
	if err != nil {
		return nil, err
	}
	switch {
	case hasMatch && m == "":
		return nil, o.errorf("match", `empty match (use "=", "contains", "starts_with" or "matches")`)
	case hasPage && hasMatch:
		s.Match, s.Page = Op(m), page
	case hasPage:
		s.Match, s.Page = OpEq, page
	case hasMatch:
		return nil, o.errorf("match", `"match" goes with "page"; add the page to match`)
	}
	if s.Count, err = o.count(false); err != nil {
		return nil, err
	}
	s.Period, err = o.period()
	return s, err
}
