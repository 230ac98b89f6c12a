package server_test

import (
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestRetentionSettings sets a site's retention in the dashboard (a bad
// value names its field; a good one is saved) and checks the API's
// scopes and validation; the owner then finds the change in the audit log.
func TestRetentionSettings(t *testing.T) { forBackends(t, testRetentionSettings) }

func testRetentionSettings(t *testing.T) {
	s := startServer(t, nil)
	if code, out := s.call(t, store.ScopeWrite, "PUT", "/retention", `{"events_days":30}`); code != 403 {
		t.Errorf("PUT with a write token: %d %v", code, out)
	}
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/retention", `{"events_days":"x"}`); code != 400 || errorCode(out) != "malformed_json" {
		t.Errorf("a string: %d %v", code, out)
	}
	if code, out := s.call(t, store.ScopeAdmin, "PUT", "/retention", `{"sessions_days":40000}`); code != 400 ||
		errorCode(out) != "invalid_retention" || out["error"].(map[string]any)["field"] != "sessions_days" {
		t.Errorf("too many days: %d %v", code, out)
	}
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open("/s/" + s.site + "/settings")
	d.fill("Keep events (days)", "-3")
	d.click("Save retention")
	d.waitFor("the field's error", `document.querySelector('.field-invalid .field-error') && document.querySelector('.field-invalid .field-error').textContent.indexOf('events_days') >= 0`)
	d.fill("Keep events (days)", "30")
	d.fill("Keep survey answers (days)", "365")
	d.click("Save retention")
	d.waitFor("saved", `Array.prototype.some.call(document.querySelectorAll('.notice, [role=status]'), function (e) { return e.textContent.indexOf('Saved.') >= 0 })`)
	code, out := s.get(t, store.ScopeRead, "/retention")
	if code != 200 || out["events_days"] != 30.0 || out["survey_answers_days"] != 365.0 || out["sessions_days"] != 0.0 {
		t.Errorf("GET /retention after saving: %d %v", code, out)
	}
	// The owner reads the change in the audit log.
	d.open("/settings/audit")
	d.waitFor("the retention change in the audit log", `document.querySelector('.audit-table') && document.querySelector('.audit-table').innerText.indexOf('PUT /api/v1/sites/{site}/retention') >= 0 && document.querySelector('.audit-table').innerText.indexOf('owner@example.com') >= 0`)
	d.clean()
}
