package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	adminpkg "github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/store"
)

// TestAuditLog does administrative things as an owner, an admin account
// and an API token, then reads the audit log as the owner: each action is
// there with its actor, site and status, reads are not, and only owners
// may read it.
func TestAuditLog(t *testing.T) { forBackends(t, testAuditLog) }

func testAuditLog(t *testing.T) {
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

// TestAuditAdminSocket runs the command line's commands through the admin
// socket and finds each state-changing one in the audit log, with the
// actor "admin socket", its site and status, failures included, and no
// read (GET /sites) nor the user's ID of a deletion.
func TestAuditAdminSocket(t *testing.T) {
	s := startServer(t, nil) // creates a site and three tokens through the socket
	owner := s.setUp(t)
	ctx := context.Background()
	if code, out := s.send(t, "/v1/identify", `{"userId":"zed@example.com","traits":{"plan":"pro"}}`); code != 200 {
		t.Fatalf("identify: %d %v", code, out)
	}
	name := "Renamed"
	if _, err := s.admin.UpdateSite(ctx, s.site, store.SiteUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(ctx, s.site, store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.admin.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admin.CreateToken(ctx, "s_nosuchsite", store.ScopeRead); err == nil {
		t.Fatal("a token for an unknown site was created")
	}
	if _, err := s.admin.ImportUsers(ctx, s.site, strings.NewReader("user_id,plan\nyan,free\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admin.DeleteUser(ctx, adminpkg.DeleteUserRequest{Site: s.site, User: "zed@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admin.Sites(ctx); err != nil {
		t.Fatal(err)
	}
	out := owner.want(200, "", "GET", "/api/v1/audit?limit=100", nil)
	var lines []string
	for _, e := range out["entries"].([]any) {
		m := e.(map[string]any)
		if m["actor"] == "admin socket" {
			lines = append(lines, fmt.Sprintf("%v|%v|%v", m["action"], m["site"], m["status"]))
		}
	}
	all := strings.Join(lines, "\n")
	t.Logf("the admin socket's entries:\n%s", all)
	for _, want := range []string{
		"POST /sites|" + s.site + "|201",
		"POST /tokens|" + s.site + "|201",
		"PATCH /sites/{id}|" + s.site + "|200",
		"DELETE /tokens/{id}|<nil>|204",
		"POST /tokens|s_nosuchsite|404",
		"POST /imports/users|" + s.site + "|200",
		"POST /deletions|" + s.site + "|200",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	if n := strings.Count(all, "POST /tokens|"+s.site+"|201"); n != 4 {
		t.Errorf("%d token creations recorded, want 4 (3 at the start, 1 later)", n)
	}
	if strings.Contains(all, "GET /sites") || strings.Contains(fmt.Sprint(out), "zed@example.com") {
		t.Error("the audit log holds a read or the deleted user's ID")
	}
}
