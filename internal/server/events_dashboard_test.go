package server_test

import (
	"strings"
	"testing"
)

// TestEventCatalogInChromium uses the event catalog in the dashboard: the
// Events page with each event's properties, the builder's event field
// completing names from it, a property filter completing keys and values,
// the warning of an event written in the wrong case (the segment still
// counts), and the recordings filter's warning.
func TestEventCatalogInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	batch := []string{
		`{"type":"track","userId":"ann","event":"Export","properties":{"format":"csv","rows":12}}`,
		`{"type":"track","userId":"bob","event":"Export","properties":{"format":"pdf"}}`,
		`{"type":"track","userId":"ann","event":"Order Completed","properties":{"revenue":42.5}}`,
		`{"type":"page","userId":"bob","name":"Pricing","properties":{"path":"/pricing"}}`,
	}
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)

	// The Events page, from the navigation: counts, users, properties.
	d.click("Events")
	d.waitPath(site + "/events")
	row := `document.querySelector('tr[data-event="Export"]')`
	d.waitFor("Export's row", row+` && `+row+`.querySelectorAll('td.num')[0].textContent === '2' && `+
		row+`.querySelectorAll('td.num')[1].textContent === '2'`)
	if d.str(`document.querySelector('main tbody tr').dataset.event`) != "Export" {
		t.Error("the most frequent event is not listed first")
	}
	d.click("Show 2 properties")
	d.waitFor("Export's properties", `document.querySelector('tr.subrow tr[data-key="format"]') && `+
		`/csv/.test(document.querySelector('tr.subrow tr[data-key="format"] .samples').textContent)`)
	d.shot("events")
	d.choose("Show", 0, "page")
	d.waitFor("the page views", `document.querySelector('tr[data-event="Pricing"][data-kind="page"]') && !document.querySelector('tr[data-event="Export"]')`)

	// The builder completes event names from the catalog.
	d.open(site + "/segments/new")
	d.choose("Add a condition", 0, "event")
	// Most frequent first, track events only.
	d.waitFor("the event field completing Export and Order Completed", `(function () { var l = window.__control('Event name').list;
		return l && Array.prototype.map.call(l.options, function (o) { return o.value }).join('|') === 'Export|Order Completed' })()`)
	// The wrong case: a warning with the right name, and the size still
	// shows; one click uses the name.
	d.fill("Event name", "export")
	d.waitFor("the warning", `/did you mean "Export"\?/.test((document.querySelector('.cond .warnings') || {}).textContent || '') && `+
		`(document.querySelector('#live-size') || {dataset: {}}).dataset.size === '0' && !document.querySelector('.preview.stale')`)
	if d.str(`document.querySelector('.cond .warnings').getAttribute('role')`) != "status" || d.str(`String(!!document.querySelector('.cond-invalid'))`) != "false" {
		t.Error("the warning is shown as an error")
	}
	d.shot("builder-event-warning")
	d.click("Use Export")
	d.waitFor("no warning and two users", `!document.querySelector('.warnings') && !document.querySelector('.preview.stale') && `+
		`(document.querySelector('#live-size') || {dataset: {}}).dataset.size === '2'`)
	// A property filter completes the event's keys, then the key's values.
	d.click("+ property filter")
	d.waitFor("the property field completing format and rows", `(function () { var l = window.__control('Property name').list;
		return l && Array.prototype.map.call(l.options, function (o) { return o.value }).join('|') === 'format|rows' })()`)
	d.fill("Property name", "format")
	d.waitFor("the values of format", `(function () { var l = window.__control('Property value').list;
		return l && Array.prototype.map.call(l.options, function (o) { return o.value }).join('|') === 'csv|pdf' })()`)
	d.fill("Property value", "csv")
	d.waitFor("one user exported a CSV", `!document.querySelector('.preview.stale') && (document.querySelector('#live-size') || {dataset: {}}).dataset.size === '1'`)
	d.fill("Property name", "Format")
	d.waitFor("the property's warning", `/no property "Format".*did you mean "format"\?/.test((document.querySelector('.cond .warnings') || {}).textContent || '')`)

	// The text form lists the warning with its position.
	d.click("Text")
	d.waitFor("the text warning", `/line 1, column \d+: event "Export" has had no property "Format"/.test((document.querySelector('#definition-panel .warnings') || {}).textContent || '')`)

	// The recordings filter completes names and warns about an unknown one.
	d.open(site + "/recordings?event=export")
	d.waitFor("the recordings' warning", `/did you mean "Export"\?/.test((document.querySelector('#recordings-warnings') || {}).textContent || '')`)
	d.waitFor("the recordings' event field completing two names", `window.__control('Custom event').list && window.__control('Custom event').list.options.length === 2`)
	d.shot("recordings-event-warning")
	d.click("Show Export")
	d.waitFor("the filter corrected", `new URLSearchParams(location.search).get('event') === 'Export' && !document.querySelector('#recordings-warnings') && window.__control('Custom event').value === 'Export'`)
	d.clean()
}
