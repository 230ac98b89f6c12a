package account_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// fakeClock is a clock tests move by hand; the server reads it from its
// handlers' goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clockServer serves the account endpoints over a real store on a random
// port, with a clock the test moves.
func clockServer(t *testing.T) (*httptest.Server, *fakeClock) {
	t.Helper()
	db, err := duckstore.Open(context.Background(), filepath.Join(t.TempDir(), "db.duckdb"), duckstore.Options{},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	account.New(db, account.Config{Now: clk.now}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, clk
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar}}
}

func (c *client) do(method, path, body string) (int, map[string]any, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	if tok, ok := out["csrf_token"].(string); ok {
		c.csrf = tok
	}
	return resp.StatusCode, out, resp.Header
}

func TestSessionExpirySlides(t *testing.T) {
	srv, clk := clockServer(t)
	c := newClient(t, srv.URL)
	if code, out, _ := c.do("POST", "/api/v1/setup", `{"email":"o@example.com","name":"O","password":"a long password"}`); code != 201 {
		t.Fatalf("setup: %d %v", code, out)
	}
	for _, step := range []struct {
		after       time.Duration
		want        int
		extendsOnce bool // the answer sets the cookie again
	}{
		{30 * time.Second, 200, false}, // used within a minute: not written again
		{29 * 24 * time.Hour, 200, true},
		{29 * 24 * time.Hour, 200, true}, // 58 days after sign-in, alive: the expiry slid
		{30*24*time.Hour + time.Second, 401, false},
	} {
		clk.add(step.after)
		code, out, h := c.do("GET", "/api/v1/me", "")
		if code != step.want {
			t.Fatalf("after %v more: %d %v, want %d", step.after, code, out, step.want)
		}
		if got := h.Get("Set-Cookie") != ""; got != step.extendsOnce {
			t.Fatalf("after %v more: Set-Cookie %q, want one: %v", step.after, h.Get("Set-Cookie"), step.extendsOnce)
		}
	}
}

func TestInvitationExpires(t *testing.T) {
	srv, clk := clockServer(t)
	c := newClient(t, srv.URL)
	c.do("POST", "/api/v1/setup", `{"email":"o@example.com","name":"O","password":"a long password"}`)
	_, out, _ := c.do("POST", "/api/v1/invites", `{"email":"v@example.com","role":"viewer"}`)
	url, _ := out["url"].(string)
	path := strings.Replace(url, "/invite/", "/api/v1/invites/", 1)
	if code, out, _ := c.do("GET", path, ""); code != 200 {
		t.Fatalf("fresh invitation: %d %v", code, out)
	}
	clk.add(7*24*time.Hour - time.Second)
	if code, _, _ := c.do("GET", path, ""); code != 200 {
		t.Fatalf("invitation a second before expiry: %d", code)
	}
	clk.add(time.Second)
	guest := newClient(t, srv.URL)
	if code, out, _ := guest.do("POST", path+"/accept", `{"name":"V","password":"a long password"}`); code != 404 {
		t.Fatalf("expired invitation accepted: %d %v", code, out)
	}
	if _, out, _ := c.do("GET", "/api/v1/accounts", ""); len(out["invites"].([]any)) != 0 {
		t.Fatalf("expired invitation still pending: %v", out)
	}
}
