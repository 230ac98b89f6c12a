// Package openapi builds the OpenAPI 3.1 document of Sightline's public
// HTTP API (ingestion, tracker, dashboard accounts, the site read and
// administration API, alerts) and serves it as JSON and as a readable
// page. Each area lists its operations in its own file; adding an
// endpoint is one Op in the area's list. Tests check the document against
// the routes the server registers and every response the HTTP tests see.
package openapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Schema is a JSON Schema (2020-12, as OpenAPI 3.1 uses it).
type Schema = map[string]any

// Op is one operation: a method on a path.
type Op struct {
	Method, Path string
	Tag          string
	Summary      string
	// Auth says how a caller gets in: "token" (a site API token with
	// Scope, or a signed-in dashboard session with that access),
	// "writeKey" (HTTP Basic, the site's write key as user name),
	// "siteKey" (the tracker's ?k= site key), "session" (a dashboard
	// session) or "" (nobody needs to).
	Auth  string
	Scope string // read, write or admin, with Auth "token"
	Query []Param
	Body  Schema
	// Status is the success status (default 200); Result its JSON body,
	// nil for none.
	Status int
	Result Schema
	// Content is the success body's media type when not JSON.
	Content string
	// Also gives other media types the success body may have, with
	// their schemas.
	Also map[string]Schema
	// NotModified adds a 304 answer (a conditional GET).
	NotModified bool
	// Extra are answers of other statuses that are not errors, with
	// their JSON bodies.
	Extra map[int]Schema
	// Errors are the error codes the operation's handler answers with
	// besides those of its Auth (authErrors).
	Errors []string
}

// with gives op a request body.
func (op Op) with(body Schema) Op {
	op.Body = body
	return op
}

// closed is s with every object that lists properties refusing others,
// as a body decoded with unknown fields refused is.
func closed(s Schema) Schema {
	out := Schema{}
	for k, v := range s {
		switch k {
		case "properties":
			props := map[string]Schema{}
			for name, p := range v.(map[string]Schema) {
				props[name] = closed(p)
			}
			out[k] = props
		case "items", "additionalProperties":
			if sub, ok := v.(Schema); ok {
				v = closed(sub)
			}
			out[k] = v
		default:
			out[k] = v
		}
	}
	if _, ok := s["properties"]; ok {
		if _, set := s["additionalProperties"]; !set {
			out["additionalProperties"] = false
		}
	}
	return out
}

// authErrors are the codes every operation with that Auth may answer.
var authErrors = map[string][]string{
	"token":    {"unauthorized", "forbidden", "site_not_found", "csrf", "internal", "storage_unavailable", "store_lagging"},
	"session":  {"unauthorized", "csrf", "internal", "storage_unavailable"},
	"writeKey": {"unauthorized", "internal", "storage_unavailable"},
	"siteKey":  {"unauthorized", "origin_not_allowed", "internal", "storage_unavailable"},
}

// bodyErrors are the codes of a JSON body the API could not read
// (apierr.DecodeJSON).
var bodyErrors = []string{"malformed_json", "malformed_body", "invalid_utf8", "invalid_number", "too_deep", "request_too_large"}

// errs adds error codes to op.
func errs(op Op, codes ...string) Op {
	op.Errors = append(op.Errors, codes...)
	return op
}

