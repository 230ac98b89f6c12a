package demo

import (
	"encoding/json"
	"strconv"
	"strings"
)

// rrweb's serialized DOM, as its recorder writes a full snapshot: a tree
// of nodes, each with an ID the incremental events refer to.
const (
	nodeDocument = 0
	nodeDoctype  = 1
	nodeElement  = 2
	nodeText     = 3
)

// node is one serialized DOM node.
type node struct {
	kind     int
	tag      string
	attrs    map[string]string
	children []*node
	text     string
	id       int
}

// MarshalJSON writes the node in rrweb's serialized-node form: documents
// and elements always carry childNodes, elements their attributes.
func (n *node) MarshalJSON() ([]byte, error) {
	switch n.kind {
	case nodeDocument:
		return json.Marshal(struct {
			Type       int     `json:"type"`
			ChildNodes []*node `json:"childNodes"`
			ID         int     `json:"id"`
		}{n.kind, nonNil(n.children), n.id})
	case nodeDoctype:
		return json.Marshal(struct {
			Type     int    `json:"type"`
			Name     string `json:"name"`
			PublicID string `json:"publicId"`
			SystemID string `json:"systemId"`
			ID       int    `json:"id"`
		}{n.kind, "html", "", "", n.id})
	case nodeText:
		return json.Marshal(struct {
			Type        int    `json:"type"`
			TextContent string `json:"textContent"`
			ID          int    `json:"id"`
		}{n.kind, n.text, n.id})
	}
	attrs := n.attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return json.Marshal(struct {
		Type       int               `json:"type"`
		TagName    string            `json:"tagName"`
		Attributes map[string]string `json:"attributes"`
		ChildNodes []*node           `json:"childNodes"`
		ID         int               `json:"id"`
	}{n.kind, n.tag, attrs, nonNil(n.children), n.id})
}

func nonNil(c []*node) []*node {
	if c == nil {
		return []*node{}
	}
	return c
}

// dom builds one page's tree, numbering nodes as rrweb does (in document
// order from 1), and remembers the nodes that events aim at, with where
// they are on the page.
type dom struct {
	next    int
	targets map[string]target
}

// target is a node events aim at, and its centre on the page.
type target struct {
	id   int
	x, y int
}

// el makes an element. attrs alternate names and values.
func (d *dom) el(tag string, attrs []string, children ...*node) *node {
	n := &node{kind: nodeElement, tag: tag, children: children}
	if len(attrs) > 0 {
		n.attrs = map[string]string{}
		for i := 0; i+1 < len(attrs); i += 2 {
			n.attrs[attrs[i]] = attrs[i+1]
		}
	}
	return n
}

// txt makes a text node.
func (d *dom) txt(s string) *node { return &node{kind: nodeText, text: s} }

// mark remembers n as the target called name, centred at x, y.
func (d *dom) mark(name string, n *node, x, y int) *node {
	d.targets[name] = target{id: -1, x: x, y: y}
	n.attrs = withAttr(n.attrs, "data-demo-target", name)
	return n
}

func withAttr(a map[string]string, k, v string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	return a
}

// number gives every node of the tree its ID, in document order, and
// resolves the marked targets to IDs (their marker attribute removed).
func (d *dom) number(n *node) {
	d.next++
	n.id = d.next
	if name, ok := n.attrs["data-demo-target"]; ok {
		delete(n.attrs, "data-demo-target")
		t := d.targets[name]
		t.id = n.id
		d.targets[name] = t
	}
	for _, c := range n.children {
		d.number(c)
	}
}

// builtPage is a built page: its document and targets, and the next free node
// ID for nodes that mutations add.
type builtPage struct {
	doc     *node
	targets map[string]target
	nextID  int
}

// appCSS is the Ledgerly app's stylesheet, inlined as the recorder inlines
// stylesheets, so that the replay looks like the app.
const appCSS = `*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1f2937;background:#f8fafc}
.layout{display:flex;min-height:100vh}.sidebar{width:220px;background:#111827;color:#e5e7eb;padding:24px 16px}
.logo{font-weight:700;font-size:20px;margin-bottom:32px;color:#a5b4fc}.sidebar a{display:block;color:#d1d5db;
padding:10px 12px;border-radius:6px;text-decoration:none}.sidebar a.active{background:#374151;color:#fff}
main{flex:1;padding:24px 32px}.topbar{display:flex;justify-content:space-between;align-items:center;margin-bottom:24px}
h1{font-size:24px;margin:0}button{font:inherit;padding:8px 16px;border-radius:6px;border:1px solid #d1d5db;background:#fff}
button.primary,button.send,button.pay,button.add{background:#4f46e5;color:#fff;border-color:#4f46e5}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:10px;border-bottom:1px solid #e5e7eb}
.badge{padding:2px 8px;border-radius:10px;font-size:12px}.paid{background:#dcfce7}.overdue{background:#fee2e2}
.cards{display:flex;gap:16px}.card{flex:1;background:#fff;padding:16px;border-radius:8px;border:1px solid #e5e7eb}
.card b{display:block;font-size:22px}form label{display:block;margin:12px 0 4px}input,textarea{width:360px;padding:8px;
border:1px solid #d1d5db;border-radius:6px}.chart{display:flex;align-items:flex-end;gap:12px;height:240px;background:#fff;
padding:16px}.bar{width:40px;background:#818cf8}.toast{position:fixed;bottom:24px;right:24px;background:#111827;color:#fff;
padding:12px 16px;border-radius:8px}.error{background:#fee2e2;color:#991b1b;padding:12px;border-radius:6px}
.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:16px}.product{background:#fff;padding:12px;border-radius:8px}
.photo{height:160px;background:#e7e5e4;border-radius:6px}header.shop{display:flex;gap:24px;padding:16px 32px;background:#fff}`

