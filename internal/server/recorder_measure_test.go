package server_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// TestRecordingSizeInChromium measures what a minute of recording costs:
// Chromium uses the app page (a form, a table, navigation) for a minute —
// moving the mouse, scrolling, opening orders, typing, going from page to
// page — and the test reports the rrweb JSON the recorder sent and the
// zstd bytes stored for it. It takes over a minute, so it runs only with
// SIGHTLINE_MEASURE=1:
//
//	SIGHTLINE_MEASURE=1 go test -run TestRecordingSizeInChromium -v ./internal/server
func TestRecordingSizeInChromium(t *testing.T) {
	if os.Getenv("SIGHTLINE_MEASURE") == "" {
		t.Skip("a minute of recording: set SIGHTLINE_MEASURE=1 to measure")
	}
	s := startRecServer(t, nil)
	pages := newPageServer(t)
	site := recSite(t, s, "Measured", pages.URL)
	pages.serve(appPage(s.base, site.writeKey))
	b := newBrowser(t)
	run(t, b, "open the app", chromedp.Navigate(pages.URL+"/app/orders"), loaded())
	waitRecorder(t, b)
	run(t, b, "identify", js(`sightline('identify', 'measured', {plan: 'pro'})`))
	rng := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/app/orders", "/app/billing", "/app/settings"}
	start := time.Now()
	for step := 0; time.Since(start) < time.Minute; step++ {
		// A person's second: the mouse wanders, and now and then they act.
		x, y := 100+rng.Float64()*800, 100+rng.Float64()*500
		for i := range 10 {
			run(t, b, "move", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x+float64(i*8), y+float64(i*3)), chromedp.Sleep(80*time.Millisecond))
		}
		switch step % 6 {
		case 1:
			run(t, b, "scroll", js(fmt.Sprintf(`window.scrollTo(0, %d)`, rng.IntN(600))))
		case 2:
			run(t, b, "open an order", js(fmt.Sprintf(`document.querySelectorAll('.open')[%d].click()`, rng.IntN(30))))
		case 3:
			run(t, b, "type a note", chromedp.Click(chromedp.CSS("#notes")), chromedp.SendKeys(chromedp.CSS("#notes"), "needs a call back "))
		case 5:
			if step%18 == 17 {
				run(t, b, "another page", chromedp.Navigate(pages.URL+paths[(step/18)%len(paths)]), loaded(), js(`window.__slRecorder`))
			}
		}
	}
	run(t, b, "leave", chromedp.Navigate("about:blank"), chromedp.Sleep(2*time.Second))
	var rec map[string]any
	eventually(t, "the recording", func() bool {
		rows := site.listRecordings(t, "")
		if len(rows) == 1 {
			rec = rows[0]
		}
		return rec != nil
	})
	minutes := rec["duration_seconds"].(float64) / 60
	stored, raw := rec["bytes_stored"].(float64), rec["bytes_raw"].(float64)
	t.Logf("a %.1f-minute recording of %v pages in %v chunks: rrweb JSON %.0f KB (%.0f KB a minute), stored %.1f KB (%.1f KB a minute, zstd), ratio %.1f×",
		minutes, rec["pages"], rec["chunks"], raw/1024, raw/1024/minutes, stored/1024, stored/1024/minutes, raw/stored)

	// Opening it in the player: the first time (nothing cached), then again.
	d := ownerDashboard(t, s.base)
	player := "/s/" + site.site + "/recordings/" + rec["id"].(string)
	d.firstFrame(player)
	d.firstFrame(player)
}
