package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sightline/sightline/internal/store"
)

// TestSurveyPagesInChromium uses the survey results filtered by a segment
// and an NPS group (the numbers are the API's, the text answers show
// their score), the export's columns, the builder's preview beside the
// questions (under them on a phone), colours written as hex, and the
// feedback tab's settings at the top of the feedback page.
func TestSurveyPagesInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s, _ := startSurveyServer(t)
	var batch []string
	scores := []int{0, 3, 6, 7, 8, 9, 10, 10, 2, 9, 5, 8}
	for i := range scores {
		batch = append(batch, fmt.Sprintf(`{"type":"identify","userId":"u%02d","anonymousId":"anon-u%02d","traits":{"plan":%q}}`,
			i, i, []string{"pro", "free"}[i%2]))
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(batch, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	pro := s.saveSegment(t, "pro", `plan = "pro"`)
	id := s.createSurvey(t, `{"name": "Ledger NPS", "questions": [
		{"id": "score", "type": "nps", "prompt": "How likely are you to recommend us?", "required": true},
		{"id": "why", "type": "text", "prompt": "Why?"}]}`, true)
	for i, sc := range scores {
		body := fmt.Sprintf(`{"survey":%q,"response":"resp-u%02d-0001","anonymousId":"anon-u%02d","userId":"u%02d","sessionId":"ses-%d",
			"url":"https://app.example.com/app","answers":{"score":%d,"why":"because %d"},"completed":true}`, id, i, i, i, i, sc, i)
		if code, e := s.answer(t, s.writeKey, body); code != 200 {
			t.Fatalf("answer: %d %s", code, e)
		}
	}
	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.do("a desktop's width", chromedp.EmulateViewport(1400, 900))

	// Results for pro detractors: the API's numbers, and each text answer
	// with its score.
	d.open(site + "/surveys/" + id + "/results")
	d.waitFor("the results", `document.querySelector('[data-stat="responses"]') && document.querySelector('[data-stat="responses"]').textContent === '12'`)
	d.choose("Respondents in segment", 0, pro)
	d.choose("NPS group", 0, "detractor")
	var api struct {
		Results struct{ Responses int }
	}
	s.getJSON(t, "/surveys/"+id+"/results?"+url.Values{"segment": {pro}, "nps_group": {"detractor"}}.Encode(), &api)
	var list struct {
		Responses []struct {
			NPS int `json:"nps"`
		} `json:"responses"`
	}
	s.getJSON(t, "/surveys/"+id+"/responses?"+url.Values{"segment": {pro}, "nps_group": {"detractor"}}.Encode(), &list)
	if api.Results.Responses != 4 || len(list.Responses) != 4 { // u00 (0), u02 (6), u08 (2), u10 (5)
		t.Fatalf("the API's pro detractors: %d results, %d responses; want 4", api.Results.Responses, len(list.Responses))
	}
	d.waitFor("the filtered numbers", fmt.Sprintf(`document.querySelector('[data-stat="responses"]').textContent === '%d' && `+
		`document.querySelectorAll('[data-question="why"] tbody tr').length === %d`, api.Results.Responses, len(list.Responses)))
	var shown []string
	d.eval(`Array.prototype.map.call(document.querySelectorAll('[data-question="why"] tbody tr'), function (tr) {
		return tr.querySelector('td.answer-score').dataset.score + ':' + tr.querySelector('td.answer-text').textContent })`, &shown)
	if got := strings.Join(shown, " "); len(shown) != 4 || !strings.Contains(got, "0:because 0") || !strings.Contains(got, "6:because 2") ||
		!strings.Contains(got, "2:because 8") || !strings.Contains(got, "5:because 10") {
		t.Errorf("the text answers with their scores: %q", got)
	}
	d.shot("results-filtered")
	// The export carries the filters and the chosen columns.
	d.do("open the export", js(`document.querySelector('.export-menu summary').click()`))
	d.waitFor("the column chooser", `document.querySelector('.export-menu[open]')`)
	d.do("keep user ID, NPS score and the answer", js(`Array.prototype.forEach.call(document.querySelectorAll('.export-columns input'), function (c) {
		var keep = ['user ID', 'NPS score', 'answer: Why?'].indexOf(c.labels[0].textContent) >= 0; if (c.checked !== keep) c.click(); })`))
	link := d.str(`document.querySelector('.export-menu a[download]').getAttribute('href')`)
	var exported string
	d.eval(fmt.Sprintf(`fetch(%q).then(r => r.text())`, link), &exported)
	rows := strings.Split(strings.TrimSpace(exported), "\n")
	if len(rows) != 5 || rows[0] != "user_id,nps,why" || !strings.Contains(exported, "u02,6,because 2") {
		t.Errorf("the filtered export %s:\n%s", link, exported)
	}
	d.do("close the export", js(`document.querySelector('.export-menu').open = false`))
	d.choose("Respondents in segment", 0, "")
	d.choose("NPS group", 0, "")
	d.waitFor("everyone again", `document.querySelector('[data-stat="responses"]').textContent === '12'`)

	// The builder: the preview beside the questions, and still in view
	// when the page scrolls to the targeting.
	d.open(site + "/surveys/new")
	d.fill("Name", "Checkout survey")
	var layout struct {
		Questions, Preview struct{ Left, Right, Top, Bottom float64 }
	}
	rect := func(sel string) string {
		return `(function (r) { return {left: r.left, right: r.right, top: r.top, bottom: r.bottom} })(document.querySelector('` + sel + `').getBoundingClientRect())`
	}
	d.eval(`{questions: `+rect(`fieldset[data-q="0"]`)+`, preview: `+rect(`.survey-preview-card`)+`}`, &layout)
	if layout.Preview.Left < layout.Questions.Right || layout.Preview.Top > layout.Questions.Bottom {
		t.Errorf("at 1400 px the preview is not beside the questions: questions %+v, preview %+v", layout.Questions, layout.Preview)
	}
	d.do("scroll to the targeting", js(`document.querySelector('.builder-bottom .actions').scrollIntoView()`))
	var inView bool
	d.eval(`(function (r) { return r.top >= 0 && r.top < innerHeight })(document.querySelector('.survey-preview-card').getBoundingClientRect())`, &inView)
	if !inView {
		t.Error("the preview scrolled out of view with the form")
	}
	d.shot("builder-1400")

	// Colours as hex: #0af is #00aaff to the picker and the preview;
	// what is not a colour is refused beside its field.
	d.fill("Background colour", "#0af")
	d.waitFor("the picker and the preview in #00aaff", `document.querySelector('input[aria-label="Background colour (picker)"]').value === '#00aaff' && `+
		`getComputedStyle(document.querySelector('.preview-box')).backgroundColor === 'rgb(0, 170, 255)'`)
	d.fill("Text colour", "#12345")
	d.do("leave the field", js(`window.__control('Name').focus()`))
	d.waitFor("the error beside Text colour", `(function (f) { return f.classList.contains('field-invalid') && /not a colour/.test(f.querySelector('.field-error').textContent) })(window.__control('Text colour').closest('.field'))`)
	d.fill("Text colour", "fff")
	d.waitFor("the error gone", `!window.__control('Text colour').closest('.field').classList.contains('field-invalid') && document.querySelector('input[aria-label="Text colour (picker)"]').value === '#ffffff'`)
	d.click("Save as draft")
	d.waitPath(site + "/surveys/srv_")
	var saved struct {
		Definition struct {
			Appearance struct{ Background, Text string }
		}
	}
	s.getJSON(t, "/surveys/"+strings.TrimPrefix(d.str(`location.pathname`), site+"/surveys/"), &saved)
	if a := saved.Definition.Appearance; a.Background != "#0af" || a.Text != "#fff" {
		t.Errorf("saved colours: %+v, want #0af and #fff", a)
	}

	// A phone: the preview under the appearance, nothing wider than the screen.
	d.do("a phone's width", chromedp.EmulateViewport(390, 844))
	d.open(site + "/surveys/new")
	var phone struct {
		Width               int
		Appearance, Preview struct{ Top, Bottom float64 }
	}
	d.eval(`{width: document.documentElement.scrollWidth, appearance: `+rect(`.appearance`)+`, preview: `+rect(`.survey-preview-card`)+`}`, &phone)
	if phone.Width > 390 || phone.Preview.Top < phone.Appearance.Bottom {
		t.Errorf("at 390 px: page %d px wide, appearance %+v, preview %+v", phone.Width, phone.Appearance, phone.Preview)
	}
	d.shot("builder-390")

	// Feedback: the tab's settings are a tab at the top of the page.
	d.do("a desktop's width", chromedp.EmulateViewport(1400, 900))
	d.open(site + "/feedback")
	d.waitFor("the tab's state", `/off/.test(document.querySelector('#feedback-tab-settings').textContent)`)
	d.click("Turn it on in the tab settings")
	d.waitFor("the settings", `document.querySelector('#feedback-panel form') && location.hash === '#settings'`)
	var top float64
	d.eval(`document.querySelector('#feedback-panel form').getBoundingClientRect().top`, &top)
	if top > 400 {
		t.Errorf("the settings start %.0f px down the page", top)
	}
	d.do("turn the tab on", js(`window.__control('Show the feedback tab on the site\'s pages').click()`))
	d.fill("Accent colour", "#0af")
	d.waitFor("the accent's picker", `document.querySelector('input[aria-label="Accent colour (picker)"]').value === '#00aaff'`)
	d.fill("Background colour", "navy")
	d.click("Save settings")
	d.waitFor("the refusal beside Background colour", `window.__control('Background colour').closest('.field').classList.contains('field-invalid')`)
	d.fill("Background colour", "#ffffff")
	d.click("Save settings")
	d.waitFor("saved", `/Saved/.test(document.querySelector('main').textContent)`)
	_, body := s.get(t, store.ScopeRead, "/feedback-settings")
	if body["accent"] != "#0af" || body["enabled"] != true {
		t.Errorf("saved feedback settings: %v", body)
	}
	d.do("reload on #settings", chromedp.Reload())
	d.waitFor("the settings again", `document.querySelector('#feedback-panel form') && /on/.test(document.querySelector('#feedback-tab-settings').textContent)`)
	d.shot("feedback-settings")
	d.clean()
}
