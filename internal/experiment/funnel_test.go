package experiment_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/demo"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/stats"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// onboardingFunnel is a funnel goal on the demo's onboarding: the set-up's
// first two pages, then completing it, within 3 days.
var onboardingFunnel = experiment.Goal{Kind: "funnel", Steps: []string{`visited("/onboarding/step-1")`,
	`visited("/onboarding/step-2")`, "Onboarding Completed"}, Window: "3d"}

// TestFunnelGoal reads a funnel goal of the demo's onboarding experiment
// and checks each variant's conversions against a computation of its
// own, in Go, from the exposures and step events read as plain rows:
// the first step at or after the exposure, each next step the first
// after the one before, the last within the window of the first, all
// before the end.
func TestFunnelGoal(t *testing.T) {
	l := fillLedgerly(t, 2000)
	ctx := context.Background()
	def := demo.OnboardingExperiment(now)
	def.Goals = []experiment.Goal{onboardingFunnel}
	res, err := experiment.NewReader(l.db, l.seg, compiler.DuckDB{}, func() time.Time { return now }).Results(ctx, l.site, def)
	if err != nil {
		t.Fatal(err)
	}

	// Each user's variant and first exposure (users with two variants
	// are left out), from the attribute's history.
	type exposure struct {
		variant string
		first   time.Time
		many    bool
	}
	exposed := map[int64]*exposure{}
	rows, err := l.db.SQL().Query(`SELECT entity_key, s, set_at FROM attr_history
		WHERE site_id = ? AND entity = 0 AND key = 'ab_variant' AND s IS NOT NULL`, l.site)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u int64
		var v string
		var at time.Time
		if err := rows.Scan(&u, &v, &at); err != nil {
			t.Fatal(err)
		}
		e := exposed[u]
		if e == nil {
			exposed[u] = &exposure{variant: v, first: at}
			continue
		}
		e.many = e.many || e.variant != v
		if at.Before(e.first) {
			e.first = at
		}
	}
	rows.Close()
	// Each user's step events in the period, in time order.
	type event struct {
		step int
		at   time.Time
	}
	events := map[int64][]event{}
	rows, err = l.db.SQL().Query(`SELECT user_key, CASE WHEN path = '/onboarding/step-1' THEN 0
		WHEN path = '/onboarding/step-2' THEN 1 ELSE 2 END, ts FROM events
		WHERE site_id = ? AND ts >= ? AND ts < ? AND ((kind IN (3, 4) AND path IN ('/onboarding/step-1', '/onboarding/step-2'))
			OR (kind = 2 AND name = 'Onboarding Completed')) ORDER BY ts`, l.site, def.Start, now)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u int64
		var e event
		if err := rows.Scan(&u, &e.step, &e.at); err != nil {
			t.Fatal(err)
		}
		events[u] = append(events[u], e)
	}
	rows.Close()
	converted := func(first time.Time, evs []event) bool {
		var entered, prev time.Time
		step := 0
		for _, e := range evs {
			switch {
			case step == 0 && e.step == 0 && !e.at.Before(first):
				entered, prev, step = e.at, e.at, 1
			case step > 0 && e.step == step && e.at.After(prev) && !e.at.After(entered.Add(3*24*time.Hour)):
				prev = e.at
				step++
			}
			if step == 3 {
				return true
			}
		}
		return false
	}
	want := map[string][2]int64{}
	for u, e := range exposed {
		if e.many || e.first.Before(def.Start) || !e.first.Before(now) {
			continue
		}
		w := want[e.variant]
		w[0]++
		if converted(e.first, events[u]) {
			w[1]++
		}
		want[e.variant] = w
	}

	arms := res.Goals[0].Arms
	for _, a := range arms {
		t.Logf("%s: %d of %d [%.3f, %.3f] p %v", a.Variant, a.Conversions, a.Users, a.Interval.Low, a.Interval.High, deref(a.P))
		if w := want[a.Variant]; a.Users != w[0] || a.Conversions != w[1] {
			t.Errorf("variant %s: %d of %d converted, the oracle says %d of %d", a.Variant, a.Conversions, a.Users, w[1], w[0])
		}
	}
	if want["A"][1] == 0 || want["B"][1] == 0 || want["A"][1] == want["A"][0] {
		t.Fatalf("the oracle's conversions %v tell nothing", want)
	}
	wantP := stats.TwoProportions(want["A"][1], want["A"][0], want["B"][1], want["B"][0]).P
	if b := arms[1]; b.P == nil || math.Abs(*b.P-wantP) > 1e-12 || b.Test != "two-proportion z" {
		t.Errorf("B: p %v (%s), want %v", deref(b.P), b.Test, wantP)
	}
	if res.Goals[0].Goal.Name != `visited("/onboarding/step-1") → visited("/onboarding/step-2") → Onboarding Completed` {
		t.Errorf("the goal's name: %q", res.Goals[0].Goal.Name)
	}
	if !slices.Equal(res.Goals[0].Goal.Steps, onboardingFunnel.Steps) {
		t.Errorf("steps %v", res.Goals[0].Goal.Steps)
	}
}

