package experiment

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/stats"
	"github.com/sightline/sightline/internal/store"
)

// Store is what reading results needs of storage.
type Store interface {
	Sync(ctx context.Context) error
	SQL() *sql.DB
}

// Reader computes experiment results.
type Reader struct {
	store   Store
	seg     *engine.Engine
	dialect compiler.Dialect
	now     func() time.Time
}

// NewReader returns a reader over st, whose segments (breakdowns) seg
// compiles for dialect.
func NewReader(st Store, seg *engine.Engine, dialect compiler.Dialect, now func() time.Time) *Reader {
	if now == nil {
		now = time.Now
	}
	return &Reader{store: st, seg: seg, dialect: dialect, now: now}
}

// Interval is a confidence interval (95%).
type Interval = stats.Interval

// Arm is one variant's result on one goal.
type Arm struct {
	Variant string `json:"variant"`
	Control bool   `json:"control"`
	Users   int64  `json:"users"`
	// Conversions and Rate (with its Wilson interval) are for event and
	// funnel goals; Mean (per exposed user, zeros included) and SD for
	// property goals.
	Conversions int64    `json:"conversions"`
	Rate        float64  `json:"rate"`
	Interval    Interval `json:"interval"`
	Mean        float64  `json:"mean"`
	SD          float64  `json:"sd"`
	// The comparison with the control (absent on the control): the
	// difference B − control with its interval (Newcombe for rates,
	// Welch for means), the relative lift with its interval (Katz, for
	// rates), the p-value of the test (two-proportion z, Welch t), the
	// Benjamini–Hochberg adjusted Q over every arm and goal, and whether
	// it is significant (Q below stats.Alpha, both arms at least
	// stats.MinSample users).
	Diff         *float64  `json:"diff,omitempty"`
	DiffInterval *Interval `json:"diff_interval,omitempty"`
	Lift         *float64  `json:"lift,omitempty"`
	LiftInterval *Interval `json:"lift_interval,omitempty"`
	// LiftNote says why a rate's lift or its interval is not the plain
	// one: "control_zero" (the control converted no one: no lift, read
	// the difference and its interval, which are defined) or "corrected"
	// (this arm at 0%, or both at 100%: Katz's interval, which would
	// have no width or no bound there, taken with ½ added to each count).
	LiftNote    string   `json:"lift_note,omitempty"`
	Test        string   `json:"test,omitempty"`
	P           *float64 `json:"p,omitempty"`
	Q           *float64 `json:"q,omitempty"`
	Significant bool     `json:"significant"`
}

// GoalResult is every variant's result on one goal.
type GoalResult struct {
	Goal Goal  `json:"goal"`
	Arms []Arm `json:"arms"`
}

// VariantCount is how many users were exposed to a variant.
type VariantCount struct {
	Name     string  `json:"name"`
	Control  bool    `json:"control"`
	Weight   float64 `json:"weight"`
	Users    int64   `json:"users"`
	Expected float64 `json:"expected"`
	// Segment selects the variant's users in the segment language, for
	// links to their recordings, answers and profiles.
	Segment string `json:"segment"`
}

// SRM is the sample-ratio check: do the exposed counts match the
// planned weights? Mismatch is set when P < 0.001, the usual threshold
// for an assignment that is broken rather than unlucky.
type SRM struct {
	ChiSquare float64 `json:"chi_square"`
	P         float64 `json:"p"`
	Mismatch  bool    `json:"mismatch"`
}

// Part is the results over one set of users: everyone exposed, or one
// breakdown segment's exposed users.
type Part struct {
	Segment  string         `json:"segment,omitempty"`
	Variants []VariantCount `json:"variants"`
	// Unexpected counts users whose variant is none of the definition's.
	Unexpected map[string]int64 `json:"unexpected,omitempty"`
	// Multiple counts users exposed to more than one variant: they are
	// in no variant's results.
	Multiple int64        `json:"multiple"`
	SRM      SRM          `json:"srm"`
	Goals    []GoalResult `json:"goals"`
}

// Result is an experiment's results.
type Result struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Part                // everyone exposed
	Breakdown []Part    `json:"breakdown,omitempty"`
	TookMS    int64     `json:"took_ms"`
}

