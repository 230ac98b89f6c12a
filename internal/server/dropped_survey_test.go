package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestDroppedUsersSurveyInChromium computes a funnel on the Insights
// page and, from the step where one user dropped, creates a survey
// targeting them: a draft (nothing is shown to anyone until it goes
// live) whose segment is the saved funnel's dropped users, opened in the
// survey builder.
func TestDroppedUsersSurveyInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	at := time.Now().UTC().AddDate(0, 0, -1).Truncate(time.Hour)
	var msgs []string
	for i, e := range []struct{ user, event string }{{"ann", "view"}, {"ann", "buy"}, {"bob", "view"}} {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","userId":%q,"event":%q,"timestamp":%q}`,
			e.user, e.event, at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339)))
	}
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)
	d.open(site + "/insights")
	d.click("Funnel")
	d.fill("Step 1", `did("view")`)
	d.fill("Step 2", `did("buy")`)
	d.choose("Range", 0, "7")
	d.click("Compute")
	d.click("Ask them in a survey")
	d.waitFor("the survey builder", `/^\/s\/[^/]+\/surveys\/[^/]+$/.test(location.pathname) && location.pathname.indexOf('/new') < 0`)
	id := d.str(`location.pathname.split('/').pop()`)
	code, sv := s.call(t, store.ScopeRead, "GET", "/surveys/"+id, "")
	if code != 200 {
		t.Fatalf("the survey: %d %v", code, sv)
	}
	text := fmt.Sprint(sv)
	if sv["status"] != "draft" || !strings.Contains(text, `funnel_step("ins_`) {
		t.Fatalf("the survey is not a draft targeting the dropped users: %v", sv)
	}
	start := strings.Index(text, `funnel_step("`)
	cond := text[start : start+strings.Index(text[start:], " = 1")+4]
	if n := previewText(t, s, cond); n != 1 {
		t.Errorf("%s selects %d users, want bob alone", cond, n)
	}
	d.clean()
}
