package segment

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file reads the fields of JSON objects for ParseJSON, with the
// path of each field for errors.

// object is a JSON object being decoded, with its path for errors.
type object struct {
	path string
	m    map[string]any
}

func asObject(v any, path string) (*object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &PathError{Path: path, Msg: "expected an object, found " + jsonKind(v)}
	}
	return &object{path: path, m: m}, nil
}

func (o *object) at(name string) string { return joinPath(o.path, name) }

func (o *object) errorf(name, format string, args ...any) error {
	return &PathError{Path: o.at(name), Msg: fmt.Sprintf(format, args...)}
}

func (o *object) has(name string) bool { _, ok := o.m[name]; return ok }

// check refuses fields outside allowed.
func (o *object) check(what string, allowed []string) error {
	var unknown []string
	for k := range o.m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	k := unknown[0]
	return o.errorf(k, "unknown field %q in %s%s", k, what, didYouMean(k, allowed))
}

// str reads an optional string field.
func (o *object) str(name string) (string, bool, error) {
	v, ok := o.m[name]
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, o.errorf(name, "expected a string, found %s", jsonKind(v))
	}
	return s, true, nil
}

// reqStr reads a required string field.
func (o *object) reqStr(name string) (string, error) {
	s, ok, err := o.str(name)
	if err == nil && !ok {
		err = o.errorf(name, "missing")
	}
	return s, err
}

// op reads a required operator allowed in ctx.
func (o *object) op(ctx opContext) (Op, error) {
	s, err := o.reqStr("op")
	if err != nil {
		return "", err
	}
	if allowed := opsFor(ctx); !slices.Contains(allowed, Op(s)) {
		return "", o.errorf("op", "unknown operator %q for %s (use %s)", s, ctx, joinOps(allowed))
	}
	return Op(s), nil
}

// values reads "value" or "values" as op needs them.
func (o *object) values(op Op) ([]Value, error) {
	switch op {
	case OpSet, OpNotSet:
		for _, f := range []string{"value", "values"} {
			if o.has(f) {
				return nil, o.errorf(f, "%q takes no value", op)
			}
		}
		return nil, nil
	case OpIn, OpNotIn, OpBetween:
		if o.has("value") {
			return nil, o.errorf("value", "%q takes a list in \"values\"", op)
		}
		raw, ok := o.m["values"]
		if !ok {
			return nil, o.errorf("values", "missing")
		}
		list, isList := raw.([]any)
		if !isList {
			return nil, o.errorf("values", "expected an array, found %s", jsonKind(raw))
		}
		vals := make([]Value, len(list))
		for i, x := range list {
			var err error
			if vals[i], err = scalar(x, fmt.Sprintf("%s[%d]", o.at("values"), i)); err != nil {
				return nil, err
			}
		}
		return vals, nil
	}
	if o.has("values") {
		return nil, o.errorf("values", "%q takes one value in \"value\"", op)
	}
	raw, ok := o.m["value"]
	if !ok {
		return nil, o.errorf("value", "missing")
	}
	if op == OpWithin || op == OpOlderThan {
		s, isStr := raw.(string)
		if !isStr {
			return nil, o.errorf("value", "expected a duration like \"30d\", found %s", jsonKind(raw))
		}
		d, err := parseDuration(s)
		if err != nil {
			return nil, o.errorf("value", "%v", err)
		}
		return []Value{{Kind: ValDuration, Dur: d}}, nil
	}
	v, err := scalar(raw, o.at("value"))
	return []Value{v}, err
}

// scalar reads a string, number or boolean literal.
func scalar(raw any, path string) (Value, error) {
	switch x := raw.(type) {
	case string:
		return Value{Kind: ValString, Str: x}, nil
	case bool:
		return Value{Kind: ValBool, Bool: x}, nil
	case json.Number:
		f, err := number(x)
		if err != nil {
			return Value{}, &PathError{Path: path, Msg: err.Error()}
		}
		return Value{Kind: ValNumber, Num: f}, nil
	}
	return Value{}, &PathError{Path: path, Msg: "expected a string, number or boolean, found " + jsonKind(raw)}
}

func number(x json.Number) (float64, error) {
	f, err := strconv.ParseFloat(string(x), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %s is out of range", x)
	}
	if f == 0 {
		f = 0 // no negative zero
	}
	return f, nil
}

// count reads "op" and "value" as a Count; both or neither unless required.
func (o *object) count(required bool) (Count, error) {
	if !required && !o.has("op") && !o.has("value") {
		return Count{}, nil
	}
	op, err := o.op(opsCount)
	if err != nil {
		return Count{}, err
	}
	raw, ok := o.m["value"]
	if !ok {
		return Count{}, o.errorf("value", "missing")
	}
	n, isNum := raw.(json.Number)
	if !isNum {
		return Count{}, o.errorf("value", "expected a number, found %s", jsonKind(raw))
	}
	f, err := number(n)
	if err != nil {
		return Count{}, o.errorf("value", "%v", err)
	}
	return Count{Op: op, N: f}, nil
}

// period reads "within": "30d" or {"from": date, "to": date}.
func (o *object) period() (Period, error) {
	raw, ok := o.m["within"]
	if !ok {
		return Period{}, nil
	}
	if s, isStr := raw.(string); isStr {
		d, err := parseDuration(s)
		if err != nil {
			return Period{}, o.errorf("within", "%v", err)
		}
		return Period{Last: d}, nil
	}
	r, err := asObject(raw, o.at("within"))
	if err != nil {
		return Period{}, o.errorf("within", `expected a duration like "30d" or {"from": …, "to": …}, found %s`, jsonKind(raw))
	}
	if err := r.check("a period", []string{"from", "to"}); err != nil {
		return Period{}, err
	}
	from, err := r.date("from", true)
	if err != nil {
		return Period{}, err
	}
	to, err := r.date("to", true)
	return Period{From: from, To: to}, err
}

// date reads an ISO-8601 date or date-time field.
func (o *object) date(name string, required bool) (time.Time, error) {
	s, ok, err := o.str(name)
	if err != nil || (!ok && !required) {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, o.errorf(name, "missing")
	}
	t, valid := parseTime(s)
	if !valid {
		return time.Time{}, o.errorf(name, "%q is not a date (like 2025-03-01 or 2025-03-01T10:00:00Z)", s)
	}
	return t, nil
}

// scope reads the optional "scope": "user" (the default) or "company".
func (o *object) scope() (Scope, error) {
	s, ok, err := o.str("scope")
	switch {
	case err != nil:
		return 0, err
	case !ok || s == "user":
		return ScopeUser, nil
	case s == "company":
		return ScopeCompany, nil
	}
	return 0, o.errorf("scope", `unknown scope %q (use "user" or "company")`, s)
}

// joinOps lists operators for messages: =, !=, in.
func joinOps(ops []Op) string {
	s := make([]string, len(ops))
	for i, op := range ops {
		s[i] = string(op)
	}
	return strings.Join(s, ", ")
}

func joinPath(base, name string) string {
	if base == "" {
		return name
	}
	return base + "." + name
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
