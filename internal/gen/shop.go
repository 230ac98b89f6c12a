package gen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
)

// The second model: Fernhill, an online homewares shop. Visitors browse
// categories and products, add to the cart and check out; customers have
// an account, orders and a lifetime value. It is smaller than Ledgerly and
// reuses its machinery (people, sessions, the sink) with a vocabulary and
// a walk of its own, so that segments, users and funnels have a second,
// different product to work on.

const (
	shopURL   = "https://shop.fernhill.example"
	shopTitle = " · Fernhill"
)

// product is one thing the shop sells.
type product struct {
	id, name string
	category int
	price    float64
	page     page
}

// shopCategories are the shop's departments.
var shopCategories = []string{"kitchen", "living", "bedroom", "lighting", "textiles", "garden"}

var (
	shopHome     = page{path: "/", name: "Home"}
	shopSearch   = page{path: "/search", name: "Search"}
	shopCart     = page{path: "/cart", name: "Cart"}
	shopCheckout = page{path: "/checkout", name: "Checkout"}
	shopPayment  = page{path: "/checkout/payment", name: "Payment"}
	shopDone     = page{path: "/order/confirmed", name: "Order confirmed"}
	shopSignup   = page{path: "/account/signup", name: "Create an account"}
	shopAccount  = page{path: "/account/orders", name: "Your orders"}
	// shopCategoryPages are indexed like shopCategories.
	shopCategoryPages = make([]page, len(shopCategories))
	products          []product
)

func init() {
	names := [][]string{
		{"Stoneware mug", "Cast-iron skillet", "Oak chopping board", "Enamel casserole", "Linen apron", "Glass carafe"},
		{"Velvet cushion", "Walnut side table", "Wool throw", "Ceramic vase", "Rattan basket", "Wall mirror"},
		{"Linen duvet cover", "Cotton sheet set", "Bedside lamp", "Feather pillow", "Oak nightstand"},
		{"Brass pendant light", "Paper floor lamp", "Opal globe lamp", "Plug-in wall light", "Candle lantern"},
		{"Jute rug", "Waffle bath towel", "Linen curtains", "Kilim runner", "Cotton tea towels"},
		{"Terracotta planter", "Garden bench", "Outdoor string lights", "Watering can", "Herb kit"},
	}
	prices := []float64{24, 59, 45, 129, 32, 38, 35, 249, 89, 54, 42, 139, 119, 95, 79, 49, 289,
		189, 129, 99, 69, 34, 149, 29, 119, 145, 22, 39, 279, 49, 35, 27}
	k := 0
	for c, list := range names {
		shopCategoryPages[c] = page{path: "/c/" + shopCategories[c], name: strings.ToUpper(shopCategories[c][:1]) +
			shopCategories[c][1:]}
		fillShop(&shopCategoryPages[c])
		for _, n := range list {
			slug := strings.ReplaceAll(strings.ToLower(n), " ", "-")
			p := product{id: fmt.Sprintf("sku-%03d", k+1), name: n, category: c, price: prices[k%len(prices)],
				page: page{path: "/p/" + slug, name: n}}
			fillShop(&p.page)
			products = append(products, p)
			k++
		}
	}
	for _, p := range []*page{&shopHome, &shopSearch, &shopCart, &shopCheckout, &shopPayment, &shopDone,
		&shopSignup, &shopAccount} {
		fillShop(p)
	}
}

func fillShop(p *page) {
	p.url = shopURL + p.path
	p.title = p.name + shopTitle
}

// shopSources are how customers first came to the shop (signup_source),
// each with the channel of that first visit.
var shopSources = []struct {
	name string
	ch   channel
	w    float64
}{
	{"google", chGoogle, 30}, {"instagram", channel{"organic_social", "https://www.instagram.com/", "", "", ""}, 18},
	{"newsletter", chEmail, 10}, {"friend referral", chDirect, 12}, {"facebook ad", chFacebookAd, 14},
	{"pinterest", channel{"organic_social", "https://www.pinterest.com/", "", "", ""}, 8},
	{"gift card", chDirect, 3}, {"paid search", chPaidSearch, 5},
}

// buyer is what the shop model keeps of a person beside the shared
// person: their orders and taste.
type buyer struct {
	source     uint8
	favourite  uint8 // a category index
	newsletter bool
	orders     int32 // orders completed, in the window and before it
	revenue    float64
	firstOrder int64 // Unix seconds; 0: none
	lastOrder  int64
	histOrders int32 // orders before the window
	histSpend  float64
}

// shop holds the state of one RunShop.
type shop struct {
	*generator
	buyers  []buyer
	sources weighted
	order   int64 // order number counter
}

// RunShop generates cfg.Users people of the Fernhill shop and their
// activity into sink, for site, as Run does for Ledgerly: customers (with
// an account) and anonymous visitors, their sessions of browsing, carts
// and orders, and the customers' attributes (orders, lifetime_value,
// country, signup_source…). EventsPerUser is not used: a shop's visits
// are as long as the shopping takes.
func RunShop(ctx context.Context, sink Sink, site int64, cfg Config, progress func(Progress)) (Stats, error) {
	cfg.defaults()
	if cfg.Users <= 0 {
		return Stats{}, fmt.Errorf("generate: users must be positive, not %d", cfg.Users)
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	s := &shop{generator: newGenerator(site, cfg, sink, progress)}
	s.r = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6665726e68696c6c)) // "fernhill"
	w := make([]float64, len(shopSources))
	for i, src := range shopSources {
		w[i] = src.w
	}
	s.sources = newWeighted(w)
	steps := []func(context.Context) error{s.planShoppers, s.shopActivity, s.writeShopAttributes}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return s.stats, err
		}
		if err := sink.Err(); err != nil {
			return s.stats, fmt.Errorf("generate: %w", err)
		}
	}
	return s.stats, nil
}
