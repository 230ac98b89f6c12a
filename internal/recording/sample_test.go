package recording

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// This file (a test file of the package, so its exported names exist
// only for the package's tests, internal and external) makes a representative rrweb recording of a typical app page,
// in rrweb's event format, for tests and benchmarks: a full snapshot of
// about 200 DOM nodes with an inlined stylesheet, then a minute of what a
// user does there (mouse moves sampled as rrweb does, clicks, scrolls,
// masked typing, and the DOM mutations an app makes: rows re-rendered,
// classes toggled, a toast shown and removed).

// rrweb's incremental sources.
const (
	srcMutation    = 0
	srcMouseMove   = 1
	srcInteraction = 2
	srcScroll      = 3
	srcInput       = 5
)

type node = map[string]any

// sampleBuilder gives DOM nodes their rrweb IDs.
type sampleBuilder struct {
	next int
	rng  *rand.Rand
	ids  []int // element IDs, to aim interactions at
}

func (b *sampleBuilder) id() int { b.next++; return b.next }

func (b *sampleBuilder) el(tag string, attrs map[string]any, children ...node) node {
	if attrs == nil {
		attrs = map[string]any{}
	}
	if children == nil {
		children = []node{}
	}
	id := b.id()
	b.ids = append(b.ids, id)
	return node{"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children, "id": id}
}

func (b *sampleBuilder) text(s string) node { return node{"type": 3, "textContent": s, "id": b.id()} }

var words = strings.Fields(`account billing invoice project report dashboard export settings team member
	plan usage monthly annual revenue customer order status pending active archived review draft`)

func (b *sampleBuilder) phrase(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = words[b.rng.IntN(len(words))]
	}
	return strings.Join(w, " ")
}

// css is a stylesheet of the size a typical app inlines (about 15 KB).
func (b *sampleBuilder) css() string {
	var sb strings.Builder
	for i := 0; sb.Len() < 15_000; i++ {
		fmt.Fprintf(&sb, ".%s-%d{display:flex;padding:%dpx %dpx;margin:0 auto;color:#%06x;background:#%06x;border-radius:%dpx;font:14px/1.4 system-ui,sans-serif}",
			words[i%len(words)], i, b.rng.IntN(24), b.rng.IntN(24), b.rng.IntN(1<<24), b.rng.IntN(1<<24), b.rng.IntN(8))
	}
	return sb.String()
}

func (b *sampleBuilder) row(i int) node {
	cells := []node{}
	for c := 0; c < 4; c++ {
		cells = append(cells, b.el("td", map[string]any{"class": "cell"}, b.text(b.phrase(2))))
	}
	return b.el("tr", map[string]any{"class": "row", "data-id": fmt.Sprint(i)}, cells...)
}