// buildPage builds the page at url (path p, titled title): Ledgerly's app
// shell or marketing page, or a Fernhill shop page, with content that
// fits the path.
func buildPage(url, p, title string) builtPage {
	d := &dom{targets: map[string]target{}}
	var body *node
	switch {
	case strings.Contains(url, "fernhill"):
		body = d.shopBody(p, title)
	case strings.Contains(url, "//app."):
		body = d.appBody(p, title)
	default:
		body = d.siteBody(p, title)
	}
	html := d.el("html", []string{"lang", "en"},
		d.el("head", nil, d.el("meta", []string{"charset", "utf-8"}), d.el("title", nil, d.txt(title)),
			d.el("style", nil, d.txt(appCSS))),
		body)
	doc := &node{kind: nodeDocument, children: []*node{{kind: nodeDoctype}, html}}
	d.number(doc)
	return builtPage{doc: doc, targets: d.targets, nextID: d.next + 1}
}

var appNav = []struct{ path, name string }{{"/dashboard", "Dashboard"}, {"/invoices", "Invoices"},
	{"/expenses", "Expenses"}, {"/banking", "Banking"}, {"/reports", "Reports"}, {"/customers", "Customers"},
	{"/settings", "Settings"}}

// appBody is Ledgerly's app: a sidebar, a top bar and the page's content.
func (d *dom) appBody(p, title string) *node {
	var links []*node
	for i, l := range appNav {
		a := d.el("a", []string{"href", l.path}, d.txt(l.name))
		if strings.HasPrefix(p, l.path) {
			a.attrs["class"] = "active"
		}
		links = append(links, d.mark("nav:"+l.path, a, 110, 96+40*i))
	}
	name, _, _ := strings.Cut(title, " · ")
	content := d.appContent(p)
	return d.el("body", nil, d.el("div", []string{"id", "app", "class", "layout"},
		d.el("aside", []string{"class", "sidebar"}, d.el("div", []string{"class", "logo"}, d.txt("Ledgerly")),
			d.el("nav", nil, links...)),
		d.el("main", []string{"id", "main"},
			d.el("div", []string{"class", "topbar"}, d.el("h1", nil, d.txt(name)),
				d.mark("new", d.el("button", []string{"class", "primary"}, d.txt("New invoice")), 1300, 60)),
			content)))
}

var customers = []string{"Harbor Bakery", "Summit Builders", "Oak Studio", "River Dental", "Pine Logistics",
	"Copper Labs", "Maple Media", "Cedar Legal"}

// appContent is the main column of an app page.
func (d *dom) appContent(p string) *node {
	switch {
	case p == "/invoices":
		rows := []*node{d.el("tr", nil, d.el("th", nil, d.txt("Invoice")), d.el("th", nil, d.txt("Customer")),
			d.el("th", nil, d.txt("Amount")), d.el("th", nil, d.txt("Status")))}
		for i, c := range customers {
			status := "paid"
			if i%3 == 1 {
				status = "overdue"
			}
			rows = append(rows, d.el("tr", nil, d.el("td", nil, d.txt("INV-"+itoa(1042-i))), d.el("td", nil, d.txt(c)),
				d.el("td", nil, d.txt("$"+itoa(180+i*135)+".00")),
				d.el("td", nil, d.el("span", []string{"class", "badge " + status}, d.txt(status)))))
		}
		return d.el("section", []string{"class", "content"},
			d.el("div", []string{"class", "actions"},
				d.mark("input", d.el("input", []string{"type", "search", "placeholder", "Search invoices"}), 420, 130),
				d.mark("action", d.el("button", nil, d.txt("Export")), 700, 130)),
			d.mark("scroll", d.el("table", []string{"class", "invoices"}, d.el("tbody", nil, rows...)), 800, 360))
	case p == "/invoices/new" || strings.HasPrefix(p, "/onboarding/"):
		button := "Send invoice"
		if strings.HasPrefix(p, "/onboarding/") {
			button = "Continue"
		}
		return d.el("section", []string{"class", "content"},
			d.el("form", []string{"id", "invoice-form"},
				d.el("label", nil, d.txt("Customer")),
				d.mark("input", d.el("input", []string{"name", "customer", "type", "text"}), 420, 170),
				d.el("label", nil, d.txt("Amount")), d.el("input", []string{"name", "amount", "type", "text"}),
				d.el("label", nil, d.txt("Notes")), d.el("textarea", []string{"name", "notes"}),
				d.mark("action", d.el("button", []string{"class", "send", "type", "button"}, d.txt(button)), 330, 420)))
	case p == "/banking":
		return d.el("section", []string{"class", "content"},
			d.mark("widget", d.el("div", []string{"id", "bank-widget"}, d.txt("Loading transactions…")), 800, 200),
			d.mark("action", d.el("button", nil, d.txt("Reconcile")), 330, 300))
	case strings.HasPrefix(p, "/reports"):
		var bars []*node
		for i := range 8 {
			bars = append(bars, d.el("div", []string{"class", "bar", "style", "height:" + itoa(60+(i*37)%170) + "px"}))
		}
		return d.el("section", []string{"class", "content"},
			d.el("div", []string{"id", "report"}, d.mark("dead", d.el("div", []string{"class", "chart"}, bars...), 700, 300)),
			d.mark("action", d.el("button", nil, d.txt("Export")), 330, 470))
	case p == "/dashboard":
		card := func(label, value string) *node {
			return d.el("div", []string{"class", "card"}, d.txt(label), d.el("b", nil, d.txt(value)))
		}
		return d.el("section", []string{"class", "content"},
			d.mark("scroll", d.el("div", []string{"class", "cards"}, card("Revenue this month", "$12,480"),
				card("Outstanding", "$3,215"), card("Expenses", "$4,902")), 800, 160),
			d.mark("action", d.el("input", []string{"type", "search", "placeholder", "Search"}), 420, 260))
	}
	return d.el("section", []string{"class", "content"},
		d.mark("scroll", d.el("p", nil, d.txt("Manage your "+strings.Trim(p, "/")+" here.")), 600, 140),
		d.mark("action", d.el("button", nil, d.txt("Save")), 330, 220))
}

