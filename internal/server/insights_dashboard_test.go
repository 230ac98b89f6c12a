package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestInsightsInChromium uses the Insights page: a funnel built step by
// step with its numbers in the table, the users who dropped at a step
// opened as recordings (the funnel saved on the way) and saved as a
// segment, a trend with an annotation drawn on its chart and listed
// beside it, and a retention table.
func TestInsightsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServer(t, nil)
	at := time.Now().UTC().AddDate(0, 0, -1).Truncate(time.Hour)
	var msgs []string
	track := func(user, event string, minutes int) {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","userId":%q,"event":%q,"timestamp":%q}`,
			user, event, at.Add(time.Duration(minutes)*time.Minute).Format(time.RFC3339)))
	}
	track("ann", "view_product", 0)
	track("ann", "add_to_cart", 5)
	track("ann", "checkout", 15)
	track("bob", "view_product", 0)
	track("bob", "add_to_cart", 20)
	track("cy", "view_product", 0)
	if code, out := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, out)
	}
	req, _ := http.NewRequest("POST", s.base+"/api/v1/sites/"+s.site+"/annotations",
		strings.NewReader(fmt.Sprintf(`{"date":%q,"text":"new pricing page"}`, at.Format(time.DateOnly))))
	req.SetBasicAuth(s.writeKey, "")
	if code, out := do(t, req); code != 201 {
		t.Fatalf("annotation: %d %v", code, out)
	}
	site := "/s/" + s.site
	d := newDashboard(t, s.base)
	d.signUpOwner(s)

	d.click("Insights")
	d.waitPath(site + "/insights")
	d.click("Funnel")
	d.fill("Step 1", `did("view_product")`)
	d.fill("Step 2", `did("add_to_cart")`)
	d.click("Add a step")
	d.fill("Step 3", `did("checkout")`)
	d.choose("Range", 0, "7")
	d.click("Compute")
	users := `Array.prototype.map.call(document.querySelectorAll('[data-testid="funnel-table-0"] td[data-users]'), function (c) { return c.dataset.users }).join(' ')`
	d.waitFor("the funnel's users 3 2 1", users+` === '3 2 1'`)
	d.shot("funnel")

	// The one who dropped at step 2 (cy): recordings of them, the funnel
	// saved so that funnel_step can name it.
	d.click("Recordings of the 1 who dropped")
	d.waitPath(site + "/recordings")
	text := d.str(`new URLSearchParams(location.search).get('text') || ''`)
	if !strings.HasPrefix(text, `funnel_step("ins_`) || !strings.HasSuffix(text, `") = 1`) {
		t.Fatalf("recordings filtered by %q, want funnel_step(…) = 1", text)
	}
	code, body := s.get(t, store.ScopeRead, "/insights")
	if list, _ := body["insights"].([]any); code != 200 || len(list) != 1 {
		t.Fatalf("the funnel was not saved: %d %v", code, body)
	}
	id := body["insights"].([]any)[0].(map[string]any)["id"].(string)
	code, body = s.call(t, store.ScopeRead, "POST", "/segments/preview", fmt.Sprintf(`{"text":"funnel_step(\"%s\") = 1"}`, id))
	if code != 200 || fmt.Sprint(body["size"]) != "1" {
		t.Fatalf("the dropped users as a segment: %d %v", code, body)
	}

	// The saved funnel opens from the page's list; its drop-offs save as a segment.
	d.open(site + "/insights")
	d.click(`Funnel: did("view_product") → did("add_to_cart") → did("checkout") (funnel)`)
	d.waitFor("the saved funnel computed", users+` === '3 2 1'`)
	d.click("Save as segment")
	d.waitPath(site + "/segments/seg_")

	// A trend with the annotation on its chart and in its legend.
	d.open(site + "/insights")
	d.fill("Series 1: what to count", `did("add_to_cart")`)
	d.choose("Range", 0, "7")
	d.click("Compute")
	d.waitFor("the trend's table and the annotation", `document.querySelector('[data-testid="trend-table"] tfoot td') && `+
		`document.querySelector('[data-testid="trend-table"] tfoot td').textContent === '2' && `+
		`document.querySelector('.insight-chart [data-annotations="1"]') && `+
		`/new pricing page/.test(document.querySelector('.insight-annotations').textContent)`)
	d.shot("trend")

	// Retention of everyone, by day.
	d.click("Retention")
	d.choose("Periods of", 0, "day")
	d.click("Compute")
	d.waitFor("the retention table", `document.querySelector('[data-testid="retention-table-0"] tbody tr:nth-child(2)')`)
	d.shot("retention")
	d.clean()
}
