package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/testsvc"
)

// testServer is a real server on a random loopback port with its own data
// folder, and a site with write key and tokens of every scope.
type testServer struct {
	base     string
	metrics  string // the metrics listener's base URL
	site     string
	writeKey string
	tokens   map[store.Scope]string
	admin    *admin.Client
}

func startServer(t testing.TB, tune func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.WrapHandler = checkContract(t) // every response against the OpenAPI document
	if onPostgres(t) {
		cfg.Postgres = testsvc.Postgres(t)
	}
	if onClickHouse(t) {
		cfg.ClickHouse = testsvc.ClickHouse(t)
	}
	if tune != nil {
		tune(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan server.Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var addrs server.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	ac, err := admin.Dial(cfg.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{base: "http://" + addrs.HTTP, tokens: map[store.Scope]string{}, admin: ac}
	if addrs.Metrics != "" {
		s.metrics = "http://" + addrs.Metrics
	}
	site, err := ac.CreateSite(ctx, "Test", []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s.site, s.writeKey = site.ID, site.WriteKey
	for _, scope := range []store.Scope{store.ScopeRead, store.ScopeWrite, store.ScopeAdmin} {
		tok, err := ac.CreateToken(ctx, site.ID, scope)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[scope] = tok.Token
	}
	return s
}

// send posts a Segment call with the write key and decodes the answer.
func (s *testServer) send(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	req.SetBasicAuth(s.writeKey, "")
	return do(t, req)
}

// get reads the API with a token of the given scope.
func (s *testServer) get(t *testing.T, scope store.Scope, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[scope])
	return do(t, req)
}

// getJSON reads an API path of the site with a read token into v, wanting
// 200.
func (s *testServer) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 && json.Unmarshal(b, &out) != nil {
		out = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, out
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestIdentifyTypedAttributesThroughHTTP(t *testing.T) {
	s := startServer(t, nil)
	code, body := s.send(t, "/v1/identify", `{"userId":"u1","traits":{"plan":"pro","ltv":420,"beta":true,
		"signed_up_at":"2024-05-01","address":{"city":"Oslo"}}}`)
	if code != 200 || body["accepted"] != 1.0 {
		t.Fatalf("identify: %d %v", code, body)
	}
	_, user := s.get(t, store.ScopeRead, "/users/u1")
	attrs, _ := user["attributes"].(map[string]any)
	want := map[string]string{"plan": "string", "ltv": "number", "beta": "boolean", "signed_up_at": "datetime", "address.city": "string"}
	if len(attrs) != len(want) {
		t.Fatalf("attributes = %v", attrs)
	}
	for k, ty := range want {
		a, _ := attrs[k].(map[string]any)
		if a["type"] != ty {
			t.Errorf("%s: %v, want type %s", k, a, ty)
		}
	}

	code, body = s.send(t, "/v1/identify", `{"userId":"u1","traits":{"ltv":"lots","plan":"team"}}`)
	warnings, _ := body["warnings"].([]any)
	if code != 200 || len(warnings) != 1 || !strings.Contains(fmt.Sprint(warnings[0]), "traits.ltv") {
		t.Fatalf("second identify: %d %v", code, body)
	}
	_, user = s.get(t, store.ScopeRead, "/users/u1")
	attrs = user["attributes"].(map[string]any)
	if attrs["plan"].(map[string]any)["value"] != "team" || attrs["ltv"].(map[string]any)["value"] != 420.0 {
		t.Fatalf("after rejection: %v", attrs)
	}
	_, cat := s.get(t, store.ScopeRead, "/attributes")
	var ltv map[string]any
	for _, k := range cat["attributes"].([]any) {
		if k.(map[string]any)["key"] == "ltv" {
			ltv = k.(map[string]any)
		}
	}
	if ltv["rejections"] != 1.0 || ltv["type"] != "number" || ltv["users"] != 1.0 {
		t.Fatalf("catalog ltv = %v", ltv)
	}
	_, rej := s.get(t, store.ScopeRead, "/rejections?key=ltv")
	if r := rej["rejections"].([]any); len(r) != 1 || r[0].(map[string]any)["value"] != "lots" {
		t.Fatalf("rejections = %v", rej)
	}
	_, hist := s.get(t, store.ScopeRead, "/users/u1/history?key=plan")
	if h := hist["history"].([]any); len(h) != 2 {
		t.Fatalf("history = %v", hist)
	}
}

func TestAnonymousPagesJoinUserAfterIdentify(t *testing.T) {
	s := startServer(t, nil)
	for i, path := range []string{"/", "/pricing", "/signup"} {
		code, _ := s.send(t, "/v1/page", fmt.Sprintf(`{"anonymousId":"visitor-1","properties":{"path":%q},"messageId":"p%d"}`, path, i))
		if code != 200 {
			t.Fatalf("page %d: %d", i, code)
		}
	}
	s.send(t, "/v1/identify", `{"userId":"u1","anonymousId":"visitor-1","traits":{"plan":"trial"}}`)
	_, user := s.get(t, store.ScopeRead, "/users/u1")
	if user["events"] != 4.0 || user["sessions"] != 1.0 {
		t.Fatalf("user = %v", user)
	}
	_, ev := s.get(t, store.ScopeRead, "/users/u1/events?limit=2")
	page1 := ev["events"].([]any)
	_, ev2 := s.get(t, store.ScopeRead, "/users/u1/events?limit=2&before="+ev["next_before"].(string))
	page2 := ev2["events"].([]any)
	if len(page1) != 2 || len(page2) != 2 {
		t.Fatalf("pages: %v / %v", page1, page2)
	}
	// Four events in pages of two: the third page is empty.
	_, ev3 := s.get(t, store.ScopeRead, "/users/u1/events?limit=2&before="+ev2["next_before"].(string))
	if page3 := ev3["events"].([]any); len(page3) != 0 || ev3["next_before"] != "" {
		t.Fatalf("third page: %v", ev3)
	}
	seen := map[any]bool{}
	for _, e := range append(page1, page2...) {
		seen[e.(map[string]any)["message_id"]] = true
	}
	if len(seen) != 4 {
		t.Fatalf("paging lost or repeated events: %v", seen)
	}
	_, found := s.get(t, store.ScopeRead, "/users?prefix=u")
	if users := found["users"].([]any); len(users) != 1 {
		t.Fatalf("search = %v", found)
	}
	_, found = s.get(t, store.ScopeRead, "/users?attr=plan&value=trial")
	if users := found["users"].([]any); len(users) != 1 || users[0].(map[string]any)["user_id"] != "u1" {
		t.Fatalf("search by attribute = %v", found)
	}
}

func TestAuthAndTenantIsolation(t *testing.T) { forBackends(t, testAuthAndTenantIsolation) }

func testAuthAndTenantIsolation(t *testing.T) {
	s := startServer(t, nil)
	other, err := s.admin.CreateSite(context.Background(), "Other", nil)
	if err != nil {
		t.Fatal(err)
	}
	otherTok, err := s.admin.CreateToken(context.Background(), other.ID, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	s.send(t, "/v1/identify", `{"userId":"u1","traits":{"plan":"pro"}}`)

	req := func(method, path, token, body string) (int, string) {
		r, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		code, out := do(t, r)
		return code, errorCode(out)
	}
	users := "/api/v1/sites/" + s.site + "/users/u1"
	tests := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"no token", "GET", users, "", "", 401, "unauthorized"},
		{"unknown token", "GET", users, "sl_nope", "", 401, "unauthorized"},
		{"other site's token", "GET", users, otherTok.Token, "", 404, "site_not_found"},
		{"read token may read", "GET", users, s.tokens[store.ScopeRead], "", 200, ""},
		{"read token may not change types", "PATCH", "/api/v1/sites/" + s.site + "/attributes/plan", s.tokens[store.ScopeRead], `{"type":"number"}`, 403, "forbidden"},
		{"write token may not change types", "PATCH", "/api/v1/sites/" + s.site + "/attributes/plan", s.tokens[store.ScopeWrite], `{"type":"number"}`, 403, "forbidden"},
		{"admin: value that cannot convert", "PATCH", "/api/v1/sites/" + s.site + "/attributes/plan", s.tokens[store.ScopeAdmin], `{"type":"number"}`, 409, "conflict"},
		{"admin: unknown type", "PATCH", "/api/v1/sites/" + s.site + "/attributes/plan", s.tokens[store.ScopeAdmin], `{"type":"map"}`, 400, "invalid_field"},
		{"read token may not merge", "POST", "/api/v1/sites/" + s.site + "/merge", s.tokens[store.ScopeRead], `{}`, 403, "forbidden"},
		{"merge of unknown user", "POST", "/api/v1/sites/" + s.site + "/merge", s.tokens[store.ScopeWrite], `{"from":{"id":"ghost"},"into":{"id":"u1"}}`, 404, "not_found"},
		{"unknown endpoint", "GET", "/api/v2/nothing", "", "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := req(tt.method, tt.path, tt.token, tt.body)
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
		})
	}
	// The other site's write key cannot write into this site.
	r, _ := http.NewRequest("POST", s.base+"/v1/identify", strings.NewReader(`{"userId":"u1","traits":{"plan":"hacked"}}`))
	r.SetBasicAuth(other.WriteKey, "")
	do(t, r)
	_, user := s.get(t, store.ScopeRead, "/users/u1")
	if user["attributes"].(map[string]any)["plan"].(map[string]any)["value"] != "pro" {
		t.Fatalf("another site's key changed this site's user: %v", user)
	}
}

func TestLimitsAndBadInput(t *testing.T) {
	s := startServer(t, func(c *config.Config) {
		c.Limits.MaxBatchMessages = 3
		c.Limits.MaxRequestBytes = 4096
	})
	big := `{"batch":[{"type":"track","userId":"u","event":"x","properties":{"pad":"` + strings.Repeat("x", 5000) + `"}}]}`
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"malformed JSON", "/v1/track", `{"userId":`, 400, "malformed_json"},
		{"invalid single message", "/v1/track", `{"userId":"u"}`, 400, "missing_event"},
		{"request too large", "/v1/batch", big, 413, "request_too_large"},
		{"too many messages", "/v1/batch", `{"batch":[{},{},{},{}]}`, 413, "batch_too_large"},
		{"nothing valid", "/v1/batch", `{"batch":[{"type":"track"}]}`, 400, "all_rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := s.send(t, tt.path, tt.body)
			if status != tt.status || errorCode(body) != tt.code {
				t.Fatalf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
	// A partly valid batch stores the valid messages and lists the others.
	status, body := s.send(t, "/v1/batch", `{"batch":[{"type":"track","userId":"u","event":"ok","messageId":"m1"},
		{"type":"track","userId":"u"},{"type":"track","userId":"u","event":"ok","messageId":"m1"}]}`)
	rejected, _ := body["rejected"].([]any)
	if status != 200 || body["accepted"] != 1.0 || body["duplicates"] != 1.0 || len(rejected) != 1 {
		t.Fatalf("partial batch: %d %v", status, body)
	}
	if r := rejected[0].(map[string]any); r["index"] != 1.0 || r["field"] != "event" {
		t.Fatalf("rejected = %v", r)
	}
	// Gzip bodies, as some libraries send them.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"batch":[{"type":"track","userId":"u","event":"zipped"}]}`))
	zw.Close()
	req, _ := http.NewRequest("POST", s.base+"/v1/batch", &buf)
	req.Header.Set("Content-Encoding", "gzip")
	req.SetBasicAuth(s.writeKey, "")
	if status, body := do(t, req); status != 200 || body["accepted"] != 1.0 {
		t.Fatalf("gzip batch: %d %v", status, body)
	}
	// Metrics count what happened.
	resp, err := http.Get(s.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`sightline_messages_accepted_total{kind="track"} 2`, `sightline_messages_rejected_total{reason="missing_event"} 2`,
		`sightline_messages_duplicate_total 1`, "sightline_commit_seconds_bucket"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestMergeAndTypeChangeEndpoints(t *testing.T) {
	s := startServer(t, nil)
	s.send(t, "/v1/batch", `{"batch":[
		{"type":"page","anonymousId":"laptop","properties":{"path":"/a"}},
		{"type":"identify","userId":"u1","traits":{"seats":"12"}}]}`)
	r, _ := http.NewRequest("POST", s.base+"/api/v1/sites/"+s.site+"/merge",
		strings.NewReader(`{"from":{"kind":"anonymous","id":"laptop"},"into":{"kind":"user","id":"u1"}}`))
	r.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeWrite])
	if status, body := do(t, r); status != 200 {
		t.Fatalf("merge: %d %v", status, body)
	}
	_, user := s.get(t, store.ScopeRead, "/users/laptop?kind=anonymous")
	if user["user_id"] != "u1" || user["events"] != 2.0 {
		t.Fatalf("after merge: %v", user)
	}
	r, _ = http.NewRequest("PATCH", s.base+"/api/v1/sites/"+s.site+"/attributes/seats", strings.NewReader(`{"type":"number"}`))
	r.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeAdmin])
	if status, body := do(t, r); status != 200 || body["converted"] != 1.0 {
		t.Fatalf("type change: %d %v", status, body)
	}
	_, user = s.get(t, store.ScopeRead, "/users/u1")
	if seats := user["attributes"].(map[string]any)["seats"].(map[string]any); seats["value"] != 12.0 || seats["type"] != "number" {
		t.Fatalf("seats = %v", seats)
	}
}
