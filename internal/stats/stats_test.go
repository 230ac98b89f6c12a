package stats

import (
	"math"
	"testing"
)

// The reference values below were computed with SciPy 1.10.1 (Debian's
// python3-scipy) unless another source is named; the calls are quoted
// beside each table so they can be recomputed.

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func TestTwoProportions(t *testing.T) {
	// z = sign(pb−pa)·√chi2, p from
	// scipy.stats.chi2_contingency([[xa, na−xa], [xb, nb−xb]], correction=False).
	cases := []struct {
		xa, na, xb, nb int64
		z, p           float64
	}{
		{45, 100, 60, 100, 2.123976976214366, 0.033672068856345896},
		{0, 50, 5, 50, 2.2941573387056176, 0.021781462791119595},
		{120, 1000, 150, 1000, 1.9630498076223553, 0.049640386865368834},
		{3, 10, 9, 12, 2.110687091920543, 0.03479921620986439},
	}
	for _, c := range cases {
		r := TwoProportions(c.xa, c.na, c.xb, c.nb)
		near(t, "z", r.Statistic, c.z, 1e-9)
		near(t, "p", r.P, c.p, 1e-9)
		if !r.Valid {
			t.Errorf("%v: not valid", c)
		}
		// Swapping the groups flips z and keeps p.
		s := TwoProportions(c.xb, c.nb, c.xa, c.na)
		near(t, "swapped z", s.Statistic, -c.z, 1e-9)
	}
	// Nothing to test: an empty group, or no one (or everyone) converted.
	for _, c := range [][4]int64{{0, 0, 5, 10}, {0, 10, 0, 10}, {10, 10, 20, 20}} {
		r := TwoProportions(c[0], c[1], c[2], c[3])
		if r.Valid || r.P != 1 {
			t.Errorf("%v: got %+v, want invalid with p 1", c, r)
		}
	}
}

func TestWilson(t *testing.T) {
	// scipy.stats.binomtest(x, n).proportion_ci(0.95, method='wilson').
	cases := []struct {
		x, n      int64
		low, high float64
	}{
		{0, 10, 0, 0.27753279986288926},
		{5, 10, 0.236593090512564, 0.7634069094874361},
		{56, 70, 0.6918335550374693, 0.8769526075163704},
		{48, 80, 0.490454650051604, 0.7003817240412907},
		{10, 10, 0.7224672001371109, 1},
		{1, 1000, 0.00017654637062607809, 0.0056425585979579355},
	}
	for _, c := range cases {
		in := Wilson(c.x, c.n, 0.95)
		near(t, "low", in.Low, c.low, 1e-9)
		near(t, "high", in.High, c.high, 1e-9)
	}
	if in := Wilson(0, 0, 0.95); in != (Interval{0, 1}) {
		t.Errorf("empty: %v", in)
	}
}

func TestNewcombe(t *testing.T) {
	// Newcombe (1998), "Interval estimation for the difference between
	// independent proportions", Statistics in Medicine 17:873–890,
	// table II, example (a) 56/70 − 48/80, method 10: 0.0524 to 0.3339.
	in := Newcombe(48, 80, 56, 70, 0.95)
	near(t, "low", in.Low, 0.0524, 1e-4)
	near(t, "high", in.High, 0.3339, 1e-4)
	// Example (e) of the same table, 0/10 − 0/20: −0.1611 to 0.2775.
	in = Newcombe(0, 20, 0, 10, 0.95)
	near(t, "low", in.Low, -0.1611, 1e-4)
	near(t, "high", in.High, 0.2775, 1e-4)
}

