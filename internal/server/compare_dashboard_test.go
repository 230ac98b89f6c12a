package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/store"
)

// TestCompareInChromium compares the pro users with everyone else on the
// Compare page (onboarding not completed ranks near the top, flagged
// significant; the rows link to recordings and become segments), then
// reads the onboarding experiment on the Experiments page (B's
// completion significant, the other goal not, the user who saw both
// variants reported) and creates one with the form.
func TestCompareInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	seedCompare(t, s)
	code, seg := s.call(t, store.ScopeWrite, "POST", "/segments", `{"name": "Pro users", "text": "plan = \"pro\""}`)
	if code != 201 {
		t.Fatalf("save segment: %d %v", code, seg)
	}
	code, exp := s.call(t, store.ScopeWrite, "POST", "/experiments", `{"name": "Onboarding v2",
		"source": {"kind": "event", "experiment": "onboarding_v2"}, "variants": [{"name": "A"}, {"name": "B"}],
		"start": "2020-01-01T00:00:00Z", "goals": [{"event": "Setup Done"}, {"event": "Open"}]}`)
	if code != 201 {
		t.Fatalf("save experiment: %d %v", code, exp)
	}
	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)

	d.click("Compare")
	d.waitPath(site + "/compare")
	d.choose("Segment", 0, seg["id"].(string))
	row := `document.querySelector('tr[data-kind="attribute"][data-key="onboarding_completed"][data-value="false"]')`
	d.waitFor("the onboarding row, significant", row+` && `+row+`.classList.contains('sig')`)
	d.waitFor("the group sizes", `document.querySelector('tr[data-metric="users"]').textContent.indexOf('60') >= 0`)
	var rank int
	d.eval(`Array.prototype.indexOf.call(document.querySelectorAll('table.compare-rows tbody tr'), `+row+`)`, &rank)
	if rank < 0 || rank >= 5 {
		t.Errorf("onboarding_completed = false ranks %d on the page, want among the first 5", rank+1)
	}
	if href := d.str(row + `.querySelector('a').getAttribute('href')`); !strings.Contains(href, "/recordings?text=") {
		t.Errorf("the row's first link is %q, want the recordings behind it", href)
	}
	if href := d.str(`Array.prototype.find.call(document.querySelectorAll('a'), function (a) { return a.textContent === 'Export CSV' }).getAttribute('href')`); !strings.Contains(href, "format=csv") {
		t.Errorf("Export CSV links to %q", href)
	}
	d.shot("compare")
	// Significant only hides the rest; a row becomes a segment.
	d.do("significant only", js(`document.querySelector('#cmp-sig').click()`))
	d.waitFor("only significant rows", `Array.prototype.every.call(document.querySelectorAll('table.compare-rows tbody tr'), function (r) { return r.classList.contains('sig') })`)
	d.do("save the onboarding row", js(row+`.querySelector('button').click()`))
	d.waitFor("the new segment", `/^\/s\/[^/]+\/segments\/seg_/.test(location.pathname)`)
	code, list := s.call(t, store.ScopeRead, "GET", "/segments", "")
	if code != 200 || !strings.Contains(fmt.Sprint(list), "onboarding_completed = false") {
		t.Errorf("the saved segments do not hold the row's: %v", list)
	}

	d.click("Experiments")
	d.waitPath(site + "/experiments")
	d.click("Onboarding v2")
	d.waitPath(site + "/experiments/" + exp["id"].(string))
	goal := func(name, variant string) string {
		return fmt.Sprintf(`document.querySelector('.goal[data-goal=%q] tr[data-variant=%q]')`, name, variant)
	}
	d.waitFor("B significant on Setup Done", goal("Setup Done", "B")+` && `+goal("Setup Done", "B")+`.dataset.significant === 'true'`)
	if d.str(goal("Open", "B")+`.dataset.significant`) != "false" {
		t.Error("Open is flagged significant")
	}
	if text := d.str(`document.querySelector('#exposure-notes').textContent`); !strings.Contains(text, "p 0.927. 1 user saw more than one variant and counts in none.") {
		t.Errorf("exposure notes: %q", text)
	}
	if !strings.Contains(d.str(goal("Setup Done", "A")+`.textContent`), "20.0%") {
		t.Errorf("control conversion: %q", d.str(goal("Setup Done", "A")+`.textContent`))
	}
	d.shot("experiment")

	// A new experiment from the form: the variant from an attribute.
	d.click("Experiments")
	d.click("New experiment")
	d.fill("Name", "Plans")
	d.choose("Variant comes from", 0, "attribute")
	d.fill("Attribute", "plan")
	d.fill("Variants", "free, pro")
	d.fill("Control", "free")
	d.fill("Start", "01012020")
	d.fill("Goal events", "Export")
	d.click("Create experiment")
	d.waitFor("the new experiment's results", goal("Export", "pro")+` && `+goal("Export", "pro")+`.dataset.significant === 'true'`)
	d.clean()
}
