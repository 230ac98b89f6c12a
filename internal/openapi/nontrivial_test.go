package openapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/openapi"
)

// TestOpenAPIResponsesHaveFields: every operation's JSON answers list
// their fields. An object without properties is allowed only as a
// free-form map whose values have a schema (additionalProperties), or
// with a description saying what it holds (such as a segment's
// definition tree); an array must say what its items are.
func TestOpenAPIResponsesHaveFields(t *testing.T) {
	b, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]map[string]any
		Components struct{ Schemas map[string]any }
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ops, schemas := 0, 0
	for path, methods := range doc.Paths {
		for method, op := range methods {
			ops++
			where := strings.ToUpper(method) + " " + path
			responses, _ := op["responses"].(map[string]any)
			var success bool
			for status, r := range responses {
				if status == "default" || status == "304" {
					continue
				}
				success = true
				content, _ := r.(map[string]any)["content"].(map[string]any)
				if status != "204" && method != "options" && len(content) == 0 {
					t.Errorf("%s %s: no content", where, status)
				}
				for ct, c := range content {
					if !strings.Contains(ct, "json") {
						continue
					}
					schemas++
					sc := c.(map[string]any)["schema"].(map[string]any)
					if trivial(sc, doc.Components.Schemas) {
						t.Errorf("%s %s: the answer's schema has no fields: %v", where, status, sc)
					}
					for _, p := range bare(sc, doc.Components.Schemas, "", 0) {
						t.Errorf("%s %s: %s", where, status, p)
					}
				}
			}
			if !success {
				t.Errorf("%s: no success answer", where)
			}
			if op["x-error-codes"] == nil && op["security"] != nil && len(op["security"].([]any)) > 0 {
				t.Errorf("%s: lists no error codes", where)
			}
		}
	}
	t.Logf("%d operations, %d JSON answer schemas, %d named schemas", ops, schemas, len(doc.Components.Schemas))
	if ops < 130 {
		t.Errorf("only %d operations", ops)
	}
}

func resolve(sc map[string]any, named map[string]any) map[string]any {
	if r, ok := sc["$ref"].(string); ok {
		return named[strings.TrimPrefix(r, "#/components/schemas/")].(map[string]any)
	}
	return sc
}

// trivial is a top-level answer schema that says nothing of its fields.
func trivial(sc map[string]any, named map[string]any) bool {
	sc = resolve(sc, named)
	for _, k := range []string{"properties", "items", "anyOf", "additionalProperties"} {
		if sc[k] != nil {
			return false
		}
	}
	return true
}

// bare lists the objects and arrays inside sc that say nothing of what
// they hold.
func bare(sc map[string]any, named map[string]any, at string, depth int) []string {
	if depth > 12 {
		return nil
	}
	sc = resolve(sc, named)
	var out []string
	types := fmt.Sprint(sc["type"])
	_, described := sc["description"]
	switch {
	case strings.Contains(types, "object") && sc["properties"] == nil && sc["additionalProperties"] == nil && !described:
		out = append(out, fmt.Sprintf("%s: an object without fields or a description", at))
	case strings.Contains(types, "array") && sc["items"] == nil:
		out = append(out, fmt.Sprintf("%s: an array without items", at))
	}
	if props, ok := sc["properties"].(map[string]any); ok {
		for name, p := range props {
			out = append(out, bare(p.(map[string]any), named, at+"."+name, depth+1)...)
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if sub, ok := sc[k].(map[string]any); ok {
			out = append(out, bare(sub, named, at+"."+k, depth+1)...)
		}
	}
	if alts, ok := sc["anyOf"].([]any); ok {
		for _, sub := range alts {
			out = append(out, bare(sub.(map[string]any), named, at, depth+1)...)
		}
	}
	return out
}
