package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Heatmap data with a story, as the tracker would have sent it on two
// pages in the last 30 days, drawn over the pages the demo's recordings
// show:
//
//   - Fernhill's home page: its six product tiles and "Show more". VIPs
//     (and other customers who spent 500 or more) click the first two
//     tiles, the dearest, far more than the rest, who click the cheaper
//     ones and "Show more";
//   - Ledgerly's /reports: the chart looks clickable and is not. Trial
//     users click it far more than paying ones (who go for Export), so
//     comparing "plan = trial" with everyone else marks it, and its dead
//     clicks (the generator's, given here the place the tracker sends)
//     make it the page's dead-click hot spot.
//
// The observer enriches the page views of those pages with the viewport
// and a page view ID, and keeps them; fillHeatmaps then adds their clicks
// and scroll depths, once every person's attributes are known, as late
// events that their sessions count.

// heatPage is a page of the story.
type heatPage struct {
	host, path string
	height     int // the page's height, px (its fold is the viewport's)
}

var heatPages = []heatPage{{"fernhill", "/", 1500}, {"app.ledgerly", "/reports", 1300}}

// heatView is a page view of a story page.
type heatView struct {
	user, session int64
	at            time.Time
	url, path     string
	vw, vh        int
	pv            string
}

// heatPageOf returns the story page of a message's page, or nil.
func heatPageOf(m *store.Message) *heatPage {
	for i := range heatPages {
		if m.Page.Path == heatPages[i].path && strings.Contains(m.Page.URL, heatPages[i].host) {
			return &heatPages[i]
		}
	}
	return nil
}

// withProps returns a JSON object with extra members added.
func withProps(props string, extra map[string]any) string {
	m := map[string]any{}
	if props != "" {
		_ = json.Unmarshal([]byte(props), &m) // the generator's own JSON
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("BUG: demo heatmap properties: %v", err))
	}
	return string(b)
}

// heat enriches a message of a story page within the heatmap window: a
// page view gets its viewport and page view ID, and is kept; a dead or
// rage click gets the place the tracker would send.
func (o *observer) heat(user, session int64, m *store.Message, device string) {
	if m.Timestamp.UnixMilli() < o.heatFrom || heatPageOf(m) == nil {
		return
	}
	w, h := viewport(device)
	switch {
	case m.Kind == store.KindPage:
		v := heatView{user: user, session: session, at: m.Timestamp, url: m.Page.URL, path: m.Page.Path, vw: w, vh: h,
			pv: fmt.Sprintf("demo-pv-%d-%d", session, len(o.heatViews))}
		m.Properties = withProps(m.Properties, map[string]any{"viewport_width": w, "viewport_height": h, "pageview_id": v.pv})
		o.heatViews = append(o.heatViews, v)
	case m.Kind == store.KindTrack && (m.Name == store.EventDeadClick || m.Name == store.EventRageClick):
		pv := ""
		if n := len(o.heatViews); n > 0 && o.heatViews[n-1].session == session {
			pv = o.heatViews[n-1].pv
		}
		o.heatSignals++
		var p struct {
			Selector string `json:"selector"`
		}
		_ = json.Unmarshal([]byte(m.Properties), &p) // the generator's own JSON
		// The generator writes "a > b"; the tracker "a>b", which the
		// clicks on the same element carry.
		m.Properties = withProps(m.Properties, map[string]any{"viewport_width": w, "pageview_id": pv,
			"selector": strings.ReplaceAll(p.Selector, " > ", ">"),
			"offset_x": 0.3 + 0.4*frac(o.heatSignals, 0.618), "offset_y": 0.3 + 0.4*frac(o.heatSignals, 0.414)})
	}
}

// frac is a spread of numbers in [0, 1) without a random source.
func frac(n int, step float64) float64 {
	_, f := math.Modf(float64(n) * step)
	return f
}

// heatTarget is an element visitors click, with its selector as the
// tracker writes it and where it is on the demo's page.
type heatTarget struct {
	selector string
	x, y     int
}

// Fernhill's home page (shopBody's default content).
var shopTiles = func() []heatTarget {
	var t []heatTarget
	for i := range 6 {
		t = append(t, heatTarget{fmt.Sprintf("body>main>div>div.grid>div.product:nth-of-type(%d)", i+1), 200 + 220*(i%3), 300 + 200*(i/3)})
	}
	return append(t, heatTarget{"body>main>div>button", 700, 760})
}()

// Ledgerly's /reports (appContent).
var reportTargets = []heatTarget{
	{"#report>div.chart", 700, 300},
	{"#main>section.content>button", 330, 470},
	{"#main>div.topbar>button.primary", 1300, 60},
	{"#app>aside.sidebar>nav>a:nth-of-type(2)", 110, 136},
	{"#app>aside.sidebar>nav>a:nth-of-type(1)", 110, 96},
}

// fillHeatmaps adds the clicks and scroll depths of the kept page views.
func (f *filler) fillHeatmaps() {
	o := f.obs
	for i, v := range o.heatViews {
		p := o.people[v.user]
		var targets []heatTarget
		var weights []float64
		if v.path == "/" {
			targets = shopTiles
			weights = []float64{1, 1, 2, 3, 4, 4, 2.5}
			if p != nil && (p.vip || p.ltv >= 500) {
				weights = []float64{7, 6, 1, 1, 0.5, 0.5, 0.5}
			}
		} else {
			targets = reportTargets
			weights = []float64{1, 4, 1, 1, 1}
			if p != nil && p.plan == "trial" {
				weights = []float64{6, 1, 1, 1, 1}
			}
		}
		clicks := 0
		switch x := f.r.Float64(); {
		case x < 0.25:
			clicks = 0
		case x < 0.75:
			clicks = 1
		case x < 0.93:
			clicks = 2
		default:
			clicks = 3
		}
		at := v.at
		for c := range clicks {
			tg := targets[pick(f.r.Float64(), weights)]
			ox, oy := 0.2+0.6*f.r.Float64(), 0.2+0.6*f.r.Float64()
			at = at.Add(time.Duration(2+f.r.IntN(20)) * time.Second)
			f.heatEvent(v, store.EventClick, at, fmt.Sprintf("demo-hm-%d-%d", i, c), map[string]any{
				"selector": tg.selector, "tag": "div", "offset_x": round3(ox), "offset_y": round3(oy),
				"page_x": scaleX(tg.x, v.vw), "page_y": tg.y, "viewport_width": v.vw, "viewport_height": v.vh, "pageview_id": v.pv})
		}
		page := heatPages[0]
		if v.path != "/" {
			page = heatPages[1]
		}
		bottom := v.vh + int(f.r.Float64()*f.r.Float64()*float64(page.height))
		depth := min(100, int(math.Round(float64(bottom)*100/float64(page.height))))
		f.heatEvent(v, store.EventScroll, at.Add(5*time.Second), fmt.Sprintf("demo-hm-%d-s", i), map[string]any{
			"depth": depth, "depth_px": min(bottom, page.height), "page_height": page.height, "pageview_id": v.pv,
			"viewport_width": v.vw, "viewport_height": v.vh})
	}
}

// heatEvent adds one tracker event to a kept page view's session.
func (f *filler) heatEvent(v heatView, name string, at time.Time, id string, props map[string]any) {
	b, err := json.Marshal(props)
	if err != nil {
		panic(fmt.Sprintf("BUG: demo heatmap event: %v", err))
	}
	f.bulk.LateEvent(v.user, v.session, &store.Message{SiteID: f.site, Kind: store.KindTrack, Name: name, MessageID: id,
		Timestamp: at, ReceivedAt: at, Properties: string(b), Page: store.Page{URL: v.url, Path: v.path}})
}

// pick returns the index x (in [0, 1)) falls on among weights.
func pick(x float64, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	x *= sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// scaleX places a desktop page's x on a narrower viewport.
func scaleX(x, vw int) int { return x * vw / 1440 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