// snapshot builds the page: about 200 nodes.
func (b *sampleBuilder) snapshot() node {
	nav := []node{}
	for i := 0; i < 8; i++ {
		nav = append(nav, b.el("li", nil, b.el("a", map[string]any{"href": "/" + words[i], "class": "nav-link"}, b.text(words[i]))))
	}
	rows := []node{}
	for i := 0; i < 16; i++ {
		rows = append(rows, b.row(i))
	}
	form := []node{}
	for i := 0; i < 4; i++ {
		form = append(form, b.el("label", nil, b.text(words[i+4])),
			b.el("input", map[string]any{"type": "text", "name": words[i+4], "value": "****"}))
	}
	head := b.el("head", nil,
		b.el("meta", map[string]any{"charset": "utf-8"}),
		b.el("title", nil, b.text("Acme — Dashboard")),
		b.el("style", map[string]any{"_cssText": b.css()}))
	body := b.el("body", map[string]any{"class": "app"},
		b.el("header", map[string]any{"class": "top"}, b.el("ul", map[string]any{"class": "nav"}, nav...)),
		b.el("main", map[string]any{"class": "content"},
			b.el("h1", nil, b.text("Dashboard")),
			b.el("p", map[string]any{"class": "lead"}, b.text(b.phrase(12))),
			b.el("table", map[string]any{"class": "grid"}, b.el("tbody", nil, rows...)),
			b.el("form", map[string]any{"class": "filters"}, form...),
			b.el("button", map[string]any{"class": "btn primary", "id": "export"}, b.text("Export"))))
	html := b.el("html", map[string]any{"lang": "en"}, head, body)
	return node{"type": 0, "childNodes": []node{{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": b.id()}, html}, "id": b.id()}
}

// SampleEvents returns rrweb events for minutes of use of the page,
// starting at startMS.
func SampleEvents(seed uint64, startMS int64, minutes int) []json.RawMessage {
	b := &sampleBuilder{rng: rand.New(rand.NewPCG(seed, 1))}
	var out []json.RawMessage
	add := func(ts int64, typ int, data any) {
		e, err := json.Marshal(map[string]any{"type": typ, "data": data, "timestamp": ts})
		if err != nil {
			panic(err)
		}
		out = append(out, e)
	}
	add(startMS, 4, map[string]any{"href": "https://app.example.com/dashboard", "width": 1440, "height": 900})
	add(startMS+1, 2, map[string]any{"node": b.snapshot(), "initialOffset": map[string]any{"left": 0, "top": 0}})
	end := startMS + int64(minutes)*60_000
	x, y := 700, 400
	for t := startMS + 500; t < end; t += 500 {
		// Mouse moves: rrweb samples every 50 ms and flushes every 500 ms.
		var pos []map[string]any
		for i := 0; i < 10; i++ {
			x = min(max(x+b.rng.IntN(41)-20, 0), 1439)
			y = min(max(y+b.rng.IntN(41)-20, 0), 899)
			pos = append(pos, map[string]any{"x": x, "y": y, "id": b.ids[b.rng.IntN(len(b.ids))], "timeOffset": -450 + 50*i})
		}
		add(t, 3, map[string]any{"source": srcMouseMove, "positions": pos})
		switch r := b.rng.IntN(100); {
		case r < 8: // a click: down, up, click
			id := b.ids[b.rng.IntN(len(b.ids))]
			for _, typ := range []int{1, 0, 2} {
				add(t+int64(typ), 3, map[string]any{"source": srcInteraction, "type": typ, "id": id, "x": x, "y": y})
			}
		case r < 20:
			add(t+10, 3, map[string]any{"source": srcScroll, "id": 1, "x": 0, "y": b.rng.IntN(2000)})
		case r < 28: // masked typing
			add(t+20, 3, map[string]any{"source": srcInput, "text": strings.Repeat("*", 1+b.rng.IntN(12)), "isChecked": false,
				"id": b.ids[b.rng.IntN(len(b.ids))]})
		case r < 36: // hover and focus styles
			add(t+30, 3, map[string]any{"source": srcMutation, "texts": []any{}, "removes": []any{}, "adds": []any{},
				"attributes": []any{map[string]any{"id": b.ids[b.rng.IntN(len(b.ids))], "attributes": map[string]any{"class": "row " + words[b.rng.IntN(len(words))]}}}})
		case r < 40: // the table re-renders a few rows
			var adds, removes []any
			for i := 0; i < 3; i++ {
				removes = append(removes, map[string]any{"parentId": 50, "id": b.ids[b.rng.IntN(len(b.ids))]})
				adds = append(adds, map[string]any{"parentId": 50, "nextId": nil, "node": b.row(i)})
			}
			add(t+40, 3, map[string]any{"source": srcMutation, "texts": []any{}, "attributes": []any{}, "removes": removes, "adds": adds})
		case r < 42: // a toast appears
			add(t+50, 3, map[string]any{"source": srcMutation, "texts": []any{}, "attributes": []any{}, "removes": []any{},
				"adds": []any{map[string]any{"parentId": 3, "nextId": nil, "node": b.el("div", map[string]any{"class": "toast"}, b.text(b.phrase(6)))}}})
		}
	}
	return out
}

// ChunkBody is the JSON body of one upload.
func ChunkBody(recording, anon, user string, seq int, events []json.RawMessage) []byte {
	var start, end int64
	for i, e := range events {
		var ev struct {
			Timestamp int64 `json:"timestamp"`
		}
		json.Unmarshal(e, &ev)
		if i == 0 || ev.Timestamp < start {
			start = ev.Timestamp
		}
		end = max(end, ev.Timestamp)
	}
	body, err := json.Marshal(map[string]any{"recording": recording, "anonymousId": anon, "userId": user, "seq": seq,
		"start": start, "end": end, "url": "https://app.example.com/dashboard", "events": events})
	if err != nil {
		panic(err)
	}
	return body
}

// SplitEvents cuts events into chunks of every ms of time, as the
// recorder flushes.
func SplitEvents(events []json.RawMessage, every int64) [][]json.RawMessage {
	var out [][]json.RawMessage
	var cur []json.RawMessage
	var first int64
	for _, e := range events {
		var ev struct {
			Timestamp int64 `json:"timestamp"`
		}
		json.Unmarshal(e, &ev)
		if len(cur) > 0 && ev.Timestamp-first >= every {
			out = append(out, cur)
			cur = nil
		}
		if len(cur) == 0 {
			first = ev.Timestamp
		}
		cur = append(cur, e)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
