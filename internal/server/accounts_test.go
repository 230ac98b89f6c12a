package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
)

// browser is a dashboard client: it keeps cookies like a browser and sends
// the CSRF token it was last given.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
	csrf   string
}

func (s *testServer) browser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: s.base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// in returns a copy of b that reports to t, for use in a subtest.
func (b *browser) in(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

// call sends a JSON body (nil for none) with the CSRF token and extra
// headers, and decodes the answer. A csrf_token in the answer is kept.
func (b *browser) call(method, path string, body any, headers ...string) (int, map[string]any) {
	b.t.Helper()
	resp := b.send(method, path, body, headers...)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		out = map[string]any{"raw": string(raw)}
	}
	if tok, ok := out["csrf_token"].(string); ok {
		b.csrf = tok
	}
	return resp.StatusCode, out
}

func (b *browser) send(method, path string, body any, headers ...string) *http.Response {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if b.csrf != "" {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

// want fails unless the call answered status (and, when code is not
// empty, that error code).
func (b *browser) want(status int, code string, method, path string, body any, headers ...string) map[string]any {
	b.t.Helper()
	got, out := b.call(method, path, body, headers...)
	if got != status || (code != "" && errorCode(out) != code) {
		b.t.Fatalf("%s %s: %d %v, want %d %s", method, path, got, out, status, code)
	}
	return out
}

const ownerPassword = "correct horse battery"

// setUp creates the owner through the set-up endpoint and returns a
// browser signed in as them.
func (s *testServer) setUp(t *testing.T) *browser {
	t.Helper()
	b := s.browser(t)
	b.want(http.StatusCreated, "", "POST", "/api/v1/setup",
		map[string]string{"email": " Owner@Example.com ", "name": "Olive Owner", "password": ownerPassword})
	return b
}

func TestSetupOnlyOnce(t *testing.T) {
	s := startServer(t, nil)
	b := s.browser(t)
	if out := b.want(http.StatusOK, "", "GET", "/api/v1/setup", nil); out["needed"] != true {
		t.Fatalf("setup needed = %v before any account", out)
	}
	b.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/me", nil)
	for _, tc := range []struct {
		name, field string
		body        map[string]string
	}{
		{"short password", "password", map[string]string{"email": "o@example.com", "name": "O", "password": "123456789"}},
		{"bad email", "email", map[string]string{"email": "not an email", "name": "O", "password": ownerPassword}},
		{"no name", "name", map[string]string{"email": "o@example.com", "name": " ", "password": ownerPassword}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := b.in(t).want(http.StatusBadRequest, "invalid_field", "POST", "/api/v1/setup", tc.body)
			if f := out["error"].(map[string]any)["field"]; f != tc.field {
				t.Fatalf("field = %v, want %s", f, tc.field)
			}
		})
	}
	out := b.want(http.StatusCreated, "", "POST", "/api/v1/setup",
		map[string]string{"email": " Owner@Example.com ", "name": "Olive Owner", "password": ownerPassword})
	acc := out["account"].(map[string]any)
	if acc["email"] != "owner@example.com" || acc["role"] != "owner" || acc["name"] != "Olive Owner" || b.csrf == "" {
		t.Fatalf("setup answered %v", out)
	}
	sites := out["sites"].([]any)
	if len(sites) != 1 || sites[0].(map[string]any)["id"] != s.site || sites[0].(map[string]any)["access"] != "admin" {
		t.Fatalf("owner's sites = %v", sites)
	}
	me := b.want(http.StatusOK, "", "GET", "/api/v1/me", nil)
	if me["account"].(map[string]any)["id"] != acc["id"] || me["csrf_token"] != out["csrf_token"] {
		t.Fatalf("me = %v after setup %v", me, out)
	}
	if out := b.want(http.StatusOK, "", "GET", "/api/v1/setup", nil); out["needed"] != false {
		t.Fatalf("setup needed = %v after setup", out)
	}
	s.browser(t).want(http.StatusConflict, "already_set_up", "POST", "/api/v1/setup",
		map[string]string{"email": "mallory@example.com", "name": "M", "password": "another long password"})
}

func TestSignInAndOut(t *testing.T) {
	s := startServer(t, nil)
	s.setUp(t)
	b := s.browser(t)
	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", "owner@example.com", "wrong password!"},
		{"unknown email", "nobody@example.com", ownerPassword},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := b.in(t).want(http.StatusUnauthorized, "invalid_credentials", "POST", "/api/v1/session",
				map[string]string{"email": tc.email, "password": tc.password})
			if msg := out["error"].(map[string]any)["message"]; msg != "wrong email or password" {
				t.Fatalf("message %q tells more than it should", msg)
			}
		})
	}
	resp := b.send("POST", "/api/v1/session", map[string]string{"email": "OWNER@example.com", "password": ownerPassword})
	var me map[string]any
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %v", resp.StatusCode, me)
	}
	b.csrf = me["csrf_token"].(string)
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"sl_session=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=2592000"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("cookie %q is Secure over plain HTTP", cookie)
	}
	secret := strings.TrimPrefix(strings.Split(cookie, ";")[0], "sl_session=")
	b.want(http.StatusOK, "", "GET", "/api/v1/me", nil)

	// Signing out needs the CSRF token, like every change.
	csrf := b.csrf
	b.csrf = ""
	b.want(http.StatusForbidden, "csrf", "DELETE", "/api/v1/session", nil)
	b.csrf = csrf
	b.want(http.StatusNoContent, "", "DELETE", "/api/v1/session", nil)
	b.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/me", nil)

	// The old cookie is dead on the server, not only dropped by the browser.
	replay := s.browser(t)
	replay.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/me", nil, "Cookie", "sl_session="+secret)
	replay.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/sites/"+s.site+"/attributes", nil,
		"Cookie", "sl_session="+secret)

	// Signing in again replaces the browser's session: the old secret dies.
	again := s.signIn(t, "owner@example.com", ownerPassword)
	u, _ := url.Parse(s.base)
	first := again.client.Jar.Cookies(u)[0].Value
	again.want(http.StatusOK, "", "POST", "/api/v1/session", map[string]string{"email": "owner@example.com", "password": ownerPassword})
	if second := again.client.Jar.Cookies(u)[0].Value; second == first {
		t.Fatal("a second sign-in kept the session secret")
	}
	replay.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/me", nil, "Cookie", "sl_session="+first)
	again.want(http.StatusOK, "", "GET", "/api/v1/me", nil)
}

