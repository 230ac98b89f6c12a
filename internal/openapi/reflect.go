package openapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/survey"
)

// Of returns the schema of v's type as encoding/json writes it, so that a
// handler's Go type stays the one source of its fields: a struct's fields
// by their json tags (embedded structs flattened, "-" left out), each
// required unless tagged omitempty; a pointer, slice or map may also be
// null; a map is an object whose values have the element's schema;
// time.Time is a date-time; an interface or a json.Marshaler is any value.
// Descriptions of fields come from FieldDocs, the fields' Go comments.
func Of(v any) Schema { return typeSchema(reflect.TypeOf(v), map[reflect.Type]bool{}) }

// OfType is Of for a type parameter, for types without a handy value.
func OfType[T any]() Schema { return typeSchema(reflect.TypeFor[T](), map[reflect.Type]bool{}) }

var (
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

func typeSchema(t reflect.Type, seen map[reflect.Type]bool) Schema {
	if s, ok := known[t]; ok {
		return s
	}
	switch {
	case t == nil:
		return Schema{}
	case t.Kind() == reflect.Pointer: // before the Marshaler check, which *time.Time passes
		return nullable(typeSchema(t.Elem(), seen))
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	case t == rawType:
		return Schema{"description": "Any JSON value."}
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType):
		return Schema{}
	case t.Implements(textType) || reflect.PointerTo(t).Implements(textType):
		return Schema{"type": "string"}
	}
	switch t.Kind() {
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return Schema{"type": []string{"string", "null"}, "description": "Base64."}
		}
		return Schema{"type": []string{"array", "null"}, "items": typeSchema(t.Elem(), seen)}
	case reflect.Array:
		return Schema{"type": "array", "items": typeSchema(t.Elem(), seen), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return Schema{"type": []string{"object", "null"}, "additionalProperties": typeSchema(t.Elem(), seen)}
	case reflect.Struct:
		if seen[t] {
			return Schema{"type": "object", "description": "Recursive: as the enclosing " + t.Name() + "."}
		}
		seen[t] = true
		defer delete(seen, t)
		props := map[string]Schema{}
		var req []string
		structFields(t, seen, props, &req)
		slices.Sort(req)
		s := Schema{"type": "object", "properties": props}
		if len(req) > 0 {
			s["required"] = slices.Compact(req)
		}
		return s
	}
	return Schema{}
}

// structFields adds t's JSON fields to props, and the names of those
// always written to req.
func structFields(t reflect.Type, seen map[reflect.Type]bool, props map[string]Schema, req *[]string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != timeType {
				var inner []string
				structFields(ft, seen, props, &inner)
				if f.Type.Kind() != reflect.Pointer {
					*req = append(*req, inner...)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		var s Schema
		if strings.Contains(","+opts+",", ",string,") {
			s = Schema{"type": "string"}
		} else {
			s = typeSchema(f.Type, seen)
		}
		if d := FieldDocs[t.PkgPath()+"."+t.Name()+"."+f.Name]; d != "" {
			s = withDescription(s, d)
		}
		props[name] = s
		omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		if !omit {
			*req = append(*req, name)
		}
	}
}

// known are the schemas of types that marshal themselves or whose values
// are an enumeration. (A variable's initializer rather than init: the
// areas' schemas are package variables, built before init runs.)
var known = map[reflect.Type]Schema{
	reflect.TypeFor[attr.Type]():           attrType,
	reflect.TypeFor[survey.Status]():       enum("draft", "live", "paused", "ended"),
	reflect.TypeFor[survey.QuestionType](): enum("nps", "rating", "single_choice", "multiple_choice", "text"),
	reflect.TypeFor[survey.Answers](): {"type": []string{"object", "null"},
		"description":          "Answers by question ID: a number (nps, rating), a string (single_choice, text) or an array of strings (multiple_choice).",
		"additionalProperties": Schema{"type": []string{"number", "string", "array"}, "items": str}},
	reflect.TypeFor[store.Scope](): enum("read", "write", "admin"),
	reflect.TypeFor[store.Role]():  enum("owner", "admin", "member", "viewer"),
}

// input is the schema of a request body read into a Go type: what the
// decoder needs, which is less than what the type's answers always have.
// Nested required lists are dropped (a field left out keeps its zero
// value) and the top level requires only the fields named, those the
// handler refuses to go without.
func input(s Schema, required ...string) Schema {
	out := strip(s)
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func strip(s Schema) Schema {
	out := Schema{}
	for k, v := range s {
		switch k {
		case "required":
			continue
		case "properties":
			props := map[string]Schema{}
			for name, p := range v.(map[string]Schema) {
				props[name] = strip(p)
			}
			v = props
		case "items", "additionalProperties":
			if sub, ok := v.(Schema); ok {
				v = strip(sub)
			}
		}
		out[k] = v
	}
	return out
}

func nullable(s Schema) Schema {
	out := Schema{}
	for k, v := range s {
		out[k] = v
	}
	switch t := s["type"].(type) {
	case string:
		out["type"] = []string{t, "null"}
	case []string:
		if !slices.Contains(t, "null") {
			out["type"] = append(slices.Clone(t), "null")
		}
	default:
		if len(s) == 0 {
			return s
		}
		return Schema{"anyOf": []any{s, Schema{"type": "null"}}}
	}
	return out
}

func withDescription(s Schema, d string) Schema {
	out := Schema{"description": d}
	for k, v := range s {
		if k != "description" {
			out[k] = v
		}
	}
	return out
}

//go:generate go run ./fielddoc/gen
