package compare

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/stats"
)

// The tests a row can report.
const (
	TestZ           = "two-proportion z"
	TestMannWhitney = "Mann–Whitney U"
	TestWelch       = "Welch t"
	TestNone        = ""
)

// The effect sizes a row can report.
const (
	EffectH = "cohen_h" // shares
	EffectD = "cohen_d" // numbers
)

// Row is one measure compared between the groups.
type Row struct {
	// Kind is what is measured: metric, event, page, attribute, company
	// (a company attribute), session, answer (a survey answer).
	Kind string `json:"kind"`
	// Key is the event name, page path, attribute key, session field,
	// metric name or survey/question (the IDs); Value the attribute's,
	// session field's value or the answer's option.
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	// Measure is share (of the group's users; of its sessions for session
	// properties), per_user (a rate, zeros
	// included) or mean (over the units that have a value).
	Measure string `json:"measure"`
	Label   string `json:"label"`
	// A and B are the measure in each group, over NA and NB units (users,
	// or sessions and responses for some metrics).
	A  float64 `json:"a"`
	B  float64 `json:"b"`
	NA int64   `json:"n_a"`
	NB int64   `json:"n_b"`
	// Diff is B − A; Lift B ÷ A − 1, absent when A is 0.
	Diff float64  `json:"diff"`
	Lift *float64 `json:"lift,omitempty"`
	// Test names the test of P; Q is P adjusted for the number of tests
	// (Benjamini–Hochberg), and Significant says Q is below stats.Alpha
	// with both groups at least stats.MinSample.
	Test        string  `json:"test,omitempty"`
	P           float64 `json:"p"`
	Q           float64 `json:"q"`
	Significant bool    `json:"significant"`
	// Effect is Cohen's h (shares) or d (numbers), signed B − A;
	// RankBiserial the Mann–Whitney effect, when that was the test.
	Effect float64 `json:"effect"`
	// Dominance is the chance that a user of B has the larger value less
	// the chance that a user of A has (Cliff's delta: the difference of
	// the shares for a share, the rank-biserial correlation for numbers),
	// from −1 to 1: the scale on which rows of every kind are ranked.
	Dominance float64 `json:"dominance"`
	// Defining is set when the row restates a condition of a group's
	// definition (the groups differ on it by construction); such rows
	// rank last.
	Defining     bool     `json:"defining,omitempty"`
	EffectKind   string   `json:"effect_kind,omitempty"`
	RankBiserial *float64 `json:"rank_biserial,omitempty"`
	// Segment selects the users the row is about (did the event, have
	// the value), in the segment language; absent for metrics.
	Segment string `json:"segment,omitempty"`
	// SegmentA and SegmentB select the users of each group the row is
	// about (the group's definition and Segment): the users and
	// recordings behind the row.
	SegmentA string `json:"segment_a,omitempty"`
	SegmentB string `json:"segment_b,omitempty"`
	cond     segment.Node
	valid    bool
	// usersA and usersB, when set, are the users behind NA and NB units
	// that are not users (sessions): the minimum sample counts users.
	usersA, usersB int64
}

func ptr(f float64) *float64 { return &f }

func (r *Row) finish() {
	r.Diff = r.B - r.A
	if r.A != 0 && !math.IsNaN(r.A) {
		r.Lift = ptr(r.B/r.A - 1)
	}
}

// share is a row of two shares: xa of na against xb of nb.
func share(kind, key, value, label string, xa, na, xb, nb int64) Row {
	r := Row{Kind: kind, Key: key, Value: value, Measure: "share", Label: label, NA: na, NB: nb,
		Test: TestZ, EffectKind: EffectH}
	if na > 0 {
		r.A = float64(xa) / float64(na)
	}
	if nb > 0 {
		r.B = float64(xb) / float64(nb)
	}
	t := stats.TwoProportions(xa, na, xb, nb)
	r.P, r.valid = t.P, t.Valid
	r.Effect = stats.CohenH(r.A, r.B)
	r.Dominance = r.B - r.A
	r.finish()
	return r
}