func TestSecureCookieBehindTLSProxy(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.TrustProxy = true })
	s.setUp(t)
	resp := s.browser(t).send("POST", "/api/v1/session", map[string]string{"email": "owner@example.com",
		"password": ownerPassword}, "X-Forwarded-Proto", "https")
	resp.Body.Close()
	if c := resp.Header.Get("Set-Cookie"); resp.StatusCode != http.StatusOK || !strings.Contains(c, "; Secure") {
		t.Fatalf("sign-in behind an HTTPS proxy: %d, cookie %q", resp.StatusCode, c)
	}
}

func TestSignInRateLimit(t *testing.T) { forBackends(t, testSignInRateLimit) }

func testSignInRateLimit(t *testing.T) {
	s := startServer(t, func(c *config.Config) {
		c.TrustProxy = true
		c.SignInFailures, c.SignInFailuresPerIP, c.SignInFailuresPerEmail = 3, 5, 8
	})
	s.setUp(t)
	b := s.browser(t)
	signIn := func(email, password, ip string) (int, map[string]any, http.Header) {
		resp := b.send("POST", "/api/v1/session", map[string]string{"email": email, "password": password},
			"X-Forwarded-For", ip)
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, resp.Header
	}
	// An attacker who knows the owner's email fails three times from one
	// address: that address must wait for that email, even with the right
	// password ...
	const attacker = "203.0.113.7"
	for i := range 3 {
		if code, out, _ := signIn("owner@example.com", "wrong password!", attacker); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %v", i, code, out)
		}
	}
	code, out, h := signIn("owner@example.com", ownerPassword, attacker)
	if code != http.StatusTooManyRequests || errorCode(out) != "rate_limited" || h.Get("Retry-After") == "" {
		t.Fatalf("after 3 failures: %d %v Retry-After %q", code, out, h.Get("Retry-After"))
	}
	// ... but the owner, from another address, signs in.
	if code, out, _ := signIn("owner@example.com", ownerPassword, "198.51.100.1"); code != http.StatusOK {
		t.Fatalf("the owner from another address: %d %v", code, out)
	}
	// Per client address: five failures in all, for any emails, stop that
	// address only.
	for i := range 2 {
		signIn(fmt.Sprintf("user%d@example.com", i), "wrong password!", attacker)
	}
	if code, out, _ := signIn("user9@example.com", "wrong password!", attacker); code != http.StatusTooManyRequests {
		t.Fatalf("6th failure from one address: %d %v", code, out)
	}
	if code, out, _ := signIn("user9@example.com", "wrong password!", "203.0.113.8"); code != http.StatusUnauthorized {
		t.Fatalf("another address: %d %v", code, out)
	}
	// Per email, from any addresses: eight failures (three above, five
	// more) make the email wait everywhere.
	for i := range 5 {
		signIn("owner@example.com", "wrong password!", fmt.Sprintf("192.0.2.%d", i))
	}
	if code, out, _ := signIn("owner@example.com", ownerPassword, "198.51.100.2"); code != http.StatusTooManyRequests {
		t.Fatalf("after 8 failures for one email from many addresses: %d %v", code, out)
	}
}

func TestCookieSessionUsesSiteAPIWithCSRF(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/identify", `{"userId":"u1","traits":{"plan":"pro"}}`); code != http.StatusOK {
		t.Fatalf("identify: %d %v", code, out)
	}
	b := s.setUp(t)
	site := "/api/v1/sites/" + s.site
	b.want(http.StatusOK, "", "GET", site+"/attributes", nil)
	seg := map[string]any{"name": "Pro", "text": `plan = "pro"`}
	csrf := b.csrf
	for _, tc := range []struct {
		name, csrf string
		headers    []string
	}{
		{"no token", "", nil},
		{"wrong token", "x" + csrf, nil},
		{"foreign origin", csrf, []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bt := b.in(t)
			bt.csrf = tc.csrf
			bt.want(http.StatusForbidden, "csrf", "POST", site+"/segments", seg, tc.headers...)
		})
	}
	b.want(http.StatusCreated, "", "POST", site+"/segments", seg, "Origin", s.base)
	// A bearer token needs no CSRF token, even with a cookie beside it.
	b.csrf = ""
	b.want(http.StatusCreated, "", "POST", site+"/segments", map[string]any{"name": "Pro 2", "text": `plan = "pro"`},
		"Authorization", "Bearer "+s.tokens["write"])
}
