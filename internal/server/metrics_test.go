package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/config"
)

func TestMetricsAreNotPublic(t *testing.T) {
	get := func(t *testing.T, url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	t.Run("own listener", func(t *testing.T) {
		s := startServer(t, nil)
		if code, _ := get(t, s.base+"/metrics", ""); code != http.StatusNotFound {
			t.Fatalf("/metrics on the main port: %d, want 404", code)
		}
		if code, body := get(t, s.metrics+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "sightline_commit_seconds") {
			t.Fatalf("/metrics on the metrics listener: %d %.200s", code, body)
		}
	})
	t.Run("token on the main port", func(t *testing.T) {
		s := startServer(t, func(c *config.Config) { c.MetricsAddr = "off"; c.MetricsToken = "m3tr1cs-t0ken" })
		if s.metrics != "" {
			t.Fatalf("metrics listener on %s although off", s.metrics)
		}
		for _, tok := range []string{"", "wrong", "m3tr1cs-t0ke"} {
			if code, body := get(t, s.base+"/metrics", tok); code != http.StatusUnauthorized || strings.Contains(body, "sightline_") {
				t.Fatalf("token %q: %d %.200s", tok, code, body)
			}
		}
		if code, body := get(t, s.base+"/metrics", "m3tr1cs-t0ken"); code != http.StatusOK || !strings.Contains(body, "sightline_commit_seconds") {
			t.Fatalf("with the token: %d %.200s", code, body)
		}
	})
}

// TestEveryAnswerCarriesNosniff asks for one of each kind of answer, on the
// main port and the metrics listener.
func TestEveryAnswerCarriesNosniff(t *testing.T) {
	s := startServer(t, nil)
	tests := []struct{ method, url, body string }{
		{"GET", s.base + "/healthz", ""},
		{"GET", s.base + "/", ""},
		{"GET", s.base + "/no/such/page", ""},
		{"GET", s.base + "/api/v1/sites/" + s.site + "/users", ""},
		{"GET", s.base + "/api/v2/nothing", ""},
		{"POST", s.base + "/v1/track", `{"userId":"u","event":"e"}`},
		{"POST", s.base + "/t/batch?k=wk_nope", `{"batch":[]}`},
		{"GET", s.base + "/t/sightline.js", ""},
		{"GET", s.base + "/t/config?k=" + s.writeKey, ""},
		{"GET", s.base + "/docs/segments.md", ""},
		{"GET", s.base + "/docs/nothing.md", ""},
		{"GET", s.metrics + "/metrics", ""},
		{"GET", s.metrics + "/other", ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: %s, X-Content-Type-Options %q", tt.method, tt.url, resp.Status, got)
		}
	}
}
