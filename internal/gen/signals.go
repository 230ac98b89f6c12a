package gen

import "github.com/sightline/sightline/internal/store"

// The browser tracker's frustration signals: after a page view the visitor
// sometimes rage-clicks, clicks something dead, hits a JavaScript error or
// turns straight back. Most pages rarely do; a few of Ledgerly's have a
// known problem, so that segments such as
// rage_clicks(30d, page = "/invoices/new") >= 1 find people.

// trouble is how often a page view produces each signal.
type trouble struct {
	rage, dead, errs, uTurn float64
	selector                string // the element clicked in vain
	message                 string // the error thrown
}

// troubleOf returns the signal rates of the page with path p.
func troubleOf(p string) trouble {
	t := trouble{rage: 0.006, dead: 0.012, errs: 0.003, uTurn: 0.008, selector: "main > button:nth-of-type(2)",
		message: "TypeError: Cannot read properties of undefined (reading 'id')"}
	switch p {
	case "/invoices/new": // the Send button waits for a slow PDF render
		t.rage, t.selector = 0.08, "#invoice-form > button.send"
	case "/reports": // the chart looks clickable and is not
		t.dead, t.selector = 0.09, "#report > div.chart"
	case "/banking": // the bank widget fails to load
		t.errs, t.message = 0.07, "Error: bank widget failed to load (timeout)"
	case "/pricing": // visitors glance at the prices and leave
		t.uTurn = 0.12
	// Fernhill, the shop model:
	case "/checkout/payment": // the Pay button waits for the card check
		t.rage, t.selector = 0.12, "#payment > button.pay"
	case "/cart": // the coupon field calls a service that times out
		t.errs, t.message = 0.05, "Error: coupon service unavailable (504)"
	}
	return t
}

// addSignals maybe adds signal events after a view of page p; prev is the
// page before it (for a u-turn back to it), nil when p is the first.
func (g *generator) addSignals(p, prev *page) {
	r := g.r
	t := troubleOf(p.path)
	if r.Float64() < t.rage {
		g.addTrack(p, store.EventRageClick, g.obj().str("selector", t.selector).
			num("clicks", float64(3+r.IntN(6))).num("page_x", float64(200+r.IntN(800))).
			num("page_y", float64(150+r.IntN(600))).end())
	}
	if r.Float64() < t.dead {
		g.addTrack(p, store.EventDeadClick, g.obj().str("selector", t.selector).
			num("page_x", float64(200+r.IntN(800))).num("page_y", float64(150+r.IntN(600))).end())
	}
	if r.Float64() < t.errs {
		g.addTrack(p, store.EventError, g.obj().str("message", t.message).
			str("source", p.url).num("line", float64(1+r.IntN(400))).num("column", float64(1+r.IntN(80))).end())
	}
	if prev != nil && prev != p && r.Float64() < t.uTurn {
		g.addTrack(prev, store.EventUTurn, g.obj().str("from_path", p.path).str("to_path", prev.path).
			num("seconds", float64(1+r.IntN(5))).end())
	}
}