// TestFunnelGoalByHand reads a funnel goal and an event goal on events
// written by hand, each user an edge case: steps before the exposure, a
// step past the window, a step at the same moment as the one before,
// steps out of order, a step on the last (partial) day, and a user
// exposed to both variants.
func TestFunnelGoalByHand(t *testing.T) {
	ctx := context.Background()
	db, err := duckstore.Open(ctx, filepath.Join(t.TempDir(), "d.duckdb"), duckstore.Options{MemoryLimit: "512MB", Threads: 2},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	site, _, err := db.CreateSite(ctx, "Hand", nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := now.Add(-10 * 24 * time.Hour)
	var msgs []store.Message
	event := func(user, name, props string, at time.Duration) {
		msgs = append(msgs, store.Message{SiteID: site.ID, Kind: store.KindTrack, UserID: user, AnonymousID: "a-" + user,
			Name: name, Properties: props, MessageID: fmt.Sprintf("m%d", len(msgs)), Timestamp: t0.Add(at), ReceivedAt: t0.Add(at)})
	}
	expose := func(user, variant string, at time.Duration) {
		event(user, experiment.ExposureEvent, `{"experiment":"x","variant":"`+variant+`"}`, at)
	}
	h, d := time.Hour, 24*time.Hour
	// u1 converts on the steps after its exposure, not on those before.
	event("u1", "Step 1", "{}", 0)
	expose("u1", "A", h)
	event("u1", "Step 1", "{}", 2*h)
	event("u1", "Step 2", "{}", 3*h)
	// u2 went through before its exposure only.
	event("u2", "Step 1", "{}", 0)
	event("u2", "Step 2", "{}", h/2)
	expose("u2", "A", h)
	// u3's second step is past the 3-day window.
	expose("u3", "B", 0)
	event("u3", "Step 1", "{}", h)
	event("u3", "Step 2", "{}", h+3*d+time.Second)
	// u4's second step is at the same moment as its first.
	expose("u4", "B", 0)
	event("u4", "Step 1", "{}", h)
	event("u4", "Step 2", "{}", h)
	// u5 did step 2 first, then both in order, the last at the window's end.
	expose("u5", "B", 0)
	event("u5", "Step 2", "{}", h)
	event("u5", "Step 1", "{}", 2*h)
	event("u5", "Step 2", "{}", 2*h+3*d)
	// u7 did step 1 on the last day only, after its start.
	expose("u7", "A", 0)
	event("u7", "Step 1", "{}", now.Sub(t0)-time.Hour)
	// u6 saw both variants.
	expose("u6", "A", 0)
	expose("u6", "B", h)
	event("u6", "Step 1", "{}", 2*h)
	event("u6", "Step 2", "{}", 3*h)
	if _, err := db.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	r := experiment.NewReader(db, engine.New(db, compiler.DuckDB{}, clock), compiler.DuckDB{}, clock)
	res, err := r.Results(ctx, site.ID, experiment.Definition{Name: "x", Source: experiment.Source{Experiment: "x"},
		Variants: []experiment.Variant{{Name: "A"}, {Name: "B"}}, Start: t0.Add(-d),
		Goals: []experiment.Goal{{Kind: "funnel", Steps: []string{"Step 1", `did("Step 2")`}, Window: "3d"},
			{Kind: "event", Event: "Step 1"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][][2]int64{
		{{1, 3}, {1, 3}}, // the funnel: u1; u5
		{{2, 3}, {3, 3}}, // Step 1 after the exposure: u1 (its second), u7 (on the last day); u3, u4, u5
	} {
		arms := res.Goals[i].Arms
		got := [][2]int64{{arms[0].Conversions, arms[0].Users}, {arms[1].Conversions, arms[1].Users}}
		if !slices.Equal(got, want) || res.Multiple != 1 {
			t.Errorf("%s: conversions of users %v (multiple %d), want %v (multiple 1)", res.Goals[i].Goal.Name, got, res.Multiple, want)
		}
	}
}
