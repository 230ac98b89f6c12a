package server_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// checkSurveyPages uses the dashboard's survey and feedback pages after
// TestSurveyWidgetAndFeedbackTabInChromium answered the survey and sent
// feedback: the list, the results with ann's answer, the builder (a
// validation error beside its field, then a launch) and the feedback list.
func checkSurveyPages(t *testing.T, s *testServer, id string) {
	t.Helper()
	d := newDashboard(t, s.base)
	site := "/s/" + s.site
	d.signUpOwner(s)

	// The list: status, responses and NPS.
	d.click("Surveys")
	d.waitPath(site + "/surveys")
	row := fmt.Sprintf(`document.querySelector('tr[data-survey=%q]')`, id)
	d.waitFor("the survey's row", row+` && `+row+`.querySelector('[data-nps]').textContent === '-100'`)
	// The status badge sits level with the middle of the row (its name
	// and links take two lines), not at its top.
	off := d.str(`(function () { var r = ` + row + `.getBoundingClientRect(), b = ` + row + `.querySelector('.badge').getBoundingClientRect();
		return String(Math.abs((b.top + b.bottom) / 2 - (r.top + r.bottom) / 2)) })()`)
	if f, err := strconv.ParseFloat(off, 64); err != nil || f > 3 {
		t.Errorf("the status badge is %s px off the row's middle", off)
	}
	d.shot("surveys")

	// Results: NPS, distributions, ann's text answer with her profile and
	// the recording of the visit she answered in (the site records).
	_, body := s.call(t, store.ScopeRead, "GET", "/surveys/"+id+"/responses", "")
	var recording string
	for _, r := range body["responses"].([]any) {
		if m := r.(map[string]any); m["user_id"] == "ann" {
			recording, _ = m["recording_id"].(string)
		}
	}
	if recording == "" {
		t.Fatalf("ann's response names no recording: %v", body)
	}
	d.click("Exporters NPS")
	d.waitPath(site + "/surveys/" + id + "/results")
	d.waitFor("the NPS", `document.querySelector('[data-nps-score]') && document.querySelector('[data-nps-score]').textContent === '-100'`)
	d.waitFor("the score distribution", `document.querySelector('[data-question="score"] tr[data-bar="3"] td.num').textContent.indexOf('1') === 0`)
	d.waitFor("the text answer", `Array.prototype.some.call(document.querySelectorAll('[data-question="more"] td.answer-text'), function (td) { return td.textContent === 'Exports time out' })`)
	links := d.str(`Array.prototype.map.call(document.querySelectorAll('[data-question="more"] tbody a'), function (a) { return a.getAttribute('href') }).join(' ')`)
	if want := site + "/users/ann " + site + "/recordings/" + recording; links != want {
		t.Errorf("the answer links to %q, want %q", links, want)
	}
	d.do("compare the exporters", js(`Array.prototype.find.call(document.querySelectorAll('.breakdown label'), function (l) { return l.textContent.trim() === 'exporters' }).querySelector('input').click()`))
	d.waitFor("the exporters' NPS", `document.querySelector('.breakdown tr[data-segment] td:last-child') && document.querySelector('.breakdown tr[data-segment] td:last-child').textContent === '-100'`)
	if href := d.str(`document.querySelector('.export-menu a[download]').getAttribute('href')`); href != "/api/v1/sites/"+s.site+"/surveys/"+id+"/responses.csv" {
		t.Errorf("the CSV export links to %q", href)
	}
	d.shot("survey-results")

	// The builder: a second question without a prompt is refused, with
	// the error beside that question's prompt; fixed, the survey launches.
	d.open(site + "/surveys/new")
	d.fill("Name", "Checkout survey")
	d.click("Add a question")
	d.click("Save as draft")
	d.waitFor("the error beside the prompt", `document.querySelector('fieldset[data-q="1"] .field-invalid .field-error')`)
	if label := d.str(`document.querySelector('fieldset[data-q="1"] .field-invalid label').textContent`); label != "Question" {
		t.Errorf("the error is beside %q, want the second question's prompt", label)
	}
	d.do("write the prompt", js(`(function (c) { c.focus(); })(document.querySelector('fieldset[data-q="1"] input'))`))
	d.do("type", chromedp.SendKeys(chromedp.CSS(`fieldset[data-q="1"] input`), "What almost stopped you?"))
	d.choose("Segment", 0, "text")
	d.fill("Segment definition", `nps_group() = "detractor" or feedback_rating(30d) <= 2`)
	d.choose("Trigger", 0, "event")
	d.fill("Event name", "checkout_done")
	d.waitFor("the preview", `document.querySelector('.preview-title').textContent.indexOf('How likely') === 0`)
	d.shot("survey-builder")
	d.click("Launch")
	d.waitFor("the survey live", `document.querySelector('[data-status="live"]')`)
	d.waitPath(site + "/surveys/srv_")
	d.clean()

	// The segment builder edits the new conditions in place (no "edit
	// this condition in the text editor" fallback) and counts ann.
	seg := s.saveSegment(t, "unhappy", fmt.Sprintf(`answer(%q, "why") in ("Price", "Bugs") and feedback_rating(30d) <= 2 or nps_group() = "detractor"`, id))
	d.open(site + "/segments/" + seg)
	d.waitFor("the builder", `document.querySelectorAll('.cond-body').length >= 3`)
	if n := d.str(`String(document.querySelectorAll('.cond-body .note').length)`); n != "0" {
		t.Errorf("%s conditions fell back to the text editor", n)
	}
	values := d.str(`Array.prototype.map.call(document.querySelectorAll('.cond-body input, .cond-body select'), function (c) { return c.value }).join('|')`)
	for _, want := range []string{id, "why", "Price, Bugs", "detractor", "2"} {
		if !strings.Contains(values, want) {
			t.Errorf("the builder's controls %q lack %q", values, want)
		}
	}
	d.shot("segment-builder-surveys")

	// Feedback: the tab's item, with its page, element and user.
	d.open(site + "/feedback")
	d.waitFor("bob's feedback", `Array.prototype.some.call(document.querySelectorAll('.feedback-list tbody tr'), function (tr) {
		return tr.textContent.indexOf('Prices are hidden') >= 0 && tr.textContent.indexOf('/app/pricing') >= 0 && tr.textContent.indexOf('#buy') >= 0 && tr.textContent.indexOf('bob') >= 0 })`)
	d.waitFor("the average", `document.querySelector('[data-average]').textContent === '2.00'`)
	d.shot("feedback")
	d.choose("Rating", 0, "5")
	d.waitFor("no 5-star feedback", `document.querySelector('.empty-title') && document.querySelector('.empty-title').textContent === 'No feedback matches'`)
	d.clean()
}
