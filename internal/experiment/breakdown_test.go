package experiment_test

import (
	"context"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/segment/compiler"
)

// TestBreakdownParts checks the parts a breakdown computes (flags on each
// exposed user, every part in one query) against everyone's: a segment
// every user is in gives everyone's results, and a segment and its
// complement add up to them, variant by variant and goal by goal.
func TestBreakdownParts(t *testing.T) {
	l := fillLedgerly(t, 2000)
	r := experiment.NewReader(l.db, l.seg, compiler.DuckDB{}, func() time.Time { return now })
	saved, err := l.db.ListExperiments(context.Background(), l.site)
	if err != nil || len(saved) != 1 {
		t.Fatalf("the demo's experiments: %v %v", saved, err)
	}
	def, err := experiment.Parse(saved[0].Definition)
	if err != nil {
		t.Fatal(err)
	}
	def.Goals = append(def.Goals, experiment.Goal{Kind: "property", Event: "Invoice Sent", Property: "amount"})
	def.Breakdown = []string{`plan = "trial"`, `not plan = "trial"`, `ab_variant is set or not ab_variant is set`}
	res, err := r.Results(context.Background(), l.site, def)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Breakdown) != 3 {
		t.Fatalf("%d breakdown parts, want 3", len(res.Breakdown))
	}
	in, out, every := res.Breakdown[0], res.Breakdown[1], res.Breakdown[2]
	if in.Variants[0].Users == 0 || out.Variants[0].Users == 0 {
		t.Fatalf("a breakdown part is empty: %+v / %+v", in.Variants, out.Variants)
	}
	if every.Multiple != res.Multiple || in.Multiple+out.Multiple != res.Multiple {
		t.Errorf("multiple: all %d, every %d, trial %d + rest %d", res.Multiple, every.Multiple, in.Multiple, out.Multiple)
	}
	for vi, v := range res.Variants {
		if every.Variants[vi].Users != v.Users || in.Variants[vi].Users+out.Variants[vi].Users != v.Users {
			t.Errorf("variant %s: all %d users, every %d, trial %d + rest %d", v.Name, v.Users,
				every.Variants[vi].Users, in.Variants[vi].Users, out.Variants[vi].Users)
		}
	}
	for gi, g := range res.Goals {
		for ai, a := range g.Arms {
			e, x, y := every.Goals[gi].Arms[ai], in.Goals[gi].Arms[ai], out.Goals[gi].Arms[ai]
			if e.Conversions != a.Conversions || x.Conversions+y.Conversions != a.Conversions {
				t.Errorf("goal %d arm %s: conversions all %d, every %d, trial %d + rest %d", gi, a.Variant,
					a.Conversions, e.Conversions, x.Conversions, y.Conversions)
			}
			sum := x.Mean*float64(x.Users) + y.Mean*float64(y.Users)
			if d := sum - a.Mean*float64(a.Users); d > 1e-6*(1+sum) || d < -1e-6*(1+sum) || e.Mean != a.Mean {
				t.Errorf("goal %d arm %s: total all %g, every %g, trial + rest %g", gi, a.Variant,
					a.Mean*float64(a.Users), e.Mean*float64(e.Users), sum)
			}
		}
	}
	if res.Goals[2].Arms[0].Mean == 0 {
		t.Errorf("the property goal sums nothing: %+v", res.Goals[2].Arms)
	}
}
