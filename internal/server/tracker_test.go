package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/tracker"
)

func TestTrackerScriptServing(t *testing.T) {
	s := startServer(t, nil)
	script, err := tracker.LoadScript()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, acceptEncoding, ifNoneMatch string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Header.Set("Accept-Encoding", acceptEncoding) // set, so the client does not gunzip by itself
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	tests := []struct {
		name, path, encoding, cache string
	}{
		{"versioned, gzipped", script.Path(), "gzip, br", "public, max-age=31536000, immutable"},
		{"versioned, plain", script.Path(), "identity", "public, max-age=31536000, immutable"},
		{"stable, gzipped", tracker.StablePath, "gzip", "public, max-age=300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(tt.path, tt.encoding, "")
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != tt.cache ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
				t.Fatalf("%s: %s %v", tt.path, resp.Status, resp.Header)
			}
			if strings.Contains(tt.encoding, "gzip") {
				if resp.Header.Get("Content-Encoding") != "gzip" {
					t.Fatalf("not gzipped: %v", resp.Header)
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, script.Body) {
				t.Fatalf("served %d bytes, not the embedded script", len(body))
			}
			again, _ := get(tt.path, tt.encoding, resp.Header.Get("ETag"))
			if again.StatusCode != http.StatusNotModified {
				t.Fatalf("revalidation with the ETag: %s", again.Status)
			}
		})
	}
	if resp, _ := get("/t/sightline-0.0.0-00000000.js", "gzip", ""); resp.StatusCode != 404 {
		t.Fatalf("an unknown version: %s", resp.Status)
	}
}

func TestTrackerBatchKeyAndOrigin(t *testing.T) {
	s := startServer(t, nil) // the site allows https://app.example.com
	const allowed = "https://app.example.com"
	batch := `{"batch":[{"type":"page","anonymousId":"v1","properties":{"url":"https://app.example.com/a"}}],"writeKey":"ignored"}`
	post := func(method, query, origin, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+"/t/batch"+query, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	key := "?k=" + s.writeKey
	tests := []struct {
		name, method, query, origin string
		status                      int
		acao                        string
	}{
		{"allowed origin", "POST", key, allowed, 200, allowed},
		{"allowed origin, other case and default port", "POST", key, "https://APP.example.com:443", 200, "https://APP.example.com:443"},
		{"preflight from an allowed origin", "OPTIONS", key, allowed, 204, allowed},
		{"foreign origin", "POST", key, "https://evil.example.org", 403, ""},
		{"preflight from a foreign origin", "OPTIONS", key, "https://evil.example.org", 403, ""},
		{"other scheme", "POST", key, "http://app.example.com", 403, ""},
		{"opaque origin", "POST", key, "null", 403, ""},
		{"no origin (not a browser)", "POST", key, "", 403, ""},
		{"no key", "POST", "", allowed, 401, ""},
		{"unknown key", "POST", "?k=wk_nope", allowed, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(tt.method, tt.query, tt.origin, batch)
			if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != tt.acao {
				t.Fatalf("got %s, Access-Control-Allow-Origin %q; want %d, %q", resp.Status,
					resp.Header.Get("Access-Control-Allow-Origin"), tt.status, tt.acao)
			}
		})
	}
	// The two accepted batches made one visitor with one session on a
	// device read from the request's User-Agent.
	_, user := s.get(t, store.ScopeRead, "/users/v1?kind=anonymous")
	if user["events"] != 2.0 {
		t.Fatalf("visitor = %v", user)
	}
	_, sessions := s.get(t, store.ScopeRead, "/users/v1/sessions?kind=anonymous")
	list, _ := sessions["sessions"].([]any)
	if len(list) != 1 {
		t.Fatalf("sessions = %v", sessions)
	}
	if sess := list[0].(map[string]any); sess["browser"] != "Safari" || sess["os"] != "MacOS" || sess["entry_page"] != "/a" || sess["device_type"] != "desktop" {
		t.Fatalf("session device = %v", sess)
	}
	resp, err := http.Get(s.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`sightline_tracker_refused_total{reason="origin"} 5`, `sightline_tracker_refused_total{reason="key"} 2`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Validation is ingestion's: an invalid message is refused by index.
	resp = post("POST", key, allowed, `{"batch":[{"type":"track","anonymousId":"v1"}]}`)
	if resp.StatusCode != 400 || resp.Header.Get("Access-Control-Allow-Origin") != allowed {
		t.Fatalf("invalid batch: %s %v", resp.Status, resp.Header)
	}
}