// numbers is a row comparing two samples with Mann–Whitney U, reporting
// their means and Cohen's d.
func numbers(kind, key, measure, label string, a, b []stats.Freq) Row {
	sa, sb := stats.Summarize(a), stats.Summarize(b)
	r := Row{Kind: kind, Key: key, Measure: measure, Label: label, A: sa.Mean, B: sb.Mean, NA: sa.N, NB: sb.N,
		Test: TestMannWhitney, EffectKind: EffectD}
	t, rb := stats.MannWhitney(a, b)
	r.P, r.valid = t.P, t.Valid
	r.RankBiserial = ptr(rb)
	r.Dominance = rb
	r.Effect = stats.CohenD(sa, sb)
	r.finish()
	return r
}

// means is a row comparing two means with Welch's t.
func means(key, label string, a, b sums) Row {
	sa, sb := a.summary(), b.summary()
	r := Row{Kind: "metric", Key: key, Measure: "mean", Label: label, A: sa.Mean, B: sb.Mean, NA: sa.N, NB: sb.N,
		Test: TestWelch, EffectKind: EffectD}
	t := stats.Welch(sa, sb)
	r.P, r.valid = t.P, t.Valid
	r.Effect = stats.CohenD(sa, sb)
	r.finish()
	return r
}

// metrics returns the side-by-side measures.
func (d *data) metrics() []Row {
	weekly := func(s sums) sums {
		w := max(d.weeks, 1.0/7)
		return sums{N: s.N, Sum: s.Sum / w, Sq: s.Sq / (w * w)}
	}
	out := []Row{
		{Kind: "metric", Key: "users", Measure: "count", Label: "Users", A: float64(d.size[0]), B: float64(d.size[1]),
			NA: d.size[0], NB: d.size[1], P: 1},
		means("active_days_per_week", "Active days per week", weekly(d.days[0]), weekly(d.days[1])),
		means("sessions_per_user", "Sessions per user", d.sessions[0], d.sessions[1]),
		means("session_duration", "Session duration (s)", d.duration[0], d.duration[1]),
		means("events_per_user", "Events per user", d.events[0], d.events[1]),
		means("rage_clicks_per_session", "Rage clicks per session", d.rage[0], d.rage[1]),
		means("dead_clicks_per_session", "Dead clicks per session", d.dead[0], d.dead[1]),
		means("errors_per_session", "Errors per session", d.errors[0], d.errors[1]),
	}
	out[0].finish()
	for k := range d.active[0] {
		r := share("metric", fmt.Sprintf("active_week_%d", k+1), "", fmt.Sprintf("Active in week %d", k+1),
			d.active[0][k], d.size[0], d.active[1][k], d.size[1])
		out = append(out, r)
	}
	nps := numbers("metric", "nps_score", "mean", "NPS score (0–10)", d.nps[0], d.nps[1])
	out = append(out, npsRow(d.nps), nps,
		numbers("metric", "feedback_rating", "mean", "Feedback rating", d.rating[0], d.rating[1]))
	return out
}

// npsRow is the Net Promoter Score of each group (promoters less
// detractors, in points); its test is the score row's.
func npsRow(f [2][]stats.Freq) Row {
	score := func(fs []stats.Freq) (float64, int64) {
		var n, pro, det int64
		for _, x := range fs {
			n += x.Count
			switch {
			case x.Value >= 9:
				pro += x.Count
			case x.Value <= 6:
				det += x.Count
			}
		}
		if n == 0 {
			return 0, 0
		}
		return 100 * float64(pro-det) / float64(n), n
	}
	r := Row{Kind: "metric", Key: "nps", Measure: "score", Label: "NPS", P: 1}
	r.A, r.NA = score(f[0])
	r.B, r.NB = score(f[1])
	r.finish()
	return r
}

