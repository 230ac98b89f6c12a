// Package web serves the dashboard: the single-page app built from
// web/dashboard by scripts/build-dashboard.sh into dist/ and embedded, so
// that `go build` alone gives a complete binary. Hashed assets are cached
// for a year; every other page path gets index.html, whose router shows
// the page. Paths that belong to the API, ingestion, the tracker or
// operations never fall back to the app.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy allows only the dashboard's own scripts and
// requests, and no framing. The session player rebuilds a recorded page
// in an iframe that rrweb sandboxes with "allow-same-origin" alone (no
// script runs in it) and that inherits this policy: the recorded page's
// styles are inline (<style> elements and style attributes), and its
// images, fonts and media, and the stylesheets the recorder could not
// read, load from the recorded site. So styles may be inline and those
// assets may come from any web origin; scripts stay the dashboard's own.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline' https: http:; " +
	"img-src 'self' data: blob: https: http:; font-src 'self' data: https: http:; media-src 'self' blob: https: http:; " +
	"connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// reserved are the path prefixes that are never dashboard pages: an
// unknown path under them is answered by the not-found handler (a JSON
// 404), not by the app. /docs/ is the manual (internal/manual).
var reserved = [...]string{"/api/", "/v1/", "/t/", "/docs/", "/metrics", "/healthz"}

// file is one embedded file, compressed once at start.
type file struct {
	body  []byte
	gz    []byte // nil when compression does not pay
	ctype string
	etag  string // quoted
}

// Handler serves the dashboard.
type Handler struct {
	index    file
	assets   map[string]file // by name under /assets/
	notFound http.Handler
}

// New returns the handler of the embedded dashboard. notFound answers
// the paths that are not the dashboard's (unknown API paths, other
// methods).
func New(notFound http.Handler) (*Handler, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("open the dashboard: %w", err)
	}
	return load(sub, notFound)
}

func load(fsys fs.FS, notFound http.Handler) (*Handler, error) {
	h := &Handler{assets: map[string]file{}, notFound: notFound}
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return nil, fmt.Errorf("BUG: the dashboard has no index.html; run scripts/build-dashboard.sh: %w", err)
	}
	if h.index, err = newFile("index.html", index); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, "assets")
	if err != nil {
		return nil, fmt.Errorf("BUG: the dashboard has no assets; run scripts/build-dashboard.sh: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, "assets/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read dashboard asset %s: %w", e.Name(), err)
		}
		if h.assets[e.Name()], err = newFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	for _, ref := range assetRefs(index) {
		if _, ok := h.assets[ref]; !ok {
			return nil, fmt.Errorf("BUG: index.html names assets/%s, which is not embedded; run scripts/build-dashboard.sh", ref)
		}
	}
	return h, nil
}

// assetRefs lists the /assets/ files that index.html names.
func assetRefs(index []byte) []string {
	var out []string
	s := string(index)
	for {
		i := strings.Index(s, `"/assets/`)
		if i < 0 {
			return out
		}
		s = s[i+len(`"/assets/`):]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j:]
	}
}

func newFile(name string, body []byte) (file, error) {
	f := file{body: body, ctype: mime.TypeByExtension(path.Ext(name))}
	if f.ctype == "" {
		f.ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	f.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return file{}, fmt.Errorf("compress %s: %w", name, err)
	}
	if _, err := zw.Write(body); err != nil {
		return file{}, fmt.Errorf("compress %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return file{}, fmt.Errorf("compress %s: %w", name, err)
	}
	if buf.Len() < len(body)*9/10 {
		f.gz = buf.Bytes()
	}
	return f, nil
}

// Reserved reports whether p belongs to the API, ingestion, the tracker
// or operations rather than to the dashboard.
func Reserved(p string) bool {
	for _, r := range reserved {
		if strings.HasPrefix(p, r) || p == strings.TrimSuffix(r, "/") {
			return true
		}
	}
	return false
}

// ServeHTTP serves an asset, or index.html for any other GET or HEAD of a
// page path; everything else goes to the not-found handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if Reserved(r.URL.Path) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		h.notFound.ServeHTTP(w, r)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/assets/"); ok {
		f, found := h.assets[name]
		if !found {
			h.notFound.ServeHTTP(w, r)
			return
		}
		securityHeaders(w.Header())
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		serve(w, r, f)
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-cache")
	serve(w, r, h.index)
}

// securityHeaders sets the headers every dashboard answer carries.
func securityHeaders(hdr http.Header) {
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// serve writes f, gzipped when the client accepts it, answering a
// matching If-None-Match with 304.
func serve(w http.ResponseWriter, r *http.Request, f file) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Vary", "Accept-Encoding")
	body, etag := f.body, f.etag
	if f.gz != nil && acceptsGzip(r) {
		body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		hdr.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