// srmAlpha is the p-value below which a sample ratio is a mismatch.
const srmAlpha = 0.001

// Results computes an experiment's results for a site.
func (r *Reader) Results(ctx context.Context, site int64, d Definition) (*Result, error) {
	start := time.Now()
	if err := d.Normalize(); err != nil {
		return nil, err
	}
	if err := r.store.Sync(ctx); err != nil {
		return nil, err
	}
	end := d.End
	if end.IsZero() || end.After(r.now()) {
		end = r.now().UTC()
	}
	q := &query{r: r, site: site, d: d, start: d.Start, end: end}
	if d.Source.Kind == "attribute" {
		cat, err := r.seg.Catalog(ctx, site)
		if err != nil {
			return nil, err
		}
		t, ok := cat.AttributeType(segment.ScopeUser, d.Source.Attribute)
		if !ok {
			return nil, apierr.Invalid("invalid_experiment", "source.attribute", "the site has no attribute %q", d.Source.Attribute)
		}
		if t != attr.String {
			return nil, apierr.Invalid("invalid_experiment", "source.attribute", "the variant attribute %q is not text", d.Source.Attribute)
		}
	}
	var segs []*store.KeySet
	for i, text := range d.Breakdown {
		n, err := r.seg.Prepare(ctx, site, engine.Definition{Text: text}, "")
		if err != nil {
			return nil, apierr.Invalid("invalid_segment", fmt.Sprintf("breakdown[%d]", i), "%v", err)
		}
		ks, err := r.seg.MembersQuery(ctx, site, n)
		if err != nil {
			return nil, err
		}
		segs = append(segs, &ks)
	}
	ctx, cancel := r.seg.Bound(ctx)
	defer cancel()
	res := &Result{Start: d.Start, End: end}
	all, err := q.together(ctx, segs)
	if err != nil {
		return nil, r.seg.QueryError(ctx, "read experiment results", err)
	}
	res.Part = *q.part(all.counts[0], all.multiple[0], all.goals[0])
	for i := range segs {
		p := q.part(all.counts[i+1], all.multiple[i+1], all.goals[i+1])
		p.Segment = d.Breakdown[i]
		res.Breakdown = append(res.Breakdown, *p)
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}

// part computes the results over one part's exposed users from the
// exposures to each variant alone (counts, which it consumes), the users
// exposed to more than one, and each goal's sums per variant.
func (q *query) part(counts map[string]int64, multiple int64, goals []map[string]goalSums) *Part {
	p := &Part{Multiple: multiple}
	var observed []int64
	var weights []float64
	var total, wsum float64
	for _, v := range q.d.Variants {
		total += float64(counts[v.Name])
		wsum += v.Weight
	}
	for _, v := range q.d.Variants {
		n := counts[v.Name]
		delete(counts, v.Name)
		p.Variants = append(p.Variants, VariantCount{Name: v.Name, Control: v.Name == q.d.Control, Weight: v.Weight,
			Users: n, Expected: total * v.Weight / wsum, Segment: q.variantSegment(v.Name)})
		observed = append(observed, n)
		weights = append(weights, v.Weight)
	}
	if len(counts) > 0 {
		p.Unexpected = counts
	}
	srm := stats.SampleRatio(observed, weights)
	p.SRM = SRM{ChiSquare: srm.Statistic, P: srm.P, Mismatch: srm.Valid && srm.P < srmAlpha}

	var ps []float64
	var arms []*Arm
	for gi, g := range q.d.Goals {
		gr := GoalResult{Goal: g}
		sums := goals[gi]
		ctl := sums[q.d.Control]
		for _, v := range q.d.Variants {
			s := sums[v.Name]
			s.users = counts0(p.Variants, v.Name)
			gr.Arms = append(gr.Arms, arm(g, v.Name, v.Name == q.d.Control, s, withUsers(ctl, counts0(p.Variants, q.d.Control))))
		}
		p.Goals = append(p.Goals, gr)
	}
	for gi := range p.Goals {
		for ai := range p.Goals[gi].Arms {
			a := &p.Goals[gi].Arms[ai]
			if a.P != nil {
				ps = append(ps, *a.P)
				arms = append(arms, a)
			}
		}
	}
	ctlUsers := counts0(p.Variants, q.d.Control)
	for i, qv := range stats.BenjaminiHochberg(ps) {
		arms[i].Q = ptr(qv)
		arms[i].Significant = stats.Significant(qv, arms[i].Users, ctlUsers)
	}
	return p
}

func counts0(vs []VariantCount, name string) int64 {
	for _, v := range vs {
		if v.Name == name {
			return v.Users
		}
	}
	return 0
}

func ptr[T any](v T) *T { return &v }

// goalSums is a variant's totals on a goal: users who converted, and the
// sum and sum of squares of the per-user value.
type goalSums struct {
	users, converted int64
	sum, sq          float64
}

func withUsers(s goalSums, n int64) goalSums { s.users = n; return s }

// arm computes one variant's result on a goal against the control.
func arm(g Goal, name string, control bool, s, ctl goalSums) Arm {
	a := Arm{Variant: name, Control: control, Users: s.users, Conversions: s.converted}
	if s.users > 0 {
		a.Rate = float64(s.converted) / float64(s.users)
	}
	a.Interval = stats.Wilson(s.converted, s.users, 0.95)
	sum := summary(s)
	a.Mean, a.SD = sum.Mean, math.Sqrt(sum.Var)
	if control {
		return a
	}
	if g.Kind != "property" {
		a.Test = "two-proportion z"
		t := stats.TwoProportions(ctl.converted, ctl.users, s.converted, s.users)
		a.P = ptr(t.P)
		var cr float64
		if ctl.users > 0 {
			cr = float64(ctl.converted) / float64(ctl.users)
		}
		a.Diff = ptr(a.Rate - cr)
		a.DiffInterval = ptr(stats.Newcombe(ctl.converted, ctl.users, s.converted, s.users, 0.95))
		if lift, in, ok := stats.Lift(ctl.converted, ctl.users, s.converted, s.users, 0.95); ok {
			a.Lift, a.LiftInterval = ptr(lift), ptr(in)
			if stats.LiftCorrected(ctl.converted, ctl.users, s.converted, s.users) {
				a.LiftNote = "corrected"
			}
		} else if ctl.users > 0 && s.users > 0 {
			a.LiftNote = "control_zero"
		}
		return a
	}
	a.Test = "Welch t"
	cs := summary(ctl)
	t := stats.Welch(cs, sum)
	a.P = ptr(t.P)
	a.Diff = ptr(sum.Mean - cs.Mean)
	if t.Valid {
		se := math.Sqrt(cs.Var/float64(cs.N) + sum.Var/float64(sum.N))
		h := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: t.DF}.Quantile(0.975) * se
		a.DiffInterval = ptr(Interval{Low: *a.Diff - h, High: *a.Diff + h})
	}
	if cs.Mean != 0 {
		a.Lift = ptr(sum.Mean/cs.Mean - 1)
	}
	return a
}

func summary(s goalSums) stats.Summary {
	if s.users == 0 {
		return stats.Summary{}
	}
	n := float64(s.users)
	mean := s.sum / n
	out := stats.Summary{N: s.users, Mean: mean}
	if s.users > 1 {
		out.Var = max(0, (s.sq-n*mean*mean)/(n-1))
	}
	return out
}

// variantSegment is the segment of a variant's users.
func (q *query) variantSegment(v string) string {
	val := []segment.Value{{Kind: segment.ValString, Str: v}}
	if q.d.Source.Kind == "attribute" {
		return segment.Format(&segment.Attribute{Key: q.d.Source.Attribute, Op: segment.OpEq, Values: val})
	}
	return segment.Format(&segment.Event{Name: q.d.Source.Event, Where: []segment.Property{
		{Key: "experiment", Op: segment.OpEq, Values: []segment.Value{{Kind: segment.ValString, Str: q.d.Source.Experiment}}},
		{Key: q.d.Source.Property, Op: segment.OpEq, Values: val},
	}})
}