// rows returns every difference between the groups, unranked. period is
// the comparison's, for the rows' segments; defs are the groups'
// definitions, whose own conditions mark rows as Defining.
func (d *data) rows(period segment.Period, defs ...segment.Node) []Row {
	out := d.allRows(period)
	defining := map[[2]string]bool{}
	for _, n := range defs {
		segment.Walk(n, func(n segment.Node) bool {
			switch n := n.(type) {
			case *segment.Event:
				defining[[2]string{"event", n.Name}] = true
			case *segment.Visited:
				defining[[2]string{"page", n.Pattern}] = true
			case *segment.Attribute:
				if n.Scope == segment.ScopeCompany {
					defining[[2]string{"company", n.Key}] = true
				} else {
					defining[[2]string{"attribute", n.Key}] = true
				}
			case *segment.Answer:
				defining[[2]string{"answer", n.Survey + "/" + n.Question}] = true
			case *segment.SessionField:
				defining[[2]string{"session", n.Field}] = true
			}
			return true
		})
	}
	for i := range out {
		r := &out[i]
		r.Defining = defining[[2]string{r.Kind, r.Key}]
		if r.cond != nil && len(defs) == 2 {
			r.Segment = segment.Format(r.cond)
			r.SegmentA = segment.Format(&segment.Group{Op: segment.All, Conditions: []segment.Node{defs[0], r.cond}})
			r.SegmentB = segment.Format(&segment.Group{Op: segment.All, Conditions: []segment.Node{defs[1], r.cond}})
		}
	}
	return out
}

func (d *data) allRows(period segment.Period) []Row {
	var out []Row
	for k, f := range d.perEvent {
		var did [2]int64
		for i := range 2 {
			for _, x := range f[i] {
				did[i] += x.Count
			}
		}
		kind, label := "event", k.Name
		var cond segment.Node = &segment.Event{Name: k.Name, Period: period}
		if k.Kind == kindPage {
			kind, label = "page", "Viewed "+k.Name
			cond = &segment.Visited{Match: segment.OpEq, Pattern: k.Name, Period: period}
		}
		r := share(kind, k.Name, "", label, did[0], d.size[0], did[1], d.size[1])
		r.cond = cond
		out = append(out, r)
		// The rate per user, the users who did not counting zero.
		var withZeros [2][]stats.Freq
		for i := range 2 {
			withZeros[i] = append([]stats.Freq{{Value: 0, Count: max(0, d.size[i]-did[i])}}, f[i]...)
		}
		r = numbers(kind, k.Name, "per_user", label+" (per user)", withZeros[0], withZeros[1])
		r.cond = cond
		out = append(out, r)
	}
	for k, c := range d.fields {
		// A share of sessions: NA and NB count sessions.
		r := share("session", k.Key, k.Value, "session."+k.Key+" = "+strconv.Quote(k.Value),
			c[0], int64(d.sessions[0].Sum), c[1], int64(d.sessions[1].Sum))
		r.usersA, r.usersB = d.size[0], d.size[1]
		r.cond = &segment.SessionField{Field: k.Key, Op: segment.OpEq,
			Values: []segment.Value{{Kind: segment.ValString, Str: k.Value}}, Period: period}
		out = append(out, r)
	}
	// Attribute values, with "not set" as a value of its own for booleans
	// (false and unset both read as "not true").
	for k, c := range d.cats {
		t := d.catType[k.Key]
		label := k.Key + " = " + strconv.Quote(k.Value)
		v := segment.Value{Kind: segment.ValString, Str: k.Value}
		if t == attr.Boolean {
			label = k.Key + " = " + k.Value
			v = segment.Value{Kind: segment.ValBool, Bool: k.Value == "true"}
		}
		r := share("attribute", k.Key, k.Value, label, c[0], d.size[0], c[1], d.size[1])
		r.cond = &segment.Attribute{Key: k.Key, Op: segment.OpEq, Values: []segment.Value{v}}
		out = append(out, r)
	}
	for k, f := range d.numbers {
		r := numbers("attribute", k, "mean", k+" (mean)", f[0], f[1])
		r.cond = &segment.Attribute{Key: k, Op: segment.OpSet}
		out = append(out, r)
	}
	for k, f := range d.dates {
		r := numbers("attribute", k, "days_since", k+" (days before the period's end, mean)", f[0], f[1])
		r.cond = &segment.Attribute{Key: k, Op: segment.OpSet}
		out = append(out, r)
	}
	out = append(out, d.companyRows()...)
	return append(out, d.answerRows(period)...)
}