// siteBody is Ledgerly's marketing site.
func (d *dom) siteBody(p, title string) *node {
	name, _, _ := strings.Cut(title, " · ")
	return d.el("body", nil,
		d.el("header", []string{"class", "shop"}, d.el("b", nil, d.txt("Ledgerly")),
			d.mark("nav:/pricing", d.el("a", []string{"href", "/pricing"}, d.txt("Pricing")), 260, 30),
			d.mark("nav:/features", d.el("a", []string{"href", "/features"}, d.txt("Features")), 340, 30),
			d.mark("nav:/signup", d.el("a", []string{"href", "/signup"}, d.txt("Start free trial")), 1300, 30)),
		d.el("main", nil, d.el("h1", nil, d.txt(name)),
			d.mark("scroll", d.el("p", nil, d.txt("Accounting that small businesses actually enjoy.")), 600, 160),
			d.mark("action", d.el("button", []string{"class", "primary"}, d.txt("Start free trial")), 330, 240)))
}

// shopBody is a Fernhill page.
func (d *dom) shopBody(p, title string) *node {
	name, _, _ := strings.Cut(title, " · ")
	head := d.el("header", []string{"class", "shop"}, d.el("b", nil, d.txt("Fernhill")),
		d.mark("nav:/", d.el("a", []string{"href", "/"}, d.txt("Shop")), 200, 30),
		d.mark("nav:/cart", d.el("a", []string{"href", "/cart"}, d.txt("Cart")), 1300, 30))
	var content *node
	switch {
	case strings.HasPrefix(p, "/p/"):
		content = d.el("div", nil, d.el("div", []string{"class", "photo"}),
			d.el("p", nil, d.txt("Made to last, chosen with care.")),
			d.mark("action", d.el("button", []string{"class", "add"}, d.txt("Add to cart")), 330, 420))
	case p == "/checkout/payment":
		content = d.el("form", []string{"id", "payment"},
			d.el("label", nil, d.txt("Card number")),
			d.mark("input", d.el("input", []string{"name", "card", "type", "text"}), 420, 200),
			d.mark("action", d.el("button", []string{"class", "pay", "type", "button"}, d.txt("Pay now")), 330, 300))
	case p == "/cart" || p == "/checkout":
		content = d.el("div", nil, d.mark("scroll", d.el("table", nil, d.el("tbody", nil,
			d.el("tr", nil, d.el("td", nil, d.txt("Stoneware mug")), d.el("td", nil, d.txt("$24.00"))))), 700, 200),
			d.mark("input", d.el("input", []string{"name", "coupon", "placeholder", "Coupon code"}), 420, 280),
			d.mark("action", d.el("button", []string{"class", "primary"}, d.txt("Checkout")), 330, 340))
	default:
		var items []*node
		for i := range 6 {
			items = append(items, d.el("div", []string{"class", "product"}, d.el("div", []string{"class", "photo"}),
				d.txt("Item "+itoa(i+1))))
		}
		content = d.el("div", nil, d.mark("scroll", d.el("div", []string{"class", "grid"}, items...), 700, 400),
			d.mark("action", d.el("button", nil, d.txt("Show more")), 700, 760))
	}
	return d.el("body", nil, head, d.el("main", nil, d.el("h1", nil, d.txt(name)), content))
}

func itoa(i int) string { return strconv.Itoa(i) }