func TestLift(t *testing.T) {
	// rr = scipy.stats.contingency.relative_risk(xb, nb, xa, na);
	// rr.relative_risk − 1 and rr.confidence_interval(0.95) − 1 (Katz).
	cases := []struct {
		xa, na, xb, nb  int64
		lift, low, high float64
	}{
		{48, 80, 56, 70, 0.3333333333333335, 0.07662642276319298, 0.651248511266387},
		{120, 1000, 150, 1000, 0.25, -0.00032667224198601463, 0.5630105921743933},
		{10, 200, 30, 200, 1.9999999999999996, 0.5072632035299649, 4.971087185650302},
	}
	for _, c := range cases {
		lift, in, ok := Lift(c.xa, c.na, c.xb, c.nb, 0.95)
		if !ok {
			t.Fatalf("%v: no lift", c)
		}
		near(t, "lift", lift, c.lift, 1e-9)
		near(t, "low", in.Low, c.low, 1e-9)
		near(t, "high", in.High, c.high, 1e-9)
	}
	if _, _, ok := Lift(0, 100, 5, 100, 0.95); ok {
		t.Error("lift over a zero control is defined")
	}
	if _, _, ok := Lift(0, 100, 0, 100, 0.95); ok {
		t.Error("lift with both arms at 0% is defined")
	}
	// Where Katz's interval has no width (both at 100%) or no lower
	// bound (b at 0%), it is taken on the counts with ½ added to each
	// cell: x+½ of n+1. The references were computed apart from this
	// package, in Python (statistics.NormalDist for z):
	//   a, b, c, d = xa+.5, na+1, xb+.5, nb+1; r = (c/d)/(a/b)
	//   se = sqrt(1/a-1/b+1/c-1/d); r*exp(∓z*se)-1
	corrected := []struct {
		xa, na, xb, nb  int64
		lift, low, high float64
	}{
		{50, 50, 50, 50, 0, -0.037884187728915664, 0.03937591217785896},
		{200, 200, 200, 200, 0, -0.009715710003351918, 0.009811031136710113},
		{5, 100, 0, 100, -1, -0.9949064811173917, 0.6225448457913925},
		{30, 60, 0, 60, -1, -0.9989746092431785, -0.7379097097919718},
	}
	for _, c := range corrected {
		lift, in, ok := Lift(c.xa, c.na, c.xb, c.nb, 0.95)
		if !ok || !LiftCorrected(c.xa, c.na, c.xb, c.nb) {
			t.Fatalf("%v: ok %v, corrected %v", c, ok, LiftCorrected(c.xa, c.na, c.xb, c.nb))
		}
		near(t, "lift", lift, c.lift, 1e-12)
		near(t, "low", in.Low, c.low, 1e-9)
		near(t, "high", in.High, c.high, 1e-9)
		if in.High <= in.Low {
			t.Errorf("%v: an interval without width %v", c, in)
		}
	}
	if LiftCorrected(48, 80, 56, 70) || LiftCorrected(50, 50, 49, 50) {
		t.Error("ordinary counts are corrected")
	}
}

func TestChiSquare(t *testing.T) {
	// scipy.stats.chi2_contingency(table, correction=False).
	r := ChiSquare([][]float64{{30, 50, 20}, {45, 35, 20}})
	near(t, "chi2", r.Statistic, 5.647058823529411, 1e-9)
	near(t, "p", r.P, 0.05939593960520477, 1e-9)
	if r.DF != 2 {
		t.Errorf("df %v", r.DF)
	}
	// An empty column is left out: the same as the table without it.
	r = ChiSquare([][]float64{{10, 0, 5}, {20, 0, 1}})
	near(t, "chi2", r.Statistic, 5.142857142857143, 1e-9)
	near(t, "p", r.P, 0.02334220201289086, 1e-9)
	if r.DF != 1 {
		t.Errorf("df %v", r.DF)
	}
	for _, tab := range [][][]float64{nil, {{1, 2, 3}}, {{0, 0}, {0, 0}}, {{5, 0}, {7, 0}}} {
		if r := ChiSquare(tab); r.Valid || r.P != 1 {
			t.Errorf("%v: %+v", tab, r)
		}
	}
}

func TestSampleRatio(t *testing.T) {
	// scipy.stats.chisquare(observed, expected).
	r := SampleRatio([]int64{5120, 4880}, []float64{1, 1})
	near(t, "chi2", r.Statistic, 5.76, 1e-9)
	near(t, "p", r.P, 0.01639507184919225, 1e-9)
	r = SampleRatio([]int64{500, 300, 200}, []float64{50, 25, 25})
	near(t, "chi2", r.Statistic, 20, 1e-9)
	near(t, "p", r.P, 4.539992976248486e-05, 1e-6)
	if r := SampleRatio([]int64{0, 0}, []float64{1, 1}); r.Valid {
		t.Error("no users: valid")
	}
}

// counts is the sample of the Mann–Whitney and Welch tests as frequency
// tables: a = [0]*50+[1]*30+[2]*15+[5]*5, b = [0]*30+[1]*35+[2]*25+[5]*10.
var (
	countsA = []Freq{{0, 50}, {1, 30}, {2, 15}, {5, 5}}
	countsB = []Freq{{0, 30}, {1, 35}, {2, 25}, {5, 10}}
)

