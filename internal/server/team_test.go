package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/store"
)

// signIn returns a browser signed in with email and password.
func (s *testServer) signIn(t *testing.T, email, password string) *browser {
	t.Helper()
	b := s.browser(t)
	b.want(http.StatusOK, "", "POST", "/api/v1/session", map[string]string{"email": email, "password": password})
	return b
}

// member creates an account through the admin socket and signs it in.
func (s *testServer) member(t *testing.T, email string, role store.Role, sites ...string) *browser {
	t.Helper()
	const pw = "a member's password"
	if _, err := s.admin.CreateAccount(context.Background(), admin.NewAccount{Email: email, Name: email,
		Role: string(role), Sites: sites, Password: pw}); err != nil {
		t.Fatal(err)
	}
	return s.signIn(t, email, pw)
}

// otherSite creates a second site and returns its ID and an admin token.
func (s *testServer) otherSite(t *testing.T) (string, string) {
	t.Helper()
	other, err := s.admin.CreateSite(context.Background(), "Other", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.admin.CreateToken(context.Background(), other.ID, store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return other.ID, tok.Token
}

func TestRoleMatrix(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/identify", `{"userId":"u1","traits":{"plan":"pro"}}`); code != http.StatusOK {
		t.Fatalf("identify: %d %v", code, out)
	}
	other, _ := s.otherSite(t)
	owner := s.setUp(t)
	browsers := map[store.Role]*browser{
		store.RoleOwner:  owner,
		store.RoleAdmin:  s.member(t, "adam@example.com", store.RoleAdmin),
		store.RoleMember: s.member(t, "mia@example.com", store.RoleMember, s.site),
		store.RoleViewer: s.member(t, "vic@example.com", store.RoleViewer, s.site),
	}
	site, otherSite := "/api/v1/sites/"+s.site, "/api/v1/sites/"+other
	type want map[store.Role]int // status per role
	all := func(code int) want {
		return want{store.RoleOwner: code, store.RoleAdmin: code, store.RoleMember: code, store.RoleViewer: code}
	}
	seg := 0
	for _, tc := range []struct {
		name, method, path string
		body               func() any
		want               want
	}{
		{"read users", "GET", site + "/users?prefix=u", nil, all(200)},
		{"read attributes", "GET", site + "/attributes", nil, all(200)},
		{"save a segment", "POST", site + "/segments", func() any {
			seg++
			return map[string]any{"name": "Pro " + strings.Repeat("I", seg), "text": `plan = "pro"`}
		}, want{store.RoleOwner: 201, store.RoleAdmin: 201, store.RoleMember: 201, store.RoleViewer: 403}},
		{"change an attribute's type", "PATCH", site + "/attributes/plan", func() any { return map[string]string{"type": "string"} },
			want{store.RoleOwner: 200, store.RoleAdmin: 200, store.RoleMember: 403, store.RoleViewer: 403}},
		{"merge", "POST", site + "/merge", func() any {
			return map[string]any{"from": map[string]string{"kind": "anonymous", "id": "nobody"}, "into": map[string]string{"id": "u1"}}
		}, want{store.RoleOwner: 404, store.RoleAdmin: 404, store.RoleMember: 404, store.RoleViewer: 403}},
		{"list tokens", "GET", site + "/tokens", nil, want{store.RoleOwner: 200, store.RoleAdmin: 200, store.RoleMember: 403, store.RoleViewer: 403}},
		{"other site, granted to nobody", "GET", otherSite + "/attributes", nil,
			want{store.RoleOwner: 200, store.RoleAdmin: 200, store.RoleMember: 404, store.RoleViewer: 404}},
		{"other site: save a segment", "POST", otherSite + "/segments", func() any {
			return map[string]any{"name": "x", "text": `active_days(7d) >= 1`}
		}, want{store.RoleOwner: 201, store.RoleAdmin: 201, store.RoleMember: 404, store.RoleViewer: 404}},
		{"unknown site", "GET", "/api/v1/sites/s_nope/attributes", nil, all(404)},
		{"team", "GET", "/api/v1/accounts", nil, want{store.RoleOwner: 200, store.RoleAdmin: 200, store.RoleMember: 403, store.RoleViewer: 403}},
		{"create a site", "POST", "/api/v1/sites", func() any { return map[string]any{"name": "New"} },
			want{store.RoleOwner: 201, store.RoleAdmin: 201, store.RoleMember: 403, store.RoleViewer: 403}},
	} {
		for _, role := range []store.Role{store.RoleOwner, store.RoleAdmin, store.RoleMember, store.RoleViewer} {
			t.Run(tc.name+"/"+string(role), func(t *testing.T) {
				var body any
				if tc.body != nil {
					body = tc.body()
				}
				code, out := browsers[role].in(t).call(tc.method, tc.path, body)
				if code != tc.want[role] {
					t.Fatalf("%s %s as %s: %d %v, want %d", tc.method, tc.path, role, code, out, tc.want[role])
				}
				if code == 404 && strings.Contains(tc.name, "other site") && errorCode(out) != "site_not_found" {
					t.Fatalf("code %s, want site_not_found", errorCode(out))
				}
			})
		}
	}
	// Each sees only its sites, with its access.
	for role, wantSites := range map[store.Role]map[string]string{
		store.RoleAdmin:  {s.site: "admin", other: "admin"},
		store.RoleMember: {s.site: "write"},
		store.RoleViewer: {s.site: "read"},
	} {
		for _, path := range []string{"/api/v1/me", "/api/v1/sites"} {
			_, out := browsers[role].call("GET", path, nil)
			got := map[string]string{}
			for _, x := range out["sites"].([]any) {
				m := x.(map[string]any)
				got[m["id"].(string)] = m["access"].(string)
			}
			for id, access := range wantSites {
				if got[id] != access {
					t.Errorf("%s %s: sites %v, want %v", role, path, got, wantSites)
				}
			}
			if role != store.RoleAdmin && len(got) != len(wantSites) {
				t.Errorf("%s %s: sees %v, want only %v", role, path, got, wantSites)
			}
		}
	}
}

func TestSitesEndpoints(t *testing.T) {
	s := startServer(t, nil)
	owner := s.setUp(t)
	out := owner.want(http.StatusCreated, "", "POST", "/api/v1/sites",
		map[string]any{"name": "Shop", "origins": []string{"https://Shop.example.com/"}})
	created := out["site"].(map[string]any)
	key, _ := out["write_key"].(string)
	if !strings.HasPrefix(key, "wk_") || created["access"] != "admin" || created["origins"].([]any)[0] != "https://shop.example.com" {
		t.Fatalf("created %v", out)
	}
	owner.want(http.StatusBadRequest, "invalid_field", "POST", "/api/v1/sites", map[string]any{"name": " "})
	owner.want(http.StatusBadRequest, "invalid_field", "POST", "/api/v1/sites", map[string]any{"name": "x", "origins": []string{"ftp://x"}})
	if code, body := s.send(t, "/v1/identify", `{"userId":"u1"}`); code != 200 {
		t.Fatalf("the test site's key: %d %v", code, body)
	}
	req, _ := http.NewRequest("POST", s.base+"/v1/identify", strings.NewReader(`{"userId":"u1"}`))
	req.SetBasicAuth(key, "")
	if code, body := do(t, req); code != 200 {
		t.Fatalf("the new site's key: %d %v", code, body)
	}
	// A token sees its own site only.
	tb := s.browser(t)
	out = tb.want(http.StatusOK, "", "GET", "/api/v1/sites", nil, "Authorization", "Bearer "+s.tokens[store.ScopeWrite])
	if sites := out["sites"].([]any); len(sites) != 1 || sites[0].(map[string]any)["id"] != s.site ||
		sites[0].(map[string]any)["access"] != "write" {
		t.Fatalf("token's sites = %v", out)
	}
	tb.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/sites", nil, "Authorization", "Bearer sl_nope")
	tb.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/sites", nil)
}

func TestTokensCreateListRevoke(t *testing.T) { forBackends(t, testTokensCreateListRevoke) }

func testTokensCreateListRevoke(t *testing.T) {
	s := startServer(t, nil)
	other, otherAdmin := s.otherSite(t)
	owner := s.setUp(t)
	p := "/api/v1/sites/" + s.site
	owner.want(http.StatusBadRequest, "invalid_field", "POST", p+"/tokens", map[string]string{"scope": "root"})
	out := owner.want(http.StatusCreated, "", "POST", p+"/tokens", map[string]string{"scope": "read", "name": "CI export"})
	secret := out["secret"].(string)
	tok := out["token"].(map[string]any)
	if !strings.HasPrefix(secret, "sl_") || tok["name"] != "CI export" || tok["scope"] != "read" {
		t.Fatalf("created %v", out)
	}
	id := tok["id"].(string)
	api := s.browser(t)
	api.want(http.StatusOK, "", "GET", p+"/attributes", nil, "Authorization", "Bearer "+secret)

	list := owner.want(http.StatusOK, "", "GET", p+"/tokens", nil)["tokens"].([]any)
	var found map[string]any
	for _, x := range list {
		if m := x.(map[string]any); m["id"] == id {
			found = m
		}
	}
	if found == nil || found["last_used_at"] == nil || found["revoked_at"] != nil || found["secret"] != nil {
		t.Fatalf("listed %v", list)
	}
	// Another site's admin cannot see or revoke it; this site cannot
	// revoke the other's tokens either.
	api.want(http.StatusNotFound, "site_not_found", "DELETE", p+"/tokens/"+id, nil, "Authorization", "Bearer "+otherAdmin)
	api.want(http.StatusNotFound, "token_not_found", "DELETE", "/api/v1/sites/"+other+"/tokens/"+id, nil,
		"Authorization", "Bearer "+otherAdmin)
	api.want(http.StatusOK, "", "GET", p+"/attributes", nil, "Authorization", "Bearer "+secret)

	owner.want(http.StatusNoContent, "", "DELETE", p+"/tokens/"+id, nil)
	api.want(http.StatusUnauthorized, "unauthorized", "GET", p+"/attributes", nil, "Authorization", "Bearer "+secret)
	api.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/sites", nil, "Authorization", "Bearer "+secret)
	list = owner.want(http.StatusOK, "", "GET", p+"/tokens", nil)["tokens"].([]any)
	for _, x := range list {
		if m := x.(map[string]any); m["id"] == id && m["revoked_at"] == nil {
			t.Fatalf("revoked token listed as %v", m)
		}
	}
	// The command line revokes through the admin socket, at once too.
	s.get(t, store.ScopeRead, "/attributes")
	readID := ""
	for _, x := range list {
		if m := x.(map[string]any); m["scope"] == "read" && m["id"] != id {
			readID = m["id"].(string)
		}
	}
	if err := s.admin.RevokeToken(context.Background(), readID); err != nil {
		t.Fatal(err)
	}
	if code, out := s.get(t, store.ScopeRead, "/attributes"); code != http.StatusUnauthorized {
		t.Fatalf("token revoked by the CLI: %d %v", code, out)
	}
	// An admin token manages tokens too; a write token does not.
	api.want(http.StatusForbidden, "forbidden", "POST", p+"/tokens", map[string]string{"scope": "read"},
		"Authorization", "Bearer "+s.tokens[store.ScopeWrite])
	api.want(http.StatusCreated, "", "POST", p+"/tokens", map[string]string{"scope": "read"},
		"Authorization", "Bearer "+s.tokens[store.ScopeAdmin])
}

func TestWriteKeyRotation(t *testing.T) {
	s := startServer(t, nil)
	owner := s.setUp(t)
	viewer := s.member(t, "vic@example.com", store.RoleViewer, s.site)
	p := "/api/v1/sites/" + s.site + "/write-key"
	viewer.want(http.StatusForbidden, "forbidden", "POST", p, nil)
	out := owner.want(http.StatusOK, "", "POST", p, nil)
	key := out["write_key"].(string)
	if !strings.HasPrefix(key, "wk_") || key == s.writeKey {
		t.Fatalf("rotated key %v", out)
	}
	if code, _ := s.send(t, "/v1/identify", `{"userId":"u1"}`); code != http.StatusUnauthorized {
		t.Fatalf("the old key still works: %d", code)
	}
	s.writeKey = key
	if code, body := s.send(t, "/v1/identify", `{"userId":"u1"}`); code != http.StatusOK {
		t.Fatalf("the new key: %d %v", code, body)
	}
}

func TestInviteFlow(t *testing.T) { forBackends(t, testInviteFlow) }

func testInviteFlow(t *testing.T) {
	s := startServer(t, nil)
	other, _ := s.otherSite(t)
	owner := s.setUp(t)
	owner.want(http.StatusBadRequest, "invalid_field", "POST", "/api/v1/invites",
		map[string]any{"email": "x@example.com", "role": "boss"})
	owner.want(http.StatusBadRequest, "invalid_field", "POST", "/api/v1/invites",
		map[string]any{"email": "x@example.com", "role": "viewer", "sites": []string{"s_nope"}})
	owner.want(http.StatusConflict, "email_taken", "POST", "/api/v1/invites",
		map[string]any{"email": "OWNER@example.com", "role": "viewer"})
	out := owner.want(http.StatusCreated, "", "POST", "/api/v1/invites",
		map[string]any{"email": "Vic@Example.com", "role": "viewer", "sites": []string{s.site}})
	url := out["url"].(string)
	inv := out["invite"].(map[string]any)
	if !strings.HasPrefix(url, "/invite/") || inv["email"] != "vic@example.com" || inv["expires_at"] == nil {
		t.Fatalf("invite %v", out)
	}
	token := strings.TrimPrefix(url, "/invite/")

	team := owner.want(http.StatusOK, "", "GET", "/api/v1/accounts", nil)
	if invites := team["invites"].([]any); len(invites) != 1 || invites[0].(map[string]any)["id"] != inv["id"] {
		t.Fatalf("pending invites %v", team)
	}
	if accounts := team["accounts"].([]any); len(accounts) != 1 || accounts[0].(map[string]any)["last_seen_at"] == nil {
		t.Fatalf("accounts %v", team)
	}

	guest := s.browser(t)
	guest.want(http.StatusNotFound, "invite_not_found", "GET", "/api/v1/invites/not-a-token", nil)
	got := guest.want(http.StatusOK, "", "GET", "/api/v1/invites/"+token, nil)
	if got["email"] != "vic@example.com" || got["role"] != "viewer" {
		t.Fatalf("public invite %v", got)
	}
	guest.want(http.StatusBadRequest, "invalid_field", "POST", "/api/v1/invites/"+token+"/accept",
		map[string]string{"name": "Vic", "password": "short"})
	guest.want(http.StatusForbidden, "csrf", "POST", "/api/v1/invites/"+token+"/accept",
		map[string]string{"name": "Vic", "password": "vic's password"}, "Origin", "https://evil.example")
	me := guest.want(http.StatusCreated, "", "POST", "/api/v1/invites/"+token+"/accept",
		map[string]string{"name": "Vic", "password": "vic's password"})
	if acc := me["account"].(map[string]any); acc["email"] != "vic@example.com" || acc["role"] != "viewer" {
		t.Fatalf("accepted %v", me)
	}
	if sites := me["sites"].([]any); len(sites) != 1 || sites[0].(map[string]any)["access"] != "read" {
		t.Fatalf("the invited viewer's sites %v", me)
	}
	guest.want(http.StatusOK, "", "GET", "/api/v1/sites/"+s.site+"/attributes", nil)
	guest.want(http.StatusNotFound, "site_not_found", "GET", "/api/v1/sites/"+other+"/attributes", nil)
	// Used once only.
	s.browser(t).want(http.StatusNotFound, "invite_not_found", "POST", "/api/v1/invites/"+token+"/accept",
		map[string]string{"name": "Mallory", "password": "mallory's password"})
	s.browser(t).want(http.StatusNotFound, "invite_not_found", "GET", "/api/v1/invites/"+token, nil)
	// The viewer may not invite; a withdrawn invitation is gone.
	guest.want(http.StatusForbidden, "forbidden", "POST", "/api/v1/invites", map[string]any{"email": "z@example.com", "role": "viewer"})
	out = owner.want(http.StatusCreated, "", "POST", "/api/v1/invites", map[string]any{"email": "w@example.com", "role": "member"})
	id := out["invite"].(map[string]any)["id"].(string)
	owner.want(http.StatusNoContent, "", "DELETE", "/api/v1/invites/"+id, nil)
	owner.want(http.StatusNotFound, "invite_not_found", "DELETE", "/api/v1/invites/"+id, nil)
	s.browser(t).want(http.StatusNotFound, "invite_not_found", "GET", strings.Replace(out["url"].(string), "/invite/", "/api/v1/invites/", 1), nil)
}

func TestOwnersAndAdmins(t *testing.T) {
	s := startServer(t, nil)
	owner := s.setUp(t)
	ownerID := owner.want(http.StatusOK, "", "GET", "/api/v1/me", nil)["account"].(map[string]any)["id"].(string)
	adm := s.member(t, "adam@example.com", store.RoleAdmin)
	admID := adm.want(http.StatusOK, "", "GET", "/api/v1/me", nil)["account"].(map[string]any)["id"].(string)
	viewer := s.member(t, "vic@example.com", store.RoleViewer)
	vicID := viewer.want(http.StatusOK, "", "GET", "/api/v1/me", nil)["account"].(map[string]any)["id"].(string)
	accounts := "/api/v1/accounts/"

	// The last owner stays.
	owner.want(http.StatusConflict, "last_owner", "PATCH", accounts+ownerID, map[string]string{"role": "admin"})
	owner.want(http.StatusConflict, "last_owner", "DELETE", accounts+ownerID, nil)
	// An admin cannot touch the owner or make owners, but manages the rest.
	adm.want(http.StatusForbidden, "forbidden", "DELETE", accounts+ownerID, nil)
	adm.want(http.StatusForbidden, "forbidden", "PATCH", accounts+ownerID, map[string]string{"role": "viewer"})
	adm.want(http.StatusForbidden, "forbidden", "PATCH", accounts+vicID, map[string]string{"role": "owner"})
	adm.want(http.StatusForbidden, "forbidden", "POST", "/api/v1/invites", map[string]any{"email": "o2@example.com", "role": "owner"})
	out := adm.want(http.StatusOK, "", "PATCH", accounts+vicID, map[string]any{"role": "member", "sites": []string{s.site}})
	if acc := out["account"].(map[string]any); acc["role"] != "member" || len(acc["sites"].([]any)) != 1 {
		t.Fatalf("patched %v", out)
	}
	// The change holds at once for the signed-in member.
	viewer.want(http.StatusCreated, "", "POST", "/api/v1/sites/"+s.site+"/segments",
		map[string]any{"name": "All", "text": `active_days(7d) >= 0`})
	adm.want(http.StatusNotFound, "account_not_found", "PATCH", accounts+"acc_nope", map[string]string{"role": "viewer"})

	// Ownership moves: make the admin owner, then the first owner may step down.
	owner.want(http.StatusOK, "", "PATCH", accounts+admID, map[string]string{"role": "owner"})
	owner.want(http.StatusOK, "", "PATCH", accounts+ownerID, map[string]string{"role": "admin"})
	adm.want(http.StatusConflict, "last_owner", "DELETE", accounts+admID, nil)

	// Deleting an account ends its sessions at once.
	adm.want(http.StatusNoContent, "", "DELETE", accounts+vicID, nil)
	viewer.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/me", nil)
	viewer.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/sites/"+s.site+"/attributes", nil)
	team := adm.want(http.StatusOK, "", "GET", "/api/v1/accounts", nil)["accounts"].([]any)
	if len(team) != 2 {
		t.Fatalf("team after deletion: %v", team)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s := startServer(t, nil)
	first := s.setUp(t)
	second := s.signIn(t, "owner@example.com", ownerPassword)
	first.want(http.StatusBadRequest, "invalid_field", "PATCH", "/api/v1/me",
		map[string]string{"password": "short", "current_password": ownerPassword})
	first.want(http.StatusForbidden, "invalid_credentials", "PATCH", "/api/v1/me",
		map[string]string{"password": "a new long password", "current_password": "wrong password"})
	oldCSRF := first.csrf
	out := first.want(http.StatusOK, "", "PATCH", "/api/v1/me",
		map[string]string{"name": "Olive O.", "password": "a new long password", "current_password": ownerPassword})
	if out["account"].(map[string]any)["name"] != "Olive O." || first.csrf == oldCSRF {
		t.Fatalf("after the change: %v (CSRF token unchanged: %v)", out, first.csrf == oldCSRF)
	}
	first.want(http.StatusOK, "", "GET", "/api/v1/me", nil)
	second.want(http.StatusUnauthorized, "unauthorized", "GET", "/api/v1/me", nil)
	s.browser(t).want(http.StatusUnauthorized, "invalid_credentials", "POST", "/api/v1/session",
		map[string]string{"email": "owner@example.com", "password": ownerPassword})
	s.signIn(t, "owner@example.com", "a new long password")
	// A name alone needs no password.
	first.want(http.StatusOK, "", "PATCH", "/api/v1/me", map[string]string{"name": "Olive"})
}
