package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sightline/sightline/internal/distcheck"
)

func newServer(t *testing.T) (*httptest.Server, *Handler) {
	t.Helper()
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"code":"not_found"}}`)
	})
	h, err := New(notFound)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s, h
}

func assetNamed(t *testing.T, h *Handler, ext string) string {
	t.Helper()
	for name := range h.assets {
		if strings.HasPrefix(name, "app-") && strings.HasSuffix(name, ext) {
			return name
		}
	}
	t.Fatalf("no app-*%s embedded", ext)
	return ""
}

func TestServe(t *testing.T) {
	s, h := newServer(t)
	js, css := assetNamed(t, h, ".js"), assetNamed(t, h, ".css")
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		ctype, cache       string
		gzip, app          bool // gzipped body; the dashboard's security headers
		body               string
	}{
		{name: "the start page", method: "GET", path: "/", status: 200, ctype: "text/html", cache: "no-cache", app: true, body: "/assets/" + js},
		{name: "a deep page", method: "GET", path: "/s/s_abc/users/u%201", status: 200, ctype: "text/html", cache: "no-cache", app: true, body: `<div id="app">`},
		{name: "a page with a query", method: "GET", path: "/signin?next=/sites", status: 200, ctype: "text/html", app: true},
		{name: "HEAD of a page", method: "HEAD", path: "/sites", status: 200, ctype: "text/html", app: true},
		{name: "the script", method: "GET", path: "/assets/" + js, status: 200, ctype: "text/javascript",
			cache: "public, max-age=31536000, immutable", app: true},
		{name: "the script gzipped", method: "GET", path: "/assets/" + js, header: map[string]string{"Accept-Encoding": "br, gzip"},
			status: 200, ctype: "text/javascript", gzip: true, app: true},
		{name: "the stylesheet", method: "GET", path: "/assets/" + css, status: 200, ctype: "text/css", cache: "public, max-age=31536000, immutable", app: true},
		{name: "gzip refused with q=0", method: "GET", path: "/assets/" + css, header: map[string]string{"Accept-Encoding": "gzip;q=0"},
			status: 200, ctype: "text/css", app: true},
		{name: "a missing asset", method: "GET", path: "/assets/app-OLD.js", status: 404, ctype: "application/json"},
		{name: "an unknown API path", method: "GET", path: "/api/v1/nothing", status: 404, ctype: "application/json"},
		{name: "the API root", method: "GET", path: "/api/", status: 404, ctype: "application/json"},
		{name: "an ingestion path", method: "GET", path: "/v1/identify", status: 404, ctype: "application/json"},
		{name: "a tracker path", method: "GET", path: "/t/other.js", status: 404, ctype: "application/json"},
		{name: "metrics", method: "GET", path: "/metrics", status: 404, ctype: "application/json"},
		{name: "a POST to a page", method: "POST", path: "/sites", status: 404, ctype: "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.path, nil)
			req.Header.Set("Accept-Encoding", "identity")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body io.Reader = resp.Body
			if tt.gzip {
				if resp.Header.Get("Content-Encoding") != "gzip" {
					t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
				}
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			} else if ce := resp.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding = %q, want none", ce)
			}
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.ctype)
			}
			if tt.cache != "" && resp.Header.Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", resp.Header.Get("Cache-Control"), tt.cache)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if tt.app {
				for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("Content-Security-Policy = %q, missing %s", csp, want)
					}
				}
				if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
					t.Errorf("security headers missing: %v", resp.Header)
				}
			} else if csp != "" {
				t.Errorf("a non-dashboard answer got the dashboard's CSP")
			}
			if tt.method == "HEAD" && len(b) != 0 {
				t.Errorf("HEAD answered %d bytes", len(b))
			}
			if tt.body != "" && !strings.Contains(string(b), tt.body) {
				t.Errorf("body does not contain %q:\n%s", tt.body, b)
			}
		})
	}
}

func TestRevalidation(t *testing.T) {
	s, _ := newServer(t)
	for _, enc := range []string{"identity", "gzip"} {
		req, _ := http.NewRequest("GET", s.URL+"/", nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag on index.html")
		}
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Errorf("%s: revalidation with %s = %d (%d bytes), want 304", enc, etag, resp.StatusCode, len(b))
		}
	}
}

func TestLoadRefusesABrokenBuild(t *testing.T) {
	index := []byte(`<script type="module" src="/assets/app-X.js"></script>`)
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"no index.html", fstest.MapFS{"assets/app-X.js": {Data: []byte("x")}}, "no index.html"},
		{"no assets", fstest.MapFS{"index.html": {Data: index}}, "no assets"},
		{"an asset named but missing", fstest.MapFS{"index.html": {Data: index}, "assets/app-Y.js": {Data: []byte("x")}}, "app-X.js"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.fsys, http.NotFoundHandler())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("load = %v, want an error about %q", err, tt.want)
			}
		})
	}
	if _, err := load(fstest.MapFS{"index.html": {Data: index}, "assets/app-X.js": {Data: []byte("x")}}, http.NotFoundHandler()); err != nil {
		t.Errorf("a complete build: %v", err)
	}
}

func TestReserved(t *testing.T) {
	for p, want := range map[string]bool{
		"/api/v1/me": true, "/api": true, "/apiary": false, "/v1/batch": true, "/t/sightline.js": true, "/t": true,
		"/metrics": true, "/healthz": true, "/docs/segments.md": true, "/docs": true, "/docsy": false, "/": false, "/sites": false, "/s/x/users": false, "/tokens": false,
	} {
		if got := Reserved(p); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestBuiltFromSources fails when web/dashboard changed after dist/ was
// built: scripts/build-dashboard.sh records the hashes of the sources it
// built from in dist/sources.sha256. (make test also rebuilds and compares
// byte for byte with scripts/build-dashboard.sh --check.)
func TestBuiltFromSources(t *testing.T) {
	distcheck.Sources(t, "dist/sources.sha256", "../../web/dashboard", []string{"src"},
		"run scripts/build-dashboard.sh and commit internal/web/dist")
}

// TestContentSecurityPolicyKeepsScriptsOwn checks the policy directive by
// directive: the player may show a recorded page's inline styles and
// remote images, but scripts come from the dashboard alone, and nothing
// may frame it.
func TestContentSecurityPolicyKeepsScriptsOwn(t *testing.T) {
	directives := map[string][]string{}
	for _, d := range strings.Split(ContentSecurityPolicy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			directives[f[0]] = f[1:]
		}
	}
	tests := []struct {
		directive string
		want      string // the sources, in order
	}{
		{"script-src", "'self'"},
		{"default-src", "'self'"},
		{"connect-src", "'self'"},
		{"object-src", "'none'"},
		{"base-uri", "'none'"},
		{"frame-ancestors", "'none'"},
		{"frame-src", "'self'"},
		{"style-src", "'self' 'unsafe-inline' https: http:"},
	}
	for _, tt := range tests {
		t.Run(tt.directive, func(t *testing.T) {
			if got := strings.Join(directives[tt.directive], " "); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.directive, got, tt.want)
			}
		})
	}
	if _, ok := directives["worker-src"]; ok {
		t.Error("worker-src is set: workers fall back to script-src, which must stay 'self'")
	}
}
