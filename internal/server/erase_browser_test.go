package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestDeleteUserFromProfileInChromium deletes a user from their profile:
// the button stays disabled until the user's ID is typed, the dialog
// follows the job to its receipt, and with suppression ticked the user's
// later messages are refused.
func TestDeleteUserFromProfileInChromium(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.send(t, "/v1/batch", `{"batch":[
		{"type":"identify","anonymousId":"anon-doomed","userId":"doomed","traits":{"plan":"free"}},
		{"type":"track","userId":"doomed","event":"exported"},
		{"type":"identify","userId":"kept","traits":{"plan":"pro"}}]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open("/s/" + s.site + "/users/doomed")
	// The export link downloads the zip with the browser's session.
	var got struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Size   int    `json:"size"`
	}
	d.eval(`(function () {
		var a = Array.prototype.find.call(document.querySelectorAll('a'), function (e) { return e.textContent.trim() === 'Export data' });
		return fetch(a.href).then(function (r) { return r.arrayBuffer().then(function (b) {
			return {status: r.status, type: r.headers.get('Content-Type'), size: b.byteLength} }) }) })()`, &got)
	if got.Status != 200 || got.Type != "application/zip" || got.Size < 100 {
		t.Errorf("the export link: %+v", got)
	}
	d.click("Delete user…")
	const confirm = "Type doomed to confirm"
	disabled := `Array.prototype.find.call(document.querySelectorAll('dialog button'), function (b) { return b.textContent.trim() === 'Delete user' }).disabled`
	var off bool
	d.eval(disabled, &off)
	if !off {
		t.Fatal("the delete button is enabled before the ID is typed")
	}
	d.fill(confirm, "doome")
	if d.eval(disabled, &off); !off {
		t.Fatal("the delete button is enabled with a wrong ID typed")
	}
	d.fill(confirm, "doomed")
	d.waitFor("the delete button enabled", "!("+disabled+")")
	d.do("tick suppression", js(`document.querySelector('#delete-suppress').click()`))
	d.click("Delete user")
	d.waitFor("the deletion done", `(document.querySelector('dialog [role=status]') || {}).textContent === 'Deleted.'`)
	receipt := d.str(`document.querySelector('dialog .deletion-receipt').innerText`)
	if !strings.Contains(receipt, "2 IDs") || !strings.Contains(receipt, "events") || !strings.Contains(receipt, "dropped") {
		t.Errorf("the receipt shown: %q", receipt)
	}
	d.shot("deleted")
	if code, _ := s.get(t, store.ScopeRead, "/users/doomed"); code != 404 {
		t.Errorf("GET /users/doomed after the deletion: %d", code)
	}
	if code, _ := s.get(t, store.ScopeRead, "/users/kept"); code != 200 {
		t.Errorf("GET /users/kept after the deletion: %d", code)
	}
	if _, out := s.send(t, "/v1/identify", `{"userId":"doomed","traits":{"plan":"pro"}}`); !strings.Contains(fmt.Sprint(out), "suppressed") {
		t.Errorf("a later message for the suppressed user: %v", out)
	}
	d.click("Back to users")
	d.waitPath("/s/" + s.site + "/users")
	d.clean()
}