// errorCodes are the codes op may answer with, sorted.
func errorCodes(op Op) []string {
	codes := append(slices.Clone(authErrors[op.Auth]), op.Errors...)
	if op.Body != nil {
		codes = append(codes, bodyErrors...)
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// Param is a query parameter.
type Param struct {
	Name, Description string
	Type              string // string, integer, boolean
}

// ops are every area's operations.
func ops() []Op {
	var all []Op
	for _, area := range [][]Op{platformOps, ingestOps, trackerOps, accountOps, siteOps, userOps, segmentOps,
		recordingOps, surveyOps, alertOps, insightOps, heatmapOps, compareOps, dataOps} {
		all = append(all, area...)
	}
	return all
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// Document returns the OpenAPI document as JSON.
func Document() ([]byte, error) {
	paths := map[string]map[string]any{}
	for _, op := range ops() {
		if paths[op.Path] == nil {
			paths[op.Path] = map[string]any{}
		}
		m := strings.ToLower(op.Method)
		if _, dup := paths[op.Path][m]; dup {
			return nil, fmt.Errorf("BUG: %s %s documented twice", op.Method, op.Path)
		}
		paths[op.Path][m] = operation(op)
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Sightline API",
			"version": "1",
			"description": "The HTTP API of a Sightline server: ingestion (the Segment tracking spec), the browser tracker's " +
				"endpoints, dashboard accounts, and each site's read and administration API. Errors always have the " +
				"shape of the Error schema, with a stable code. Site endpoints take an API token of the site " +
				"(Authorization: Bearer TOKEN) whose scope is at least the one named by x-scope (read < write < admin), " +
				"or a signed-in dashboard session (which must send its CSRF token on changes).",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"token":    map[string]any{"type": "http", "scheme": "bearer", "description": "A site API token."},
				"session":  map[string]any{"type": "apiKey", "in": "cookie", "name": "sl_session", "description": "A signed-in dashboard session."},
				"writeKey": map[string]any{"type": "http", "scheme": "basic", "description": "The site's write key as the user name, no password."},
				"siteKey":  map[string]any{"type": "apiKey", "in": "query", "name": "k", "description": "The site's write key, as the tracker sends it."},
			},
			"schemas": schemas,
			"responses": map[string]any{
				"Error": map[string]any{"description": "An error: see its code.",
					"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func operation(op Op) map[string]any {
	id := operationID(op)
	o := map[string]any{"operationId": id, "summary": op.Summary, "tags": []string{op.Tag}}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": Schema{"type": "string"}})
	}
	for _, q := range op.Query {
		t := q.Type
		if t == "" {
			t = "string"
		}
		params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": Schema{"type": t}})
	}
	if params != nil {
		o["parameters"] = params
	}
	switch op.Auth {
	case "token":
		o["security"] = []any{map[string]any{"token": []any{}}, map[string]any{"session": []any{}}}
		o["x-scope"] = op.Scope
		o["description"] = "Needs scope " + op.Scope + "."
	case "writeKey":
		o["security"] = []any{map[string]any{"writeKey": []any{}}}
	case "siteKey":
		o["security"] = []any{map[string]any{"siteKey": []any{}}}
	case "session":
		o["security"] = []any{map[string]any{"session": []any{}}}
	default:
		o["security"] = []any{}
	}
	if codes := errorCodes(op); len(codes) > 0 {
		o["x-error-codes"] = codes
		desc, _ := o["description"].(string)
		o["description"] = strings.TrimSpace(desc + " Error codes: " + strings.Join(codes, ", ") + ".")
	}
	if op.Body != nil {
		o["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{"application/json": map[string]any{"schema": op.Body}}}
	}
	status := op.Status
	if status == 0 {
		status = 200
	}
	ok := map[string]any{"description": "Success."}
	if op.Result != nil {
		ct := op.Content
		if ct == "" {
			ct = "application/json"
		}
		content := map[string]any{ct: map[string]any{"schema": op.Result}}
		for ct, sc := range op.Also {
			content[ct] = map[string]any{"schema": sc}
		}
		ok["content"] = content
	}
	responses := map[string]any{fmt.Sprint(status): ok, "default": ref0("#/components/responses/Error")}
	for status, sc := range op.Extra {
		responses[fmt.Sprint(status)] = map[string]any{"description": "See the schema.",
			"content": map[string]any{"application/json": map[string]any{"schema": sc}}}
	}
	if op.NotModified {
		responses["304"] = map[string]any{"description": "Not modified since the ETag sent."}
	}
	o["responses"] = responses
	return o
}

// operationID names an operation from its method and path.
func operationID(op Op) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.Method))
	for _, seg := range strings.Split(op.Path, "/") {
		seg = strings.Trim(seg, "{}")
		for _, w := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if w == "api" || w == "v1" {
				continue
			}
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// Routes returns every documented operation as "METHOD /path".
func Routes() []string {
	var out []string
	for _, op := range ops() {
		out = append(out, op.Method+" "+op.Path)
	}
	slices.Sort(out)
	return out
}

func ref(name string) Schema  { return Schema{"$ref": "#/components/schemas/" + name} }
func ref0(path string) Schema { return Schema{"$ref": path} }

// obj is an object schema with the given properties, all of which are
// required; other properties are allowed (clients ignore what they do not
// know, and the server adds fields within a version).
func obj(props map[string]Schema) Schema {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return Schema{"type": "object", "properties": props, "required": req}
}

// object is an object schema whose properties are all required but those
// named optional.
func object(props map[string]Schema, optional ...string) Schema {
	s := obj(props)
	s["required"] = slices.DeleteFunc(s["required"].([]string), func(k string) bool { return slices.Contains(optional, k) })
	return s
}

// arr is an array (never null) of items.
func arr(items Schema) Schema { return Schema{"type": "array", "items": items} }

// d is s with a description.
func d(s Schema, desc string) Schema { return withDescription(s, desc) }

// enum is a string with one of values.
func enum(values ...string) Schema { return Schema{"type": "string", "enum": values} }

// list is an object holding an array of items under key.
func list(key string, items Schema) Schema {
	return obj(map[string]Schema{key: {"type": "array", "items": items}})
}

var (
	str     = Schema{"type": "string"}
	integer = Schema{"type": "integer"}
	number  = Schema{"type": "number"}
	boolean = Schema{"type": "boolean"}
	anyObj  = Schema{"type": "object"}
	anyArr  = Schema{"type": "array"}
	when    = Schema{"type": "string", "format": "date-time"}
	minLen1 = Schema{"type": "string", "minLength": 1}
	// date is a day, 2006-01-02.
	date     = Schema{"type": "string", "format": "date"}
	attrType = enum("string", "number", "boolean", "datetime")
)

// schemas are the named schemas.
var schemas = map[string]any{
	"Error": obj(map[string]Schema{"error": {
		"type": "object", "required": []string{"code", "message"},
		"properties": map[string]Schema{
			"code":    {"type": "string", "description": "Stable: clients may switch on it."},
			"message": {"type": "string", "description": "For a person."},
			"field":   {"type": "string", "description": "The field at fault, for validation errors."},
			"details": {"description": "The individual problems when there are several."},
		}}}),
	"IngestResult": Schema{"type": "object", "description": "What happened to each message of an ingestion call."},
}
