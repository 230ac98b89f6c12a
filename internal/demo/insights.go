package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/store"
)

// The demo's insights: Ledgerly's onboarding funnel by onboarding
// variant, its upgrades trend around the day its new pricing page went
// live (an annotation; more users upgrade after it), and retention of
// power users against everyone else; Fernhill's product → cart →
// checkout → order funnel, whose cart abandoners are a saved segment
// with recordings.

// pricingDay is how many days before the window's end Ledgerly's new
// pricing page went live.
const pricingDay = 30

// upgradeLift is the chance that a session of a free or trial user on or
// after the new pricing page's day has an Upgrade Clicked: the uptick the
// upgrades trend shows.
const upgradeLift = 0.03

// fillUpgrades adds Ledgerly's upgrades after its new pricing page: the
// late events of sessions the generator made, before the bulk load ends.
func (f *filler) fillUpgrades(now time.Time) int {
	from := now.AddDate(0, 0, -pricingDay).UnixMilli()
	n := 0
	for i := range f.obs.sessions {
		sf := &f.obs.sessions[i]
		p := f.obs.people[sf.user]
		if sf.start < from || p == nil || (p.plan != "free" && p.plan != "trial") || sf.lastURL == "" {
			continue
		}
		if f.r.Float64() >= upgradeLift {
			continue
		}
		to := "pro"
		if f.r.Float64() < 0.2 {
			to = "enterprise"
		}
		f.lateEvent(sf, "Upgrade Clicked", fmt.Sprintf("demo-upgrade-%d", f.nextSeq()), f.within(sf, 0.8),
			map[string]any{"from": p.plan, "to": to, "pricing_page": "v2"})
		n++
	}
	return n
}

// insightSpec is a saved insight of the demo; segments in its definition
// name saved segments as {{Name}}, replaced by their IDs.
type insightSpec struct {
	name, kind, definition string
}

func saasInsights() []insightSpec {
	return []insightSpec{
		{name: "Onboarding funnel by variant", kind: "funnel",
			definition: `{"steps":["did(\"Signed Up\")","visited(\"/onboarding/step-1\")","visited(\"/onboarding/step-2\")",
				"visited(\"/onboarding/step-3\")","visited(\"/onboarding/step-4\")","did(\"Onboarding Completed\")"],"window":"14d",
				"last_days":90,"breakdown":{"segments":[{"id":"{{Onboarding test: variant A}}"},{"id":"{{Onboarding test: variant B}}"}]}}`},
		{name: "Upgrades around the new pricing page", kind: "trend",
			definition: `{"series":[{"of":"did(\"Upgrade Clicked\")","measure":"count"},{"of":"visited(\"/pricing\")","measure":"users"}],
				"interval":"day","last_days":90}`},
		{name: "Retention: power users vs everyone else", kind: "retention",
			definition: `{"start":"first_seen","return":"any","interval":"week","periods":8,"last_days":90,
				"breakdown":{"segments":[{"id":"{{Power users}}"},{"id":"{{Non-power users}}"}]}}`},
	}
}

func shopInsights() []insightSpec {
	return []insightSpec{
		{name: "Checkout funnel", kind: "funnel",
			definition: `{"steps":["did(\"Product Viewed\")","did(\"Product Added\")","did(\"Checkout Started\")","did(\"Order Completed\")"],
				"window":"1d","last_days":30,"breakdown":{"segments":[{"id":"{{VIPs}}"}]}}`},
		{name: "Orders and revenue", kind: "trend",
			definition: `{"series":[{"of":"did(\"Order Completed\")","measure":"count"},{"of":"did(\"Order Completed\")","measure":"sum","property":"revenue"}],
				"interval":"week","last_days":90,"compare":true}`},
	}
}

// saveInsights saves a site's insights, each computed first as the API
// does, and the annotations; segments maps the saved segments' names to
// their IDs.
func saveInsights(ctx context.Context, svc Services, site int64, author string, specs []insightSpec, segments []SegmentSize,
	notes []store.Annotation) (map[string]string, error) {
	ins, err := insight.New(svc.Segments, svc.DB)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, sp := range specs {
		def := sp.definition
		for _, s := range segments {
			def = strings.ReplaceAll(def, "{{"+s.Name+"}}", s.ID)
		}
		raw := json.RawMessage(def)
		switch sp.kind {
		case "trend":
			var d insight.Trend
			if err = json.Unmarshal(raw, &d); err == nil {
				_, err = ins.Trend(ctx, site, d)
			}
		case "funnel":
			var d insight.Funnel
			if err = json.Unmarshal(raw, &d); err == nil {
				_, err = ins.Funnel(ctx, site, d)
			}
		case "retention":
			var d insight.Retention
			if err = json.Unmarshal(raw, &d); err == nil {
				_, err = ins.Retention(ctx, site, d)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("demo insight %q: %w", sp.name, err)
		}
		var compact any
		json.Unmarshal(raw, &compact)
		b, _ := json.Marshal(compact)
		s, err := svc.DB.SaveInsight(ctx, store.SavedInsight{SiteID: site, Name: sp.name, Kind: sp.kind, Author: author, Definition: b})
		if err != nil {
			return nil, err
		}
		ids[sp.name] = s.ID
	}
	for _, a := range notes {
		a.SiteID = site
		if _, err := svc.DB.AddAnnotation(ctx, a); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// saasAnnotations are Ledgerly's dated notes.
func saasAnnotations(now time.Time) []store.Annotation {
	return []store.Annotation{
		{Day: now.AddDate(0, 0, -pricingDay).Format(time.DateOnly), Text: "New pricing page", Source: "write_key"},
		{Day: now.AddDate(0, 0, -60).Format(time.DateOnly), Text: "Onboarding v2 (A/B test)", Source: "dashboard"},
	}
}

// abandonedCart reports whether a session added to the cart and did not
// start the checkout: the checkout funnel's cart abandoners, whose
// recordings are made first (with the frustrated sessions).
func abandonedCart(evs []event) bool {
	added := false
	for _, e := range evs {
		switch e.name {
		case "Product Added":
			added = true
		case "Checkout Started", "Order Completed":
			return false
		}
	}
	return added
}
