package openapi

import (
	"bytes"
	"encoding/json"
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
	ResultJSON string
	BodyJSON   string
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
{{if .BodyJSON}}<details><summary>Request body</summary><pre>{{.BodyJSON}}</pre></details>{{end}}
{{if .ResultJSON}}<details><summary>Response</summary><pre>{{.ResultJSON}}</pre></details>{{end}}
</div>{{end}}{{end}}{{end}}
</body></html>`))

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
		if op.Body != nil {
			p.BodyJSON = pretty(op.Body)
		}
		if op.Result != nil {
			p.ResultJSON = pretty(op.Result)
			if op.Content != "" {
				p.ResultJSON = op.Content + "\n" + p.ResultJSON
			}
		}
		data.Ops = append(data.Ops, p)
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render the API page: %w", err)
	}
	return b.Bytes(), nil
}

func pretty(s Schema) string {
	b, _ := json.MarshalIndent(s, "", "  ")
	return strings.ReplaceAll(string(b), "#/components/schemas/", "")
}
