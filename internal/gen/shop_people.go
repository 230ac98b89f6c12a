package gen

import (
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// ShopUserKeys returns the customer attribute keys RunShop sets, of all
// four types. first_order_at and last_order_at are set only for customers
// who ordered.
func ShopUserKeys() map[string]attr.Type {
	return map[string]attr.Type{
		"email": attr.String, "name": attr.String, "country": attr.String, "signup_source": attr.String,
		"favourite_category": attr.String, "customer_tier": attr.String,
		"orders": attr.Number, "lifetime_value": attr.Number,
		"newsletter": attr.Boolean, "vip": attr.Boolean,
		"signed_up_at": attr.Datetime, "first_order_at": attr.Datetime, "last_order_at": attr.Datetime,
	}
}

// anonShare is the share of the shop's people who never make an account.
const anonShare = 0.4

// planShoppers creates the shop's people: customers with an account, who
// may have ordered before the window, and anonymous visitors who come once
// to three times.
func (s *shop) planShoppers(ctx context.Context) error {
	r := s.r
	n := s.cfg.Users
	s.people = make([]person, n)
	s.buyers = make([]buyer, n)
	s.milestones = make([][]milestone, s.days())
	for i := range s.people {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p, b := &s.people[i], &s.buyers[i]
		p.u = float32(r.Float64())
		u := float64(p.u)
		p.country = uint8(s.pick.country.pick(r))
		p.device = uint8(s.pick.device.pick(r))
		p.durMed = float32(3 + 10*u)
		b.favourite = uint8(r.IntN(len(shopCategories)))
		b.source = uint8(s.sources.pick(r))
		// Anonymous visitors are spread among customers, so that any prefix
		// of the people looks like the whole.
		if float64(i%10) < anonShare*10 && n >= 10 {
			p.flags = fAnon
			p.signup = s.start + r.Int64N(s.now-s.start)
			p.key = s.sink.NewUser(s.site, at(p.signup), "", s.anonID())
			visits := 1
			for visits < 3 && r.Float64() < 0.35 {
				visits++
			}
			for v := range visits {
				s.addMilestone(i, msVisit, 0, p.signup+int64(v)*r.Int64N(7*day))
			}
			s.stats.Anonymous++
		} else {
			s.planCustomer(i, p, b)
			s.stats.Users++
		}
		s.report("people", i+1, n)
	}
	return nil
}

// planCustomer plans a customer: when they made an account, how often
// they come, and the orders they placed before the window.
func (s *shop) planCustomer(i int, p *person, b *buyer) {
	r := s.r
	u := float64(p.u)
	p.signup = s.now - int64(540*day*math.Pow(r.Float64(), 1.4)) - r.Int64N(hour)
	p.pDay = float32(0.012 + 0.2*math.Pow(u, 3))
	b.newsletter = r.Float64() < 0.25+0.35*u
	if months := float64(max(s.start-p.signup, 0)) / (30 * day); months > 0 {
		b.histOrders = int32(s.poisson(months * (0.02 + 0.3*u*u*u)))
		for range b.histOrders {
			b.histSpend += money(85 * math.Exp(0.7*r.NormFloat64()))
		}
		if b.histOrders > 0 {
			first := p.signup + r.Int64N(max(s.start-p.signup, hour))
			b.firstOrder = first
			b.lastOrder = first + r.Int64N(max(s.start-first, hour))
		}
	}
	b.orders, b.revenue = b.histOrders, b.histSpend
	p.key = s.sink.NewUser(s.site, at(p.signup), "c-"+strconv.Itoa(i+1), s.anonID())
	if p.signup >= s.start {
		s.addMilestone(i, msSignup, 0, p.signup)
	}
}

// shopActivity writes the window's visits day by day, as activity does
// for Ledgerly. People shop a little more at weekends.
func (s *shop) shopActivity(ctx context.Context) error {
	r := s.r
	base := s.dayBase()
	nd := s.days()
	var starts []planned
	for d := range nd {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.sink.Err() != nil {
			return nil // RunShop reports it
		}
		midnight := base + int64(d)*day
		weight := 1.0
		if dayWeight(midnight) < 1 {
			weight = 1.3
		}
		ms := s.milestones[d]
		for i := range s.people {
			p := &s.people[i]
			starts = starts[:0]
			for len(ms) > 0 && int(ms[0].person) == i {
				starts = append(starts, planned{at: ms[0].at, m: ms[0], special: true})
				ms = ms[1:]
			}
			if p.flags&fAnon == 0 && p.signup < midnight && r.Float64() < float64(p.pDay)*weight {
				starts = append(starts, planned{at: midnight + 7*hour + r.Int64N(16*hour)})
			}
			if len(starts) == 0 {
				continue
			}
			slices.SortFunc(starts, func(a, b planned) int { return int(a.at - b.at) })
			for _, st := range starts {
				t := st.at
				if p.lastSeen > 0 {
					t = max(t, p.lastSeen+idleGap)
				}
				if t < s.start || t >= s.now-minute || t < p.signup {
					continue
				}
				s.shopVisit(i, t, st.special && st.m.kind == msSignup)
			}
		}
		s.report("activity", d+1, nd)
	}
	return nil
}

// writeShopAttributes writes every customer's attributes, after the
// activity that decided their orders.
func (s *shop) writeShopAttributes(ctx context.Context) error {
	for i := range s.people {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if s.sink.Err() != nil {
				return nil // RunShop reports it
			}
		}
		if p := &s.people[i]; p.flags&fAnon == 0 {
			s.customerAttrs(i, p, &s.buyers[i])
		}
		s.report("attributes", i+1, len(s.people))
	}
	return nil
}

// vipSpend is the lifetime value that makes a customer a VIP.
const vipSpend = 750

var mailDomains = []string{"mail.example", "inbox.example", "post.example", "letterbox.example"}

func (s *shop) customerAttrs(i int, p *person, b *buyer) {
	r := s.r
	set := func(key string, v attr.Value, t int64) {
		s.sink.SetAttr(s.site, store.EntityUser, p.key, key, v, at(t))
		s.stats.AttrValues++
		s.stats.AttrChanges++
	}
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	s.buf = append(append(s.buf[:0], first[0]+'a'-'A'), first[1:]...)
	s.buf = append(append(s.buf, '.', last[0]+'a'-'A'), last[1:]...)
	s.buf = strconv.AppendInt(s.buf, int64(i+1), 10)
	s.buf = append(append(s.buf, '@'), mailDomains[i%len(mailDomains)]...)
	signup := p.signup
	set("email", text(string(s.buf)), signup)
	set("name", text(first+" "+last), signup)
	set("country", text(countries[p.country].code), signup)
	set("signup_source", text(shopSources[b.source].name), signup)
	set("signed_up_at", datetime(signup), signup)
	set("newsletter", boolean(b.newsletter), signup)
	set("favourite_category", text(shopCategories[b.favourite]), signup)
	changed := signup
	if b.orders > 0 {
		changed = b.lastOrder
		set("first_order_at", datetime(b.firstOrder), b.firstOrder)
		set("last_order_at", datetime(b.lastOrder), b.lastOrder)
	}
	set("orders", number(float64(b.orders)), changed)
	set("lifetime_value", number(money(b.revenue)), changed)
	set("vip", boolean(b.revenue >= vipSpend), changed)
	tier := "prospect"
	switch {
	case b.orders >= 5:
		tier = "loyal"
	case b.orders >= 2:
		tier = "repeat"
	case b.orders == 1:
		tier = "new"
	}
	set("customer_tier", text(tier), changed)
}
