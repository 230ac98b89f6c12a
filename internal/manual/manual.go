// Package manual serves Sightline's documentation (the docs folder,
// embedded in the binary) as web pages at /docs/, so that the dashboard
// can link to the part of the manual a screen is about, and the link works
// on a server with no internet access.
package manual

import (
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

// ContentSecurityPolicy of the pages: no script at all, the page's own
// styles.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// page is one rendered document.
type page struct {
	name, title string
	html        []byte
}

// Handler serves the documents: GET /docs/ lists them, GET /docs/NAME.md
// shows one.
type Handler struct {
	pages map[string]page
	index []byte
}

// New renders every .md file of files (once, at start).
func New(files fs.FS) (*Handler, error) {
	names, err := fs.Glob(files, "*.md")
	if err != nil {
		return nil, fmt.Errorf("list the documents: %w", err)
	}
	sort.Strings(names)
	h := &Handler{pages: map[string]page{}}
	var list strings.Builder
	list.WriteString("<h1>Sightline documentation</h1>\n<ul>\n")
	for _, name := range names {
		src, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		body, title := Render(string(src))
		if title == "" {
			title = name
		}
		h.pages[name] = page{name: name, title: title, html: layout(title, body)}
		fmt.Fprintf(&list, "<li><a href=\"%s\">%s</a> <span class=\"muted\">(%s)</span></li>\n",
			html.EscapeString(name), html.EscapeString(title), html.EscapeString(name))
	}
	list.WriteString("</ul>\n")
	h.index = layout("Documentation", list.String())
	return h, nil
}

// Register adds the handler's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /docs/", h)
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.Redirect(w, r, "/docs/", http.StatusMovedPermanently)
	})
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/docs/")
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("Cache-Control", "no-cache")
	var body []byte
	switch p, ok := h.pages[name]; {
	case name == "":
		body = h.index
	case ok && path.Base(name) == name:
		body = p.html
	default:
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write(layout("Not found", "<h1>No such document</h1>\n<p><a href=\"/docs/\">All documents</a></p>\n"))
		return
	}
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(body)
}

func layout(title, body string) []byte {
	return []byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + html.EscapeString(title) + ` · Sightline</title>
<style>
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2433; margin: 0; background: #f6f7f9; }
header { background: #fff; border-bottom: 1px solid #dde1e7; padding: 10px 20px; }
header a { color: #2f5fd0; text-decoration: none; margin-right: 16px; }
main { max-width: 860px; margin: 0 auto; padding: 20px; background: #fff; min-height: 100vh; box-sizing: border-box; }
h1, h2, h3 { line-height: 1.25; } h2 { margin-top: 2em; border-bottom: 1px solid #dde1e7; padding-bottom: 4px; }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef0f3; border-radius: 4px; padding: 1px 4px; }
pre { background: #f3f4f6; padding: 10px 12px; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
.table { overflow-x: auto; } table { border-collapse: collapse; margin: 12px 0; }
th, td { border: 1px solid #dde1e7; padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: #fafbfc; } a { color: #2f5fd0; } .muted { color: #5f6b7c; }
</style></head>
<body><header><a href="/">Sightline</a><a href="/docs/">Documentation</a></header>
<main>
` + body + `</main></body></html>
`)
}
