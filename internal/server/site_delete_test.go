package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestDeleteSiteInChromium: an owner deletes a site from its settings
// after typing its name; its data, tokens and write key stop working,
// while a bearer token, even an admin one, may not delete a site.
func TestDeleteSiteInChromium(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/identify", `{"userId":"ann","traits":{"plan":"pro"}}`); code != 200 {
		t.Fatalf("identify: %d %v", code, out)
	}
	otherSite, otherToken := s.otherSite(t)
	req, _ := http.NewRequest(http.MethodDelete, s.base+"/api/v1/sites/"+s.site, strings.NewReader(`{"confirm":"Test"}`))
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeAdmin])
	if code, out := do(t, req); code != http.StatusUnauthorized {
		t.Errorf("DELETE with an admin token: %d %v", code, out)
	}
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open("/s/" + s.site + "/settings")
	d.click("Delete site…")
	const confirm = "Type the site's name to confirm"
	disabled := `Array.prototype.find.call(document.querySelectorAll('dialog button'), function (b) { return b.textContent.trim() === 'Delete site' }).disabled`
	d.fill(confirm, "Tes")
	var off bool
	if d.eval(disabled, &off); !off {
		t.Fatal("the delete button is enabled with a wrong name")
	}
	d.fill(confirm, "Test")
	d.waitFor("the delete button enabled", "!("+disabled+")")
	d.click("Delete site")
	d.waitFor("the dashboard away from the deleted site", `location.pathname.indexOf('/s/`+s.site+`') !== 0 && !document.querySelector('dialog')`)
	d.clean()
	if code, _ := s.get(t, store.ScopeRead, "/users/ann"); code != http.StatusUnauthorized && code != http.StatusNotFound {
		t.Errorf("the deleted site's token still reads: %d", code)
	}
	if code, _ := s.send(t, "/v1/identify", `{"userId":"ann","traits":{"plan":"team"}}`); code < 400 {
		t.Errorf("the deleted site's write key is still accepted: %d", code)
	}
	req, _ = http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+otherSite, nil)
	req.Header.Set("Authorization", "Bearer "+otherToken)
	if code, out := do(t, req); code != 200 {
		t.Errorf("the other site: %d %v", code, out)
	}
}