func TestMannWhitney(t *testing.T) {
	// scipy.stats.mannwhitneyu(a, b, method='asymptotic', use_continuity=True):
	// heavy ties.
	r, rb := MannWhitney(countsA, countsB)
	near(t, "U", r.Statistic, 3812.5, 1e-12)
	near(t, "p", r.P, 0.002150079328714208, 1e-9)
	near(t, "rank-biserial", rb, 1-2*3812.5/(100*100), 1e-12)
	// The same sample split across rows with repeated values.
	split := []Freq{{0, 20}, {1, 30}, {0, 30}, {2, 15}, {5, 5}}
	if r2, _ := MannWhitney(split, countsB); math.Abs(r2.P-r.P) > 1e-12 {
		t.Errorf("split rows: p %v, want %v", r2.P, r.P)
	}

	// scipy.stats.mannwhitneyu([1.1, 2.2, 3.3, 4.4, 5.5], [6.1, 2.5, 7.2, 8.3],
	// method='exact'): small, no ties, exact distribution.
	a := []Freq{{1.1, 1}, {2.2, 1}, {3.3, 1}, {4.4, 1}, {5.5, 1}}
	b := []Freq{{6.1, 1}, {2.5, 1}, {7.2, 1}, {8.3, 1}}
	r, _ = MannWhitney(a, b)
	near(t, "U", r.Statistic, 3, 1e-12)
	near(t, "p", r.P, 0.1111111111111111, 1e-12)

	// All values tied: SciPy reports p 1.
	r, rb = MannWhitney([]Freq{{3, 3}}, []Freq{{3, 4}})
	if r.P != 1 || rb != 0 {
		t.Errorf("all tied: %+v %v", r, rb)
	}
	// One group empty.
	if r, _ := MannWhitney(nil, countsB); r.Valid || r.P != 1 {
		t.Errorf("empty group: %+v", r)
	}
}

func TestWelch(t *testing.T) {
	// scipy.stats.ttest_ind(a, b, equal_var=False) on the samples of counts.
	sa, sb := Summarize(countsA), Summarize(countsB)
	near(t, "mean a", sa.Mean, 0.85, 1e-12)
	near(t, "var a", sa.Var, 1.4419191919191918, 1e-12)
	near(t, "var b", sb.Var, 2.0479797979797976, 1e-12)
	r := Welch(sa, sb)
	near(t, "t", r.Statistic, 2.6764773704119125, 1e-9) // b − a: SciPy's sign flipped
	near(t, "p", r.P, 0.008082751749378387, 1e-9)

	a := []float64{12.5, 14.1, 9.8, 11.0, 13.3, 10.2}
	b := []float64{15.2, 16.8, 14.0, 17.9, 13.1}
	r = Welch(Summarize(freqs(a)), Summarize(freqs(b)))
	near(t, "t", r.Statistic, 3.1640235740176466, 1e-9)
	near(t, "p", r.P, 0.012988377800444739, 1e-9)
	// Cohen's d by hand: (mean b − mean a) / pooled sd, numpy ddof=1.
	near(t, "d", CohenD(Summarize(freqs(a)), Summarize(freqs(b))), 1.9392730476533377, 1e-9)

	if r := Welch(Summary{N: 1, Mean: 3}, sb); r.Valid {
		t.Error("one value: valid")
	}
	if r := Welch(Summary{N: 10, Mean: 3}, Summary{N: 10, Mean: 3}); r.Valid || r.P != 1 {
		t.Errorf("no variance: %+v", r)
	}
}

func freqs(xs []float64) []Freq {
	out := make([]Freq, len(xs))
	for i, x := range xs {
		out[i] = Freq{x, 1}
	}
	return out
}

func TestBenjaminiHochberg(t *testing.T) {
	// By hand (numpy): q = p[order]·m/rank, then the running minimum from
	// the largest rank down, capped at 1.
	ps := []float64{0.01, 0.04, 0.03, 0.005, 0.20, 0.04, 0.5}
	want := []float64{0.035, 0.056, 0.056, 0.035, 0.23333333333333336, 0.056, 0.5}
	got := BenjaminiHochberg(ps)
	for i := range want {
		near(t, "q", got[i], want[i], 1e-12)
	}
	if len(BenjaminiHochberg(nil)) != 0 {
		t.Error("empty")
	}
}

func TestCohenH(t *testing.T) {
	// 2·asin(√0.6) − 2·asin(√0.45), numpy.
	near(t, "h", CohenH(0.45, 0.6), 0.3015253419518904, 1e-12)
}

func TestSignificant(t *testing.T) {
	if Significant(0.001, MinSample-1, 1000) {
		t.Error("a group below the minimum sample is significant")
	}
	if !Significant(0.001, MinSample, MinSample) || Significant(0.05, 1000, 1000) {
		t.Error("threshold")
	}
}
