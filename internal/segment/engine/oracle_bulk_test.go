package engine_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// This file adds to the oracle's datasets users who arrive otherwise than
// by messages received as they happen: users loaded in bulk, as sightline
// gen and the demo load them (an identity created at a moment in the past,
// attribute history, maybe a company and a few events, or none at all),
// and visitors whose only messages come from a clock ahead of ours. They
// are users today; the trend must see them from when they were first seen.

// bulkUser is a user the dataset loads with duckstore.Bulk.
type bulkUser struct {
	userID  string
	anonIDs []string
	created time.Time
	attrs   map[string][]histEntry // by key, in time order; an unset is Null
	company string                 // "" for none
	linked  time.Time
	events  []store.Message // track events outside any session
}

// bulkUsers generates a few users loaded in bulk, after the others (so
// that the messages of a seed do not change).
func (g *dataGen) bulkUsers() []bulkUser {
	var out []bulkUser
	for i := range 3 + g.r.IntN(8) {
		u := bulkUser{created: g.between(g.now.Add(-120*day), g.now.Add(-day)), attrs: map[string][]histEntry{}}
		switch g.r.IntN(3) {
		case 0:
			u.anonIDs = []string{fmt.Sprintf("bulk-anon%d", i)}
		case 1:
			u.userID = fmt.Sprintf("bulk%d", i)
		default:
			u.userID, u.anonIDs = fmt.Sprintf("bulk%d", i), []string{fmt.Sprintf("bulk-anon%d", i)}
		}
		values := map[string]func() attr.Value{
			"plan": func() attr.Value { return attr.Value{Type: attr.String, Str: pick(g.r, plans...)} },
			"beta": func() attr.Value { return attr.Value{Type: attr.Boolean, Bool: g.chance(0.5)} },
			"ltv":  func() attr.Value { return attr.Value{Type: attr.Number, Num: float64(g.r.IntN(40)) * 25} },
		}
		for _, key := range []string{"beta", "ltv", "plan"} { // in order, for the seed to decide
			if !g.chance(0.6) {
				continue
			}
			var h []histEntry
			for k := range 1 + g.r.IntN(3) {
				v := values[key]()
				if k > 0 && g.chance(0.2) {
					v = attr.Value{Null: true}
				}
				h = append(h, histEntry{v: v, at: g.attrTime(g.between(u.created, g.now.Add(-time.Hour)))})
			}
			slices.SortFunc(h, func(a, b histEntry) int { return a.at.Compare(b.at) })
			u.attrs[key] = h
		}
		if u.userID != "" && g.chance(0.5) {
			u.company, u.linked = pick(g.r, g.companies...), g.between(u.created, g.now)
		}
		for k := range g.r.IntN(4) {
			from := u.created
			if g.chance(0.2) { // imported history from before the user was created
				from = u.created.Add(-10 * day)
			}
			name, props := g.track()
			u.events = append(u.events, store.Message{Kind: store.KindTrack, Name: name, Properties: props,
				MessageID: fmt.Sprintf("bulk%d-%d", i, k), Timestamp: g.between(from, g.now)})
		}
		out = append(out, u)
	}
	return out
}

// aheadVisitors emits one or two visitors whose only messages are stamped
// after now, by a clock running ahead: users today, though nothing they
// sent has happened yet.
func (g *dataGen) aheadVisitors() {
	for i := range 1 + g.r.IntN(2) {
		t := g.now.Add(time.Duration(1+g.r.IntN(90)) * time.Minute)
		m := store.Message{Kind: store.KindPage, AnonymousID: fmt.Sprintf("ahead%d", i), Timestamp: t,
			Page: store.Page{Path: "/pricing", URL: "https://app.example.com/pricing"}}
		if g.chance(0.5) {
			m = store.Message{Kind: store.KindIdentify, UserID: fmt.Sprintf("ahead%d", i), Timestamp: g.attrTime(t),
				Traits: attr.Flatten(map[string]any{"beta": false, "plan": pick(g.r, plans...)})}
		}
		g.emit(m)
	}
}

// writeBulk loads the bulk users, after the messages: their companies are
// those the messages created.
func writeBulk(ctx context.Context, db *duckstore.DB, site int64, users []bulkUser) error {
	if len(users) == 0 {
		return nil
	}
	if err := db.Sync(ctx); err != nil {
		return err
	}
	groups := map[string]int64{}
	rows, err := db.SQL().QueryContext(ctx, "SELECT external_id, entity_key FROM identities WHERE site_id = ? AND kind = 3", site)
	if err != nil {
		return fmt.Errorf("read companies: %w", err)
	}
	err = scanAll(rows, func() error {
		var id string
		var key int64
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		groups[id] = key
		return nil
	})
	if err != nil {
		return fmt.Errorf("read companies: %w", err)
	}
	b, err := db.Bulk(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		key := b.NewUser(site, u.created, u.userID, u.anonIDs...)
		for name, h := range u.attrs {
			for i, e := range h {
				if i == len(h)-1 && !e.v.Null {
					b.SetAttr(site, store.EntityUser, key, name, e.v, e.at)
				} else {
					b.AttrChange(site, store.EntityUser, key, name, e.v, e.at)
				}
			}
		}
		if u.company != "" {
			g, ok := groups[u.company]
			if !ok {
				b.Close()
				return fmt.Errorf("no company %q to link a bulk user to", u.company)
			}
			b.Link(site, key, g, u.linked)
		}
		for _, m := range u.events {
			m.SiteID, m.ReceivedAt = site, m.Timestamp
			b.Event(key, 0, &m)
		}
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	return nil
}
