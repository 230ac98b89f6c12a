package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// TestNegatedSegmentTrendInChromium opens a negated segment in the
// dashboard: the headline size, the size in the segments list and the
// last point of the trend chart must be one number, the live size
// counted by the API. Its users include one loaded in bulk with no
// message, whom `not` must count at every point since it was created.
func TestNegatedSegmentTrendInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := startServerWithBulkUser(t, "old-timer", time.Now().UTC().AddDate(0, 0, -40))
	ago := func(days int) string {
		return time.Now().UTC().AddDate(0, 0, -days).Format(time.RFC3339)
	}
	msgs := []string{
		fmt.Sprintf(`{"type":"identify","userId":"ann","traits":{"beta":true},"timestamp":%q,"messageId":"a1"}`, ago(5)),
		fmt.Sprintf(`{"type":"identify","userId":"bob","traits":{"beta":false},"timestamp":%q,"messageId":"b1"}`, ago(5)),
		fmt.Sprintf(`{"type":"track","userId":"cy","event":"Export","timestamp":%q,"messageId":"c1"}`, ago(3)),
	}
	if code, body := s.send(t, "/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`); code != 200 {
		t.Fatalf("batch: %d %v", code, body)
	}
	body, _ := json.Marshal(map[string]string{"name": "Not beta", "text": "not beta = true"})
	code, saved := s.call(t, store.ScopeWrite, "POST", "/segments", string(body))
	if code != 201 {
		t.Fatalf("save: %d %v", code, saved)
	}
	id := saved["id"].(string)
	// bob, cy and old-timer.
	const live = 3
	if n := s.segmentSizes(t, id, "not beta = true")["segment"]; n != live {
		t.Fatalf("the API's size = %d, want %d", n, live)
	}

	d := newDashboard(t, s.base)
	d.signUpOwner(s)

	d.open("/s/" + s.site + "/segments")
	d.waitFor("the list's size", fmt.Sprintf(`document.querySelector('td[data-size="%d"]')`, live))
	d.open("/s/" + s.site + "/segments/" + id)
	d.waitFor("the headline size and the trend's last point", fmt.Sprintf(`(document.querySelector('#live-size') || {dataset: {}}).dataset.size === '%d' && `+
		`!!document.querySelector('figure.chart [role=img]') && `+
		`document.querySelector('figure.chart [role=img]').getAttribute('aria-label').endsWith(', %d on %s')`,
		live, live, time.Now().UTC().Format(time.DateOnly)))
	d.shot("negated-trend")
	d.clean()
}
