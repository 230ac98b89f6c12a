package openapi

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// Handler serves the document and its readable page.
type Handler struct {
	doc  []byte
	page []byte
}

// NewHandler builds the document once.
func NewHandler() (*Handler, error) {
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	page, err := render()
	if err != nil {
		return nil, err
	}
	return &Handler{doc: doc, page: page}, nil
}

// Register adds GET /api/v1/openapi.json and GET /api/v1/docs.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(h.doc)
	})
	mux.HandleFunc("GET /api/v1/docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Write(h.page)
	})
}

type pageOp struct {
	Op
	ID, Auth   string
	Codes      []string
	BodyFields []field
	// ResultFields are the success answer's fields; ResultNote names a
	// non-JSON answer.
	ResultFields []field
	ResultNote   string
}

// field is one row of a schema's table on the page.
type field struct {
	Path, Type  string
	Required    bool
	Description string
	Depth       int
}

var pageTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sightline API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 2rem;color:#1b1f24}
h2{margin-top:2.5rem;border-bottom:1px solid #ddd;text-transform:capitalize}
.op{border:1px solid #e1e4e8;border-radius:6px;margin:.8rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.5em;font:600 13px monospace;color:#fff;background:#57606a;border-radius:4px;padding:1px 6px;text-align:center}
.GET{background:#0969da}.POST{background:#1a7f37}.PUT,.PATCH{background:#9a6700}.DELETE{background:#cf222e}
code,pre{font:13px monospace}pre{background:#f6f8fa;padding:.5rem;overflow:auto;max-height:18rem}.auth{color:#57606a;font-size:13px}
details summary{cursor:pointer;color:#0969da;font-size:13px}
h4{margin:.6rem 0 .2rem;font-size:14px}table.fields{border-collapse:collapse;width:100%;font-size:13px}
.fields th,.fields td{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;vertical-align:top}.req{color:#cf222e;font-size:11px}
</style></head><body>
<h1>Sightline API</h1>
<p>The machine-readable document is <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a> (OpenAPI 3.1).
Site endpoints take <code>Authorization: Bearer TOKEN</code> with a token of the site whose scope is at least the one shown
(read &lt; write &lt; admin). Every error is <code>{"error": {"code", "message", "field"?, "details"?}}</code> with a stable code.</p>
<nav>{{range .Tags}}<a href="#{{.}}">{{.}}</a> · {{end}}</nav>
{{range $tag := .Tags}}<h2 id="{{$tag}}">{{$tag}}</h2>
{{range $.Ops}}{{if eq .Tag $tag}}<div class="op" id="{{.ID}}"><span class="m {{.Method}}">{{.Method}}</span> <code>{{.Path}}</code>
<div>{{.Summary}}</div><div class="auth">{{.Auth}}</div>
{{if .Query}}<div class="auth">Query: {{range .Query}}<code>{{.Name}}</code> {{.Description}} {{end}}</div>{{end}}
{{if .BodyFields}}<h4>Request body</h4>{{template "fields" .BodyFields}}{{end}}
{{if or .ResultFields .ResultNote}}<h4>Response {{.Status}}</h4>{{if .ResultNote}}<div class="auth">{{.ResultNote}}</div>{{end}}{{if .ResultFields}}{{template "fields" .ResultFields}}{{end}}{{end}}
{{if .Codes}}<div class="auth">Error codes: {{range $i, $c := .Codes}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}}</div>{{end}}

</div>{{end}}{{end}}{{end}}
</body></html>
{{define "fields"}}<table class="fields"><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .}}<tr><td style="padding-left:{{.Depth}}em"><code>{{.Path}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td><code>{{.Type}}</code></td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}`))

// render makes the readable page from the operations.
func render() ([]byte, error) {
	var data struct {
		Tags []string
		Ops  []pageOp
	}
	for _, op := range ops() {
		if !slices.Contains(data.Tags, op.Tag) {
			data.Tags = append(data.Tags, op.Tag)
		}
		p := pageOp{Op: op, ID: operationID(op)}
		switch op.Auth {
		case "token":
			p.Auth = "Scope " + op.Scope + ": an API token of the site, or a signed-in dashboard account with that access."
		case "writeKey":
			p.Auth = "The site's write key as the HTTP Basic user name."
		case "siteKey":
			p.Auth = "The site's write key as ?k=, from the site's allowed origins."
		case "session":
			p.Auth = "A signed-in dashboard session."
		default:
			p.Auth = "No credentials."
		}
		p.Codes = errorCodes(op)
		if op.Status == 0 {
			p.Status = 200
		}
		if op.Body != nil {
			p.BodyFields = fields(op.Body, "", 0, true)
		}
		switch {
		case op.Result != nil && op.Content == "":
			p.ResultFields = fields(op.Result, "", 0, true)
		case op.Content != "":
			p.ResultNote = op.Content
		case op.Status == 204 || op.Method == "OPTIONS":
			p.ResultNote = "No body."
		}
		if len(op.Also) > 0 {
			also := make([]string, 0, len(op.Also))
			for ct := range op.Also {
				also = append(also, ct)
			}
			slices.Sort(also)
			p.ResultNote = strings.TrimSpace(p.ResultNote + " Also as " + strings.Join(also, ", ") + ".")
		}
		data.Ops = append(data.Ops, p)
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render the API page: %w", err)
	}
	return b.Bytes(), nil
}

// fields flattens a schema into the rows of its table: each property
// (items of an array as name[], a map's values as name{}), indented by
// depth.
func fields(s Schema, at string, depth int, required bool) []field {
	if depth > 8 {
		return nil
	}
	s = resolveRef(s)
	var out []field
	if at != "" {
		desc, _ := s["description"].(string)
		out = append(out, field{Path: at, Type: typeName(s), Required: required, Description: desc, Depth: depth})
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, a := range alts {
			if sub, ok := a.(Schema); ok && !isNull(sub) {
				out = append(out, fields(sub, at, depth, required)[boolInt(at != ""):]...)
			}
		}
	}
	if props, ok := s["properties"].(map[string]Schema); ok {
		req, _ := s["required"].([]string)
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			path := n
			if at != "" {
				path = at + "." + n
			}
			out = append(out, fields(props[n], path, depth+1, slices.Contains(req, n))...)
		}
	}
	if items, ok := s["items"].(Schema); ok && at != "" {
		out = append(out, fields(items, at+"[]", depth+1, false)[1:]...)
	} else if ok {
		out = append(out, fields(items, "[]", depth, false)...)
	}
	if vals, ok := s["additionalProperties"].(Schema); ok && len(vals) > 0 {
		out = append(out, fields(vals, at+"{}", depth+1, false)[1:]...)
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isNull(s Schema) bool { return s["type"] == "null" }

func resolveRef(s Schema) Schema {
	if r, ok := s["$ref"].(string); ok {
		if named, ok := schemas[strings.TrimPrefix(r, "#/components/schemas/")].(Schema); ok {
			return named
		}
	}
	return s
}

// typeName is a schema's type for a person: "string (date-time)",
// "integer | null", "one of a, b".
func typeName(s Schema) string {
	if e, ok := s["enum"].([]string); ok {
		return "one of " + strings.Join(e, ", ")
	}
	var t string
	switch v := s["type"].(type) {
	case string:
		t = v
	case []string:
		t = strings.Join(v, " | ")
	default:
		if alts, ok := s["anyOf"].([]any); ok {
			var names []string
			for _, a := range alts {
				if sub, ok := a.(Schema); ok {
					names = append(names, typeName(resolveRef(sub)))
				}
			}
			return strings.Join(names, " | ")
		}
		return "any"
	}
	if f, ok := s["format"].(string); ok {
		t += " (" + f + ")"
	}
	if items, ok := s["items"].(Schema); ok {
		t = strings.Replace(t, "array", "array of "+typeName(resolveRef(items)), 1)
	}
	return t
}
