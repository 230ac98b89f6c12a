package server_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// trackerPost posts a one-page batch to /t/batch from origin and returns
// the status.
func (s *testServer) trackerPost(t *testing.T, origin string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/t/batch?k="+s.writeKey,
		strings.NewReader(`{"batch":[{"type":"page","anonymousId":"v1","properties":{"path":"/a"}}]}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestPatchSite changes a site's settings through the API and checks that
// the tracker's origin check follows at once.
func TestPatchSite(t *testing.T) {
	s := startServer(t, nil) // allows https://app.example.com
	const shop = "https://shop.example.com"
	if code := s.trackerPost(t, shop); code != 403 {
		t.Fatalf("before the change, %s posted: %d", shop, code)
	}
	tests := []struct {
		name  string
		scope store.Scope
		body  string
		code  int
		err   string // error code
		field string
	}{
		{"read token", store.ScopeRead, `{"respect_dnt":true}`, 403, "forbidden", ""},
		{"write token", store.ScopeWrite, `{"respect_dnt":true}`, 403, "forbidden", ""},
		{"bad origin", store.ScopeAdmin, `{"origins":["https://ok.example.com","shop.example.com"]}`, 400, "invalid_origin", "origins[1]"},
		{"empty name", store.ScopeAdmin, `{"name":"  "}`, 400, "invalid_name", "name"},
		{"unknown field", store.ScopeAdmin, `{"respectDNT":true}`, 400, "malformed_json", ""},
		{"wrong type", store.ScopeAdmin, `{"respect_dnt":"yes"}`, 400, "malformed_json", ""},
		{"nothing to change", store.ScopeAdmin, `{}`, 400, "empty_update", ""},
		{"admin", store.ScopeAdmin, `{"name":"Shop","origins":["https://app.example.com","HTTPS://Shop.example.com:443"],"respect_dnt":true}`, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := s.call(t, tt.scope, http.MethodPatch, "", tt.body)
			e, _ := body["error"].(map[string]any)
			if code != tt.code || errorCode(body) != tt.err || (tt.field != "" && e["field"] != tt.field) {
				t.Fatalf("got %d %v, want %d %s at %q", code, body, tt.code, tt.err, tt.field)
			}
		})
	}
	_, site := s.get(t, store.ScopeRead, "")
	origins, _ := site["origins"].([]any)
	if site["name"] != "Shop" || site["respect_dnt"] != true || len(origins) != 2 || origins[1] != "https://shop.example.com:443" {
		t.Fatalf("site after PATCH = %v", site)
	}
	if code := s.trackerPost(t, shop); code != 200 {
		t.Fatalf("after the change, %s got %d", shop, code)
	}
	// Dropping an origin refuses it at once.
	if code, body := s.call(t, store.ScopeAdmin, http.MethodPatch, "", `{"origins":["https://shop.example.com"]}`); code != 200 {
		t.Fatalf("PATCH origins: %d %v", code, body)
	}
	if code := s.trackerPost(t, "https://app.example.com"); code != 403 {
		t.Fatalf("a removed origin still posts: %d", code)
	}
}

// TestTrackerConfig reads the site's tracker config as a page on an
// allowed origin would, and checks that only such pages may.
func TestTrackerConfig(t *testing.T) {
	s := startServer(t, nil) // allows https://app.example.com
	get := func(query, origin string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.base+"/t/config"+query, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	const allowed = "https://app.example.com"
	key := "?k=" + s.writeKey
	// The site's settings and those of recording, feedback and surveys.
	resp, body := get(key, allowed)
	const want = `{"feedback":{"enabled":false,"position":"right","background":"#ffffff","text":"#111827",` +
		`"accent":"#4f46e5","prompt":"How would you rate this page?"},"keep_params":[],` +
		`"recording":{"enabled":true,"sample_rate":1,"backgrounds":[]},"respect_dnt":false,"surveys":false}`
	if resp.StatusCode != 200 || body != want || resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		resp.Header.Get("Cache-Control") != "private, max-age=60" || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Fatalf("config: %s %s %v", resp.Status, body, resp.Header)
	}
	if code, body := s.call(t, store.ScopeAdmin, http.MethodPatch, "", `{"respect_dnt":true,"keep_params":["order","q"]}`); code != 200 {
		t.Fatalf("PATCH: %d %v", code, body)
	}
	if resp, body = get(key, allowed); !strings.Contains(body, `"respect_dnt":true`) || !strings.Contains(body, `"keep_params":["order","q"]`) {
		t.Fatalf("config after the change: %s %s", resp.Status, body)
	}
	for _, tt := range []struct {
		name, query, origin string
		status              int
	}{
		{"foreign origin", key, "https://evil.example.org", 403},
		{"no origin", key, "", 403},
		{"no key", "", allowed, 401},
		{"unknown key", "?k=wk_nope", allowed, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(tt.query, tt.origin)
			if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != "" || strings.Contains(body, "respect_dnt") {
				t.Fatalf("got %s %s, want %d", resp.Status, body, tt.status)
			}
		})
	}
}

// TestWriteKeyIsReadableByAdmins: the key is in every page's source, so
// admins can read it back for the snippet; other scopes cannot, and a
// rotation shows the new key.
func TestWriteKeyIsReadableByAdmins(t *testing.T) {
	s := startServer(t, nil)
	for _, scope := range []store.Scope{store.ScopeRead, store.ScopeWrite} {
		if code, _ := s.get(t, scope, "/write-key"); code != 403 {
			t.Errorf("GET /write-key with scope %s: %d, want 403", scope, code)
		}
	}
	if code, out := s.get(t, store.ScopeAdmin, "/write-key"); code != 200 || out["write_key"] != s.writeKey {
		t.Fatalf("GET /write-key: %d %v, want %s", code, out, s.writeKey)
	}
	code, out := s.call(t, store.ScopeAdmin, "POST", "/write-key", "")
	if code != 200 {
		t.Fatalf("rotate: %d %v", code, out)
	}
	if _, got := s.get(t, store.ScopeAdmin, "/write-key"); got["write_key"] != out["write_key"] || got["write_key"] == s.writeKey {
		t.Errorf("after rotating: %v, want %v", got["write_key"], out["write_key"])
	}
}

// TestKeyAttributes: a site shows a default pick of attributes beside its
// users (name, email, plan, ltv where present, then the most common), an
// admin can choose others, which every list then shows, and a choice of
// attributes the site does not have is refused naming the one at fault.
func TestKeyAttributes(t *testing.T) {
	s := startServer(t, nil)
	for i := range 3 {
		if code, out := s.send(t, "/v1/identify", fmt.Sprintf(`{"userId":"u%d","traits":{"email":"u%d@example.com",
			"plan":"pro","ltv":%d,"ab_variant":"A","beta":true,"seats":2,"industry":"retail","country":"NO"}}`, i, i, 10*i)); code != 200 {
			t.Fatalf("identify: %d %v", code, out)
		}
	}
	sampleKeys := func() []string {
		t.Helper()
		code, out := s.call(t, store.ScopeRead, "POST", "/segments/preview", `{"text":"plan = \"pro\""}`)
		if code != 200 {
			t.Fatalf("preview: %d %v", code, out)
		}
		ms, _ := out["members"].([]any)
		if len(ms) == 0 {
			t.Fatalf("preview without sample: %v", out)
		}
		var keys []string
		for k := range ms[0].(map[string]any)["attributes"].(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	got := sampleKeys()
	for _, want := range []string{"email", "ltv", "plan"} {
		if !slices.Contains(got, want) || len(got) != 5 {
			t.Fatalf("default key attributes %v: want five with %s", got, want)
		}
	}
	if code, out := s.call(t, store.ScopeAdmin, "PATCH", "", `{"key_attributes":["ab_variant","nope"]}`); code != 400 ||
		errorCode(out) != "unknown_attribute" || out["error"].(map[string]any)["field"] != "key_attributes[1]" {
		t.Fatalf("unknown key attribute: %d %v", code, out)
	}
	if code, out := s.call(t, store.ScopeWrite, "PATCH", "", `{"key_attributes":["ab_variant"]}`); code != 403 {
		t.Fatalf("a writer chose key attributes: %d %v", code, out)
	}
	if code, out := s.call(t, store.ScopeAdmin, "PATCH", "", `{"key_attributes":["ab_variant","ltv"]}`); code != 200 {
		t.Fatalf("choose key attributes: %d %v", code, out)
	}
	if got := sampleKeys(); !slices.Equal(got, []string{"ab_variant", "ltv"}) {
		t.Errorf("chosen key attributes shown as %v", got)
	}
	if code, out := s.call(t, store.ScopeAdmin, "PATCH", "", `{"key_attributes":[]}`); code != 200 {
		t.Fatalf("back to the default: %d %v", code, out)
	}
	if got := sampleKeys(); len(got) != 5 {
		t.Errorf("default again: %v", got)
	}
}