// rank adjusts the rows' p-values for their number (Benjamini–Hochberg),
// flags the significant ones and orders them: rows that restate a
// group's definition last; before them the significant ones, then the
// others that could be tested, then those that could not (a group with
// no unit, as a survey question no one of A answered), each by the size
// of the difference (|Dominance|), then by p-value; and the kinds
// interleaved (the best attribute, event, page and session property,
// then the second of each …), so that no kind of row drowns the others.
// It returns how many tests there were.
func rank(rows []Row) int {
	n := adjust(rows)
	slices.SortStableFunc(rows, func(x, y Row) int {
		if x.Defining != y.Defining {
			if y.Defining {
				return -1
			}
			return 1
		}
		if x.Significant != y.Significant {
			if x.Significant {
				return -1
			}
			return 1
		}
		if x.valid != y.valid {
			if x.valid {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(math.Abs(y.Dominance), math.Abs(x.Dominance)); c != 0 {
			return c
		}
		if c := cmp.Compare(x.P, y.P); c != 0 {
			return c
		}
		return cmp.Compare(x.Label, y.Label)
	})
	interleave(rows)
	return n
}

// negligible is the |Dominance| below which a difference is negligible
// (Cliff's delta under 0.147: Romano et al., "Appropriate statistics for
// ordinal level data", 2006).
const negligible = 0.147

// interleave reorders each block of rows (significant, then tested,
// then not; in each, the differences that are not negligible, then those
// that are; rows restating a definition stay last as they are), sorted
// best first, so that kinds take turns: a negligible difference never
// takes a turn before a larger one of another kind.
func interleave(rows []Row) {
	block := func(r Row) [3]bool { return [3]bool{r.Significant, r.valid, math.Abs(r.Dominance) < negligible} }
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && block(rows[end]) == block(rows[start]) && !rows[end].Defining {
			end++
		}
		if end == start {
			return
		}
		byKind := map[string][]Row{}
		var kinds []string
		for _, r := range rows[start:end] {
			if _, ok := byKind[r.Kind]; !ok {
				kinds = append(kinds, r.Kind)
			}
			byKind[r.Kind] = append(byKind[r.Kind], r)
		}
		out := make([]Row, 0, end-start)
		for len(out) < end-start {
			for _, k := range kinds {
				if q := byKind[k]; len(q) > 0 {
					out = append(out, q[0])
					byKind[k] = q[1:]
				}
			}
		}
		copy(rows[start:end], out)
		start = end
	}
}

// adjust sets Q and Significant on the rows that were tested.
func adjust(rows []Row) int {
	var ps []float64
	var idx []int
	for i, r := range rows {
		if r.Test == TestNone {
			rows[i].Q = 1
			continue
		}
		ps = append(ps, r.P)
		idx = append(idx, i)
	}
	qs := stats.BenjaminiHochberg(ps)
	for k, i := range idx {
		rows[i].Q = qs[k]
		na, nb := rows[i].NA, rows[i].NB
		if rows[i].usersA > 0 || rows[i].usersB > 0 {
			na, nb = min(na, rows[i].usersA), min(nb, rows[i].usersB)
		}
		rows[i].Significant = rows[i].valid && stats.Significant(qs[k], na, nb)
	}
	return len(ps)
}

// String is a row as a line, for logs and tests.
func (r Row) String() string {
	return fmt.Sprintf("%s %s: A %.4g B %.4g (%s p=%.3g q=%.3g effect %.3f)", r.Kind, r.Label, r.A, r.B, r.Test,
		r.P, r.Q, r.Effect)
}

// AddShare adds a side-by-side share computed elsewhere (xa of na in A,
// xb of nb in B: a funnel's conversion, say), tested as the others, and
// adjusts the metrics' p-values again for their new number.
func (res *Result) AddShare(key, label string, xa, na, xb, nb int64) {
	res.Metrics = append(res.Metrics, share("metric", key, "", label, xa, na, xb, nb))
	adjust(res.Metrics)
}
