package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestAuditLog does administrative things as an owner, an admin account
// and an API token, then reads the audit log as the owner: each action is
// there with its actor, site and status, reads are not, and only owners
// may read it.
func TestAuditLog(t *testing.T) {
	s := startServer(t, nil)
	owner := s.setUp(t)
	if code, out := s.send(t, "/v1/identify", `{"userId":"ann@example.com","traits":{"plan":"pro"}}`); code != 200 {
		t.Fatalf("identify: %d %v", code, out)
	}
	admin := s.member(t, "adam@example.com", store.RoleAdmin)
	bad := s.browser(t)
	if code, _ := bad.call("POST", "/api/v1/session", map[string]string{"email": "Owner@example.com", "password": "wrong"}); code != 401 {
		t.Fatalf("a wrong password: %d", code)
	}
	site := "/api/v1/sites/" + s.site
	owner.want(200, "", "PUT", site+"/retention", map[string]int{"events_days": 90})
	admin.want(200, "", "PATCH", site, map[string]any{"respect_dnt": true})
	s.call(t, store.ScopeAdmin, "POST", "/tokens", `{"scope":"read"}`)
	if code, _ := s.get(t, store.ScopeAdmin, "/users/ann@example.com/export"); code != 200 {
		t.Fatalf("export: %d", code)
	}
	s.get(t, store.ScopeRead, "/users/ann@example.com")
	if code, out := admin.call("GET", "/api/v1/audit", nil); code != http.StatusForbidden {
		t.Errorf("an admin reads the audit log: %d %v", code, out)
	}
	out := owner.want(200, "", "GET", "/api/v1/audit?limit=50", nil)
	var lines []string
	for _, e := range out["entries"].([]any) {
		m := e.(map[string]any)
		lines = append(lines, fmt.Sprintf("%v|%v|%v|%v", m["actor"], m["action"], m["site"], m["status"]))
	}
	all := strings.Join(lines, "\n")
	t.Logf("audit log:\n%s", all)
	for _, want := range []string{
		"owner@example.com|POST /api/v1/setup|<nil>|201",
		"owner@example.com|POST /api/v1/session|<nil>|401",
		"adam@example.com|POST /api/v1/session|<nil>|200",
		"owner@example.com|PUT /api/v1/sites/{site}/retention|" + s.site + "|200",
		"adam@example.com|PATCH /api/v1/sites/{site}|" + s.site + "|200",
		"|GET /api/v1/sites/{site}/users/{id}/export|" + s.site + "|200",
		"|POST /api/v1/sites/{site}/tokens|" + s.site + "|201",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	if strings.Contains(all, "GET /api/v1/sites/{site}/users/{id}|") || strings.Contains(all, "ann@example.com") {
		t.Error("the audit log holds a read or a user's ID")
	}
	if out["kept_days"] != 365.0 {
		t.Errorf("kept_days = %v", out["kept_days"])
	}
}
