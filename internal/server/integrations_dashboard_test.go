package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
)

// TestIntegrationsDashboardInChromium drives the Integrations page: a
// webhook destination is added and its secret, shown once, verifies the
// test message the Test button sends; a rule is made from the form and
// fires; the delivery log lists the attempts; a destination disabled
// after failures shows a notice whose button re-enables it.
func TestIntegrationsDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := alertServer(t, func(c *config.Config) { c.Alerts.DisableAfter = 2 })
	rcv := newReceiver(t, 0)
	s.identify(t, "seed", `{"plan":"free"}`)
	seg := s.must(t, http.StatusCreated, store.ScopeWrite, "POST", "/segments", map[string]any{"name": "Pro users", "text": `plan = "pro"`})

	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open("/s/" + s.site + "/integrations")
	d.waitFor("the page", `document.querySelector('main h1').textContent === 'Integrations' && document.querySelector('main nav, nav') !== null`)
	d.waitFor("the nav entry", `Array.prototype.some.call(document.querySelectorAll('nav a'), function (a) { return a.textContent.trim() === 'Integrations' })`)

	d.click("New destination")
	d.fill("Name", "Ops hook")
	d.choose("Kind", 0, "webhook")
	d.fill("URL", rcv.srv.URL+"/hook")
	d.click("Add destination")
	d.waitFor("the secret, shown once", `(document.querySelector('dialog textarea') || {}).value && document.querySelector('dialog textarea').value.indexOf('whsec_') === 0`)
	secret := d.str(`document.querySelector('dialog textarea').value`)
	d.click("Done")
	d.waitFor("the destination listed", `document.querySelector('table.destinations') && document.querySelector('table.destinations').textContent.indexOf('Ops hook') >= 0`)
	if strings.Contains(d.str(`document.body.innerText`), "whsec_") {
		t.Error("the secret shows after its dialog closed")
	}

	d.click("Test")
	d.waitFor("the test result", `(document.querySelector('.test-result') || {}).textContent && document.querySelector('.test-result').textContent.indexOf('Test delivered: 200') === 0`)
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d requests after Test", len(got))
	}
	if err := verifyStandardWebhook(secret, got[0].header, got[0].body, time.Now()); err != nil {
		t.Errorf("the test message with the secret the page showed: %v", err)
	}

	d.click("New alert rule")
	d.fill("Name", "Pro entered")
	d.choose("Trigger", 0, "segment.entered")
	d.choose("Segment", 0, seg["id"].(string))
	d.click("Create rule")
	d.waitFor("the rule listed", `document.querySelector('table.rules') && /Pro entered\s*A user enters a segment\s*Pro users\s*Ops hook\s*20\/hour/.test(document.querySelector('table.rules tbody tr').innerText)`)

	s.identify(t, "u_new", `{"plan":"pro"}`)
	waitRequests(t, rcv, 2)
	d.click("Refresh")
	d.waitFor("two attempts in the log", `document.querySelectorAll('table.delivery-log tbody tr.ok').length === 2`)

	// Two failures in a row disable it (this server's setting): the test
	// message's first attempt and its retry.
	rcv.mu.Lock()
	rcv.fail = 1000
	rcv.mu.Unlock()
	d.click("Test")
	d.waitFor("the failure", `(document.querySelector('.test-result') || {}).textContent && document.querySelector('.test-result').textContent.indexOf('Test failed: answered 500') === 0`)
	d.waitFor("the disabled notice", `!!document.querySelector('[data-disabled]') && document.querySelector('[data-disabled]').textContent.indexOf('Ops hook is disabled') >= 0`)
	rcv.mu.Lock()
	rcv.fail = 0
	rcv.mu.Unlock()
	d.shot("integrations-disabled")
	d.click("Re-enable Ops hook")
	d.waitFor("the notice gone", `!document.querySelector('[data-disabled]')`)
	eventually(t, "the held test message delivered after re-enabling", func() bool {
		r := rcv.requests()
		return r[len(r)-1].status == 200 && strings.Contains(string(r[len(r)-1].body), "alert.test")
	})
	var out struct{ Destinations []map[string]any }
	s.getJSON(t, "/alerts/destinations", &out)
	if out.Destinations[0]["enabled"] != true {
		t.Errorf("after re-enabling: %v", out.Destinations[0])
	}
	d.shot("integrations")
	d.clean()
}
