package gen

import (
	"strconv"

	"github.com/sightline/sightline/internal/store"
)

// cartLine is a product in the cart of the visit being built.
type cartLine struct {
	p   *product
	qty int
}

// shopVisit builds and writes one visit of person i starting at t: an
// entry that fits how they came, some browsing (mostly their favourite
// category), and sometimes a cart, a checkout and an order. signup makes
// it the visit where a customer creates their account.
func (s *shop) shopVisit(i int, t int64, signup bool) {
	r := s.r
	p, b := &s.people[i], &s.buyers[i]
	anon := p.flags&fAnon != 0
	u := float64(p.u)
	s.newSession()
	ch := returnChannels[s.pick.returning.pick(r)]
	if signup || anon && p.lastSeen == 0 {
		ch = shopSources[b.source].ch
	}
	pick := func() *product {
		if r.Float64() < 0.7 {
			for {
				if pr := &products[r.IntN(len(products))]; pr.category == int(b.favourite) {
					return pr
				}
			}
		}
		return &products[r.IntN(len(products))]
	}
	switch ch.name {
	case "organic_search", "paid_search", "organic_social", "paid_social":
		pr := pick()
		s.viewProduct(pr)
	case "email":
		s.addPage(&shopCategoryPages[b.favourite])
	default:
		s.addPage(&shopHome)
	}
	if signup {
		s.addPage(&shopSignup)
		s.addTrack(&shopSignup, "Signed Up", s.obj().str("source", shopSources[b.source].name).end())
		s.addIdentify(&shopSignup, s.obj().str("signup_source", shopSources[b.source].name).end())
		if b.newsletter {
			s.addTrack(&shopSignup, "Newsletter Subscribed", "")
		}
	}
	var cart []cartLine
	addRate := 0.05 + 0.22*u
	if anon {
		addRate = 0.05
	}
	for views := 1 + s.poisson(1+3*u); views > 0; views-- {
		if r.Float64() < 0.1 {
			s.addPage(&shopSearch)
			s.addTrack(&shopSearch, "Products Searched", s.obj().str("query", shopCategories[r.IntN(len(shopCategories))]).end())
		} else if r.Float64() < 0.3 {
			s.addPage(&shopCategoryPages[r.IntN(len(shopCategories))])
		}
		pr := pick()
		s.viewProduct(pr)
		if r.Float64() < addRate {
			qty := 1
			if r.Float64() < 0.2 {
				qty = 2
			}
			s.addTrack(&pr.page, "Product Added", s.productProps(pr).num("quantity", float64(qty)).end())
			cart = append(cart, cartLine{pr, qty})
		}
	}
	if len(cart) > 0 {
		s.checkout(i, t, cart, anon)
	} else if !anon && b.orders > 0 && r.Float64() < 0.15 {
		s.addPage(&shopAccount)
	}
	// No gap near the 30 idle minutes that would split the visit.
	s.emit(p, t, min(s.duration(p.durMed), int64(len(s.steps))*10*minute), ch)
}

// viewProduct adds a view of a product page and its Product Viewed event.
func (s *shop) viewProduct(pr *product) {
	s.addPage(&pr.page)
	s.addTrack(&pr.page, "Product Viewed", s.productProps(pr).end())
}

func (s *shop) productProps(pr *product) jsonObj {
	return s.obj().str("product_id", pr.id).str("name", pr.name).str("category", shopCategories[pr.category]).
		num("price", pr.price).str("currency", "USD")
}

// checkout takes a cart to the checkout: anonymous visitors stop at the
// account step; customers pay and order, less often after rage-clicking
// the slow Pay button.
func (s *shop) checkout(i int, t int64, cart []cartLine, anon bool) {
	r := s.r
	b := &s.buyers[i]
	u := float64(s.people[i].u)
	var value float64
	items := 0
	for _, l := range cart {
		value += l.p.price * float64(l.qty)
		items += l.qty
	}
	value = money(value)
	s.addPage(&shopCart)
	s.addTrack(&shopCart, "Cart Viewed", s.obj().num("items", float64(items)).num("value", value).end())
	proceed := 0.5 + 0.35*u
	if anon {
		proceed = 0.3
	}
	if r.Float64() >= proceed {
		return
	}
	s.addPage(&shopCheckout)
	s.addTrack(&shopCheckout, "Checkout Started", s.obj().num("items", float64(items)).num("value", value).end())
	if anon {
		return // they would need an account: most leave here
	}
	from := len(s.steps)
	s.addPage(&shopPayment)
	raged := false
	for _, st := range s.steps[from:] {
		raged = raged || st.event == store.EventRageClick
	}
	method := []string{"card", "card", "card", "paypal", "apple_pay"}[r.IntN(5)]
	s.addTrack(&shopPayment, "Payment Info Entered", s.obj().str("method", method).end())
	complete := 0.85
	if raged {
		complete = 0.4
	}
	if r.Float64() >= complete {
		return
	}
	s.order++
	revenue := value
	o := s.obj().str("order_id", "o-"+strconv.FormatInt(s.order, 10)).num("items", float64(items)).str("currency", "USD")
	if r.Float64() < 0.15 {
		revenue = money(value * 0.9)
		o = o.str("coupon", "WELCOME10")
	}
	s.addPage(&shopDone)
	s.addTrack(&shopDone, "Order Completed", o.num("revenue", revenue).end())
	b.orders++
	b.revenue += revenue
	if b.firstOrder == 0 {
		b.firstOrder = t
	}
	b.lastOrder = t
}
