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
