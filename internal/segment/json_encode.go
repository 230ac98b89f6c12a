package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MarshalNode returns the canonical JSON form of a condition: fields in a
// fixed order, optional fields left out when empty, no HTML escaping. For
// every tree t that ParseJSON or Parse returns, ParseJSON(MarshalNode(t))
// is t again (positions aside). Dates are written as strings (midnight UTC
// as 2024-05-01, other times in RFC 3339), durations as "30d".
func MarshalNode(n Node) ([]byte, error) {
	obj, err := encodeNode(n)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, obj); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Condition holds a Node as a field of a JSON document (a saved segment,
// an API request), in the JSON form. The zero Condition is JSON null.
type Condition struct {
	Node Node
}

// MarshalJSON implements json.Marshaler with MarshalNode.
func (c Condition) MarshalJSON() ([]byte, error) {
	if c.Node == nil {
		return []byte("null"), nil
	}
	return MarshalNode(c.Node)
}

// UnmarshalJSON implements json.Unmarshaler with ParseJSON.
func (c *Condition) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		c.Node = nil
		return nil
	}
	n, err := ParseJSON(data)
	if err != nil {
		return err
	}
	c.Node = n
	return nil
}

// String returns the condition's text form.
func (c Condition) String() string {
	if c.Node == nil {
		return ""
	}
	return Format(c.Node)
}

// jsonObject is a JSON object whose fields keep their order.
type jsonObject []jsonField

type jsonField struct {
	key string
	val any
}

func (o *jsonObject) add(key string, val any) { *o = append(*o, jsonField{key, val}) }

func encodeNode(n Node) (jsonObject, error) {
	var o jsonObject
	switch n := n.(type) {
	case *Group:
		o.add("type", string(n.Op))
		conds := make([]any, len(n.Conditions))
		for i, c := range n.Conditions {
			var err error
			if conds[i], err = encodeNode(c); err != nil {
				return nil, err
			}
		}
		o.add("conditions", conds)
	case *Not:
		c, err := encodeNode(n.Condition)
		if err != nil {
			return nil, err
		}
		o.add("type", "not")
		o.add("condition", c)
	case *Attribute:
		o.add("type", "attribute")
		o.add("key", n.Key)
		o.add("op", string(n.Op))
		if err := o.addValues(n.Op, n.Values); err != nil {
			return nil, err
		}
		if n.Scope == ScopeCompany {
			o.add("scope", "company")
		}
		if !n.AsOf.IsZero() {
			o.add("as_of", formatTime(n.AsOf))
		}
	case *Changed:
		o.add("type", "changed")
		o.add("key", n.Key)
		for _, v := range []struct {
			name string
			val  *Value
		}{{"from", n.From}, {"to", n.To}} {
			if v.val != nil {
				x, err := encodeValue(*v.val)
				if err != nil {
					return nil, err
				}
				o.add(v.name, x)
			}
		}
		o.addPeriod(n.Period)
	case *Event:
		return encodeEvent(n)
	case *ActiveDays:
		o.add("type", "active_days")
		o.addCount(n.Count)
		o.addPeriod(n.Period)
	case *Visited:
		o.add("type", "visited")
		o.add("match", string(n.Match))
		o.add("page", n.Pattern)
		o.addPeriod(n.Period)
		o.addCount(n.Count)
	case *Sessions:
		o.add("type", "sessions")
		o.addCount(n.Count)
		o.addPeriod(n.Period)
	case *SessionDuration:
		o.add("type", "session_duration")
		o.add("agg", string(n.Agg))
		o.add("op", string(n.Op))
		o.add("value", formatDuration(n.Value))
		o.addPeriod(n.Period)
	case *SessionField:
		o.add("type", "session")
		o.add("field", n.Field)
		o.add("op", string(n.Op))
		if err := o.addValues(n.Op, n.Values); err != nil {
			return nil, err
		}
		o.addPeriod(n.Period)
	case *Signal:
		o.add("type", string(n.Kind))
		o.addPeriod(n.Period)
		if n.Match != "" {
			o.add("match", string(n.Match))
			o.add("page", n.Page)
		}
		o.addCount(n.Count)
	case *Answer:
		if err := o.encodeAnswer(n); err != nil {
			return nil, err
		}
	case *FeedbackRating:
		if err := o.encodeFeedbackRating(n); err != nil {
			return nil, err
		}
	case *NPS:
		if err := o.encodeNPS(n); err != nil {
			return nil, err
		}
	case *Identified:
		o.add("type", "identified")
	case *FunnelStep:
		o.encodeFunnelStep(n)
	case *InSegment:
		o.add("type", "segment")
		o.add("id", n.ID)
	case nil:
		return nil, errors.New("segment: cannot encode a nil condition")
	default:
		return nil, fmt.Errorf("segment: cannot encode a %T", n)
	}
	return o, nil
}

func encodeEvent(e *Event) (jsonObject, error) {
	var o jsonObject
	if e.First {
		if len(e.Where) > 0 || e.Count.Op != "" {
			return nil, errors.New("segment: a first-time event condition has no property conditions or count")
		}
		o.add("type", "first_event")
		o.add("name", e.Name)
		o.addPeriod(e.Period)
		return o, nil
	}
	o.add("type", "event")
	o.add("name", e.Name)
	if len(e.Where) > 0 {
		where := make([]any, len(e.Where))
		for i, p := range e.Where {
			var w jsonObject
			w.add("key", p.Key)
			w.add("op", string(p.Op))
			if err := w.addValues(p.Op, p.Values); err != nil {
				return nil, err
			}
			where[i] = w
		}
		o.add("where", where)
	}
	o.addCount(e.Count)
	o.addPeriod(e.Period)
	return o, nil
}

// addValues adds "value" or "values" as the operator takes them.
func (o *jsonObject) addValues(op Op, vals []Value) error {
	list := make([]any, len(vals))
	for i, v := range vals {
		var err error
		if list[i], err = encodeValue(v); err != nil {
			return err
		}
	}
	switch {
	case op == OpSet || op == OpNotSet:
		if len(vals) > 0 {
			return fmt.Errorf("segment: %q takes no value", op)
		}
	case op == OpIn || op == OpNotIn || op == OpBetween || len(vals) != 1:
		o.add("values", list)
	default:
		o.add("value", list[0])
	}
	return nil
}

func (o *jsonObject) addCount(c Count) {
	if c.Op != "" {
		o.add("op", string(c.Op))
		o.add("value", c.N)
	}
}

func (o *jsonObject) addPeriod(p Period) {
	switch {
	case !p.From.IsZero() || !p.To.IsZero():
		var r jsonObject
		r.add("from", formatTime(p.From))
		r.add("to", formatTime(p.To))
		o.add("within", r)
	case p.Last != 0:
		o.add("within", formatDuration(p.Last))
	}
}

func encodeValue(v Value) (any, error) {
	switch v.Kind {
	case ValString:
		return v.Str, nil
	case ValNumber:
		return v.Num, nil
	case ValBool:
		return v.Bool, nil
	case ValDate:
		return formatTime(v.Time), nil
	case ValDuration:
		return formatDuration(v.Dur), nil
	}
	return nil, fmt.Errorf("segment: cannot encode a value of kind %d", v.Kind)
}

// writeJSON writes v compactly, keeping field order and leaving <, > and &
// as they are so that operators read naturally.
func writeJSON(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case jsonObject:
		buf.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, f.key); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeJSON(buf, f.val); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, x); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("segment: encode %v: %w", v, err)
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}
