package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestExperimentLiftAtTheEdges reads an experiment whose goals sit at
// the edges: every exposed user opened the app (both arms at 100%: the
// lift is 0 and its interval, corrected, has width, where Katz's own
// would be [0, 0]), and no one did "Never" (the control at 0%: no lift,
// said so, and the difference's interval instead).
func TestExperimentLiftAtTheEdges(t *testing.T) {
	s := startServer(t, nil)
	seedCompare(t, s)
	start := time.Now().UTC().Add(-7 * 24 * time.Hour).Format(time.RFC3339)
	code, created := s.call(t, store.ScopeWrite, "POST", "/experiments", fmt.Sprintf(`{"name": "Edges",
		"source": {"kind": "event", "experiment": "onboarding_v2"}, "variants": [{"name": "A"}, {"name": "B"}],
		"control": "A", "start": %q, "goals": [{"event": "Open"}, {"event": "Never"}]}`, start))
	if code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	code, out := s.call(t, store.ScopeRead, "GET", "/experiments/"+created["id"].(string)+"/results", "")
	if code != 200 {
		t.Fatalf("results: %d %v", code, out)
	}
	goals := out["results"].(map[string]any)["goals"].([]any)
	open := goals[0].(map[string]any)["arms"].([]any)[1].(map[string]any)
	in, _ := open["lift_interval"].(map[string]any)
	if open["rate"] != 1.0 || open["lift"] != 0.0 || open["lift_note"] != "corrected" || in == nil ||
		!(in["Low"].(float64) < 0 && in["High"].(float64) > 0) {
		t.Errorf("Open, both at 100%%: %v", open)
	}
	never := goals[1].(map[string]any)["arms"].([]any)[1].(map[string]any)
	diff, _ := never["diff_interval"].(map[string]any)
	if never["lift"] != nil || never["lift_interval"] != nil || never["lift_note"] != "control_zero" || diff == nil ||
		!(diff["Low"].(float64) < 0 && diff["High"].(float64) > 0) {
		t.Errorf("Never, both at 0%%: %v", never)
	}
}

// TestExperimentLiftAtTheEdgesInChromium shows the same experiment on
// its page: the corrected interval is marked, and the goal nobody
// reached shows the difference instead of a lift.
func TestExperimentLiftAtTheEdgesInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	seedCompare(t, s)
	code, created := s.call(t, store.ScopeWrite, "POST", "/experiments", `{"name": "Edges",
		"source": {"kind": "event", "experiment": "onboarding_v2"}, "variants": [{"name": "A"}, {"name": "B"}],
		"control": "A", "start": "2020-01-01T00:00:00Z", "goals": [{"event": "Open"}, {"event": "Never"}]}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open("/s/" + s.site + "/experiments/" + created["id"].(string))
	arm := func(goal string) string {
		return fmt.Sprintf(`document.querySelector('.goal[data-goal=%q] tr[data-variant="B"]')`, goal)
	}
	d.waitFor("both goals", arm("Open")+` && `+arm("Never"))
	if got := d.str(arm("Open") + `.querySelector('[data-lift-note]').textContent`); !strings.HasPrefix(got, "0.0% -") || !strings.Contains(got, " to +") || !strings.HasSuffix(got, "(corrected)") {
		t.Errorf("Open's lift: %q", got)
	}
	if got := d.str(arm("Never") + `.querySelector('[data-lift-note="control_zero"]').textContent`); !strings.HasPrefix(got, "no lift (control at 0%); difference 0.0% -") {
		t.Errorf("Never's lift: %q", got)
	}
	d.clean()
}

// TestExperimentVariantLinksInChromium follows a variant's links on the
// experiment's page: its users (the segment editor on the variant's
// segment, counting them), its heatmaps (filtered by that segment) and
// a survey's answers from its users (the results filtered by the
// segment written out, which the API takes as segment_text).
func TestExperimentVariantLinksInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	seedCompare(t, s)
	code, created := s.call(t, store.ScopeWrite, "POST", "/experiments", `{"name": "Onboarding",
		"source": {"kind": "event", "experiment": "onboarding_v2"}, "variants": [{"name": "A"}, {"name": "B"}],
		"control": "A", "start": "2020-01-01T00:00:00Z", "goals": [{"event": "Setup Done"}]}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	code, sv := s.call(t, store.ScopeWrite, "POST", "/surveys", npsSurvey(`{}`))
	if code != 201 {
		t.Fatalf("survey: %d %v", code, sv)
	}
	surveyID := sv["id"].(string)
	if code, out := s.call(t, store.ScopeRead, "GET", "/surveys/"+surveyID+"/results?segment_text=plan%20%3D", ""); code != 400 || cmpField(out) != "segment_text" {
		t.Fatalf("a bad segment_text: %d %v", code, out)
	}
	site := "/s/" + s.site
	exp := site + "/experiments/" + created["id"].(string)
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open(exp)
	link := func(label string) string { return fmt.Sprintf(`document.querySelector('a[aria-label=%q]')`, label) }
	d.waitFor("the variant's links", link("Users of variant B")+` && `+link("Answers to NPS from variant B"))
	if href := d.str(link("Heatmaps of variant B") + `.getAttribute('href')`); !strings.Contains(href, "/heatmaps?text=") || !strings.Contains(href, "onboarding_v2") {
		t.Errorf("heatmaps link: %q", href)
	}
	segB := d.str(`document.querySelector('tr[data-variant="B"] code').textContent`)
	d.do("answers of B", js(link("Answers to NPS from variant B")+`.click()`))
	d.waitPath(site + "/surveys/" + surveyID + "/results")
	d.waitFor("the answers filtered by B's segment", `document.querySelector('[data-testid="segment-text-filter"] code') && document.querySelector('[data-testid="segment-text-filter"] code').textContent === `+jsString(segB))
	d.clean()
	d.open(exp)
	d.waitFor("the variant's links", link("Users of variant A"))
	d.do("users of A", js(link("Users of variant A")+`.click()`))
	d.waitPath(site + "/segments/new")
	// seedCompare: 60 users saw A first, and u1 saw A after B. The
	// variant's segment (the one its recordings link uses too) is
	// everyone who saw A, u1 included: 61, where the results count 60
	// (u1, exposed twice, counts in neither).
	d.waitFor("the users of A", `document.querySelector('#live-size') && document.querySelector('#live-size').dataset.size === '61'`)
	d.clean()
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }
