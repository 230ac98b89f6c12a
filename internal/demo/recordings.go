package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/store"
)

// rrweb event types and incremental sources (rrweb's EventType,
// IncrementalSource and MouseInteractions enums).
const (
	rrFullSnapshot = 2
	rrIncremental  = 3
	rrMeta         = 4

	srcMutation    = 0
	srcMouseMove   = 1
	srcInteraction = 2
	srcScroll      = 3
	srcInput       = 5

	mouseUp   = 0
	mouseDown = 1
	click     = 2
)

// rrEvent is one rrweb event.
type rrEvent struct {
	Type      int   `json:"type"`
	Data      any   `json:"data"`
	Timestamp int64 `json:"timestamp"`
}

// pagesPerChunk is how many page loads share a chunk: the recorder sends
// every few seconds, but fewer, larger chunks keep the demo quick to load.
const pagesPerChunk = 4

// recordingStats counts the recordings made.
type recordingStats struct {
	Recordings, Chunks int
	BytesRaw           int64
}

// fillRecordings makes recordings of up to n recent sessions, frustrated
// ones first (a third of them at most), and stores them as uploads are.
func (f *filler) fillRecordings(ctx context.Context, n int) (recordingStats, error) {
	var st recordingStats
	var frustrated, calm []*sessionFact
	for i := range f.obs.sessions {
		sf := &f.obs.sessions[i]
		evs := f.obs.recent[sf.id]
		if len(evs) < 2 || sf.end-sf.start < 20_000 {
			continue
		}
		if sf.rage+sf.dead+sf.errs > 0 || abandonedCart(evs) {
			frustrated = append(frustrated, sf)
		} else {
			calm = append(calm, sf)
		}
	}
	f.r.Shuffle(len(frustrated), func(i, j int) { frustrated[i], frustrated[j] = frustrated[j], frustrated[i] })
	f.r.Shuffle(len(calm), func(i, j int) { calm[i], calm[j] = calm[j], calm[i] })
	chosen := frustrated[:min(len(frustrated), n/3)]
	chosen = append(chosen, calm[:min(len(calm), n-len(chosen))]...)
	recs := make([]recording.ImportedRecording, 0, len(chosen))
	for _, sf := range chosen {
		p := f.obs.people[sf.user]
		rec := recording.ImportedRecording{BrowserSession: browserSession(sf.id), AnonymousID: p.anonID,
			UserID: p.userID}
		var err error
		if rec.Chunks, err = f.recordSession(sf, f.obs.recent[sf.id]); err != nil {
			return st, err
		}
		for _, c := range rec.Chunks {
			st.BytesRaw += int64(len(c.Events))
		}
		st.Chunks += len(rec.Chunks)
		recs = append(recs, rec)
	}
	if err := f.svc.Recordings.Import(ctx, f.svc.DB, f.site, recs); err != nil {
		return st, err
	}
	st.Recordings = len(recs)
	return st, nil
}

// viewport is the window size of a device type.
func viewport(device string) (w, h int) {
	switch device {
	case "mobile":
		return 390, 844
	case "tablet":
		return 820, 1180
	}
	return 1440, 900
}

// recorder builds one session's rrweb events.
type recorder struct {
	r      *rand.Rand
	events []rrEvent
	page   builtPage
	x, y   int   // where the mouse is
	scroll int   // how far the page is scrolled
	loaded int64 // ms: when the page was loaded; its events come after
	until  int64 // ms: when the next page loads; its events come before
	end    int64 // ms: nothing after the session's end
}

// add appends an event at time at, kept between the page's load and the
// session's end; an incremental event that would fall after the next page
// loaded is left out, since it aims at this page's nodes.
func (rc *recorder) add(typ int, at int64, data any) {
	if typ == rrIncremental {
		if at = max(at, rc.loaded+2); at >= rc.until {
			return
		}
	}
	rc.events = append(rc.events, rrEvent{Type: typ, Data: data, Timestamp: min(at, rc.end)})
}

// recordSession turns a session's events into rrweb chunks: a Meta event
// and a full snapshot at each page view, then the mouse moving to and
// clicking what each event was about (several times for a rage click),
// typing in forms, scrolling, and the DOM changing (a toast after an
// action, an error banner after an error), until the next page view.
func (f *filler) recordSession(sf *sessionFact, evs []event) ([]recording.ImportedChunk, error) {
	w, h := viewport(sf.device)
	rc := &recorder{r: f.r, end: sf.end, x: w / 2, y: h / 2}
	var chunks []recording.ImportedChunk
	var pageURLs []string
	loads := 0
	flush := func() error {
		if len(rc.events) == 0 {
			return nil
		}
		slices.SortStableFunc(rc.events, func(a, b rrEvent) int { return int(a.Timestamp - b.Timestamp) })
		b, err := json.Marshal(rc.events)
		if err != nil {
			return fmt.Errorf("encode a demo recording: %w", err)
		}
		chunks = append(chunks, recording.ImportedChunk{Seq: len(chunks), URL: pageURLs[0],
			Start: time.UnixMilli(rc.events[0].Timestamp), End: time.UnixMilli(rc.events[len(rc.events)-1].Timestamp),
			Events: b})
		rc.events, pageURLs = nil, nil
		return nil
	}
	for i, e := range evs {
		if e.kind == store.KindPage || i == 0 {
			if loads > 0 && loads%pagesPerChunk == 0 {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			loads++
			rc.until = sf.end + 1
			for _, n := range evs[i+1:] {
				if n.kind == store.KindPage {
					rc.until = n.at
					break
				}
			}
			rc.load(e, w, h)
			pageURLs = append(pageURLs, e.url)
			if e.kind == store.KindPage {
				continue
			}
		}
		next := sf.end
		if i+1 < len(evs) {
			next = evs[i+1].at
		}
		rc.act(e, next)
		if i+1 < len(evs) && evs[i+1].kind == store.KindPage {
			rc.navigate(evs[i+1])
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return chunks, nil
}

// load starts a page: Meta, then the full snapshot of the page built for
// its URL.
func (rc *recorder) load(e event, w, h int) {
	rc.page = buildPage(e.url, e.path, pageTitle(e))
	rc.scroll, rc.loaded = 0, e.at
	rc.add(rrMeta, e.at, map[string]any{"href": e.url, "width": w, "height": h})
	rc.add(rrFullSnapshot, e.at+1, map[string]any{"node": rc.page.doc,
		"initialOffset": map[string]int{"top": 0, "left": 0}})
}

// pageTitle names a page from its path: "/invoices/new" → "Invoices new".
func pageTitle(e event) string {
	name := e.name
	if e.kind != store.KindPage || name == "" {
		name = e.path
	}
	return name + " · demo"
}

// act records what the visitor did for event e, before the next event at
// next.
func (rc *recorder) act(e event, next int64) {
	t := rc.page.targets
	switch e.name {
	case store.EventRageClick:
		tg := rc.aim("action", e)
		rc.moveTo(tg, e.at-900)
		for k := range 4 + rc.r.IntN(4) {
			rc.click(tg, e.at+int64(k)*160)
		}
	case store.EventDeadClick:
		tg, ok := t["dead"]
		if !ok {
			tg = rc.aim("action", e)
		}
		rc.moveTo(tg, e.at-700)
		rc.click(tg, e.at)
	case store.EventError:
		rc.errorBanner(e.at)
	case store.EventUTurn:
		rc.scrollBy(e.at-500, 200)
	default:
		if in, ok := t["input"]; ok && rc.r.Float64() < 0.6 {
			rc.moveTo(in, e.at-4000)
			rc.click(in, e.at-3600)
			for k := range 3 {
				rc.add(rrIncremental, e.at-3000+int64(k)*600, map[string]any{"source": srcInput,
					"text": "*****"[:2+k], "isChecked": false, "id": in.id})
			}
		}
		tg := rc.aim("action", e)
		rc.moveTo(tg, e.at-600)
		rc.click(tg, e.at)
		rc.toast(e.at+300, e.name)
	}
	// Scroll a little before the next thing happens.
	if gap := next - e.at; gap > 4000 {
		rc.scrollBy(e.at+1500+rc.r.Int64N(min(gap-3000, 20_000)), 150+rc.r.IntN(300))
	}
}

// navigate clicks the link to the next page when the page has one.
func (rc *recorder) navigate(next event) {
	if tg, ok := rc.page.targets["nav:"+next.path]; ok {
		rc.moveTo(tg, next.at-700)
		rc.click(tg, next.at-300)
	}
}

// aim returns the target called name on the page, or its scroll target,
// or the middle of the page.
func (rc *recorder) aim(name string, e event) target {
	if tg, ok := rc.page.targets[name]; ok {
		return tg
	}
	if tg, ok := rc.page.targets["scroll"]; ok {
		return tg
	}
	return target{id: 1, x: 600, y: 300}
}

// moveTo moves the mouse to tg, arriving at time at, in one MouseMove
// event whose positions are offsets before it, as rrweb batches them.
func (rc *recorder) moveTo(tg target, at int64) {
	const steps = 5
	var pos []map[string]int
	for k := 1; k <= steps; k++ {
		x := rc.x + (tg.x-rc.x)*k/steps + rc.r.IntN(7) - 3
		y := rc.y + (tg.y-rc.y)*k/steps + rc.r.IntN(7) - 3
		pos = append(pos, map[string]int{"x": x, "y": y, "id": tg.id, "timeOffset": (k - steps) * 80})
	}
	rc.x, rc.y = tg.x, tg.y
	rc.add(rrIncremental, at, map[string]any{"source": srcMouseMove, "positions": pos})
}

// click presses and releases the mouse on tg at time at.
func (rc *recorder) click(tg target, at int64) {
	for k, typ := range []int{mouseDown, mouseUp, click} {
		rc.add(rrIncremental, at+int64(k)*40, map[string]any{"source": srcInteraction, "type": typ, "id": tg.id,
			"x": tg.x, "y": tg.y})
	}
}

// scrollBy scrolls the document down by dy at time at.
func (rc *recorder) scrollBy(at int64, dy int) {
	rc.scroll += dy
	rc.add(rrIncremental, at, map[string]any{"source": srcScroll, "id": 1, "x": 0, "y": rc.scroll})
}

// toast shows a confirmation that the action was done, and removes it.
func (rc *recorder) toast(at int64, what string) {
	body := rc.bodyID()
	id := rc.page.nextID
	rc.page.nextID += 2
	n := &node{kind: nodeElement, tag: "div", attrs: map[string]string{"class": "toast"}, id: id,
		children: []*node{{kind: nodeText, text: what + " ✓", id: id + 1}}}
	rc.add(rrIncremental, at, mutation(nil, []map[string]any{{"parentId": body, "nextId": nil, "node": n}}))
	rc.add(rrIncremental, at+2500, mutation([]map[string]int{{"parentId": body, "id": id}}, nil))
}

// errorBanner shows the error the page hit.
func (rc *recorder) errorBanner(at int64) {
	parent := rc.bodyID()
	if tg, ok := rc.page.targets["widget"]; ok {
		parent = tg.id
	}
	id := rc.page.nextID
	rc.page.nextID += 2
	n := &node{kind: nodeElement, tag: "div", attrs: map[string]string{"class": "error", "role": "alert"}, id: id,
		children: []*node{{kind: nodeText, text: "Something went wrong. Please try again.", id: id + 1}}}
	rc.add(rrIncremental, at, mutation(nil, []map[string]any{{"parentId": parent, "nextId": nil, "node": n}}))
}

// bodyID is the ID of the page's body element.
func (rc *recorder) bodyID() int {
	html := rc.page.doc.children[1]
	return html.children[1].id
}

func mutation(removes []map[string]int, adds []map[string]any) map[string]any {
	if removes == nil {
		removes = []map[string]int{}
	}
	if adds == nil {
		adds = []map[string]any{}
	}
	return map[string]any{"source": srcMutation, "texts": []any{}, "attributes": []any{}, "removes": removes,
		"adds": adds}
}
