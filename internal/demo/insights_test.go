package demo_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/insight"
)

// demoInsights checks the demo's insights tell their stories: upgrades
// rise after Ledgerly's new pricing page (annotated), onboarding variant
// B completes more often, and Fernhill's checkout funnel narrows step by
// step, its cart abandoners with recordings.
func demoInsights(t *testing.T, f *filled) {
	ctx := context.Background()
	ins, err := insight.New(f.svc.Segments, f.db)
	if err != nil {
		t.Fatal(err)
	}
	saved := func(site int64, name string) json.RawMessage {
		t.Helper()
		list, err := f.db.ListInsights(ctx, site)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range list {
			if in.Name == name {
				return in.Definition
			}
		}
		t.Fatalf("no saved insight %q", name)
		return nil
	}

	var trend insight.Trend
	json.Unmarshal(saved(f.saas, "Upgrades around the new pricing page"), &trend)
	res, err := ins.Trend(ctx, f.saas, trend)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := f.db.Annotations(ctx, f.saas)
	if err != nil || len(notes) == 0 {
		t.Fatalf("annotations: %v, %v", notes, err)
	}
	var pricing string
	for _, a := range notes {
		if a.Text == "New pricing page" {
			pricing = a.Day
		}
	}
	var before, after []float64
	for i, b := range res.Buckets {
		switch {
		case b < pricing && b >= now.AddDate(0, 0, -60).Format(time.DateOnly):
			before = append(before, res.Series[0].Values[i])
		case b >= pricing:
			after = append(after, res.Series[0].Values[i])
		}
	}
	if avg(after) < 1.5*avg(before) {
		t.Errorf("upgrades a day: %.1f in the 30 days before the new pricing page (%s), %.1f after: no uptick", avg(before), pricing, avg(after))
	}
	t.Logf("upgrades a day: %.1f before the new pricing page, %.1f after", avg(before), avg(after))

	var funnel insight.Funnel
	json.Unmarshal(saved(f.saas, "Onboarding funnel by variant"), &funnel)
	fr, err := ins.Funnel(ctx, f.saas, funnel)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range fr.Groups {
		var users []int64
		for _, s := range g.Steps {
			users = append(users, s.Users)
		}
		t.Logf("onboarding funnel, %s: %v", g.Group, users)
	}
	a, b := fr.Groups[1].Steps[5], fr.Groups[2].Steps[5]
	if a.Users == 0 || b.FromStart <= a.FromStart {
		t.Errorf("onboarding: variant A %+v, variant B %+v: B should complete more often", a, b)
	}

	json.Unmarshal(saved(f.shop, "Checkout funnel"), &funnel)
	if fr, err = ins.Funnel(ctx, f.shop, funnel); err != nil {
		t.Fatal(err)
	}
	steps := fr.Groups[0].Steps
	for i := 1; i < len(steps); i++ {
		if steps[i].Users == 0 || steps[i].Users >= steps[i-1].Users {
			t.Errorf("checkout funnel step %d: %d users after %d", i+1, steps[i].Users, steps[i-1].Users)
		}
	}
	t.Logf("checkout funnel: %d → %d → %d → %d", steps[0].Users, steps[1].Users, steps[2].Users, steps[3].Users)
	segs, err := f.db.ListSegments(ctx, f.shop)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		if s.Name != "Cart abandoners (funnel)" {
			continue
		}
		n, err := f.svc.Segments.Saved(ctx, f.shop, s)
		if err != nil {
			t.Fatal(err)
		}
		q, err := f.svc.Segments.MembersQuery(ctx, f.shop, n)
		if err != nil {
			t.Fatal(err)
		}
		var recs int64
		if err := f.db.SQL().QueryRow(`SELECT count(*) FROM recordings r JOIN identities i ON i.site_id = r.site_id
			AND i.kind = CASE WHEN r.user_id <> '' THEN 1 ELSE 2 END
			AND i.external_id = CASE WHEN r.user_id <> '' THEN r.user_id ELSE r.anonymous_id END
			WHERE r.site_id = ? AND i.entity_key IN (`+q.SQL+`)`,
			append([]any{f.shop}, q.Args...)...).Scan(&recs); err != nil {
			t.Fatal(err)
		}
		if recs == 0 {
			t.Error("the cart abandoners of the checkout funnel have no recordings")
		}
		t.Logf("cart abandoners (funnel): %d recordings", recs)
		return
	}
	t.Error("no segment Cart abandoners (funnel)")
}

func avg(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
