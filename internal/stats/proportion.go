package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// TwoProportions tests whether xa of na and xb of nb are shares of the
// same proportion: the pooled two-proportion z test, two-sided (the same
// p-value as a 2×2 chi-square without continuity correction). z is
// positive when b's share is the larger.
func TwoProportions(xa, na, xb, nb int64) Result {
	if na <= 0 || nb <= 0 {
		return invalid
	}
	pa, pb := float64(xa)/float64(na), float64(xb)/float64(nb)
	pool := float64(xa+xb) / float64(na+nb)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(na) + 1/float64(nb)))
	if se == 0 {
		return invalid
	}
	z := (pb - pa) / se
	return Result{Statistic: z, P: zTwoSided(z), Valid: true}
}

// Wilson returns the Wilson score interval of the proportion x of n at
// level conf; [0, 1] when n is 0.
func Wilson(x, n int64, conf float64) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	z := zCrit(conf)
	fn := float64(n)
	p := float64(x) / fn
	z2 := z * z
	centre := (p + z2/(2*fn)) / (1 + z2/fn)
	half := z / (1 + z2/fn) * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))
	return Interval{math.Max(0, centre-half), math.Min(1, centre+half)}
}

// Newcombe returns the interval of the difference of proportions
// xb/nb − xa/na at level conf by Newcombe's hybrid score method (his
// method 10, from the two Wilson intervals).
func Newcombe(xa, na, xb, nb int64, conf float64) Interval {
	if na <= 0 || nb <= 0 {
		return Interval{-1, 1}
	}
	pa, pb := float64(xa)/float64(na), float64(xb)/float64(nb)
	wa, wb := Wilson(xa, na, conf), Wilson(xb, nb, conf)
	d := pb - pa
	low := d - math.Sqrt(sq(pb-wb.Low)+sq(wa.High-pa))
	high := d + math.Sqrt(sq(wb.High-pb)+sq(pa-wa.Low))
	return Interval{low, high}
}

// Lift returns the relative lift xb/nb ÷ xa/na − 1 with its interval at
// level conf by the Katz log method for a ratio of proportions. ok is
// false when the lift is undefined (a's share is 0, or a group empty).
// Where Katz's interval has no width or no bound — b's share is 0 (the
// log of 0), or both shares are 1 (a standard error of 0, certainty that
// a sample cannot give) — the interval is Katz's on the counts with ½
// added to each cell of the 2×2 table (the Haldane–Anscombe correction:
// x+½ of n+1); the lift itself stays the observed one. LiftCorrected
// says when that is so.
func Lift(xa, na, xb, nb int64, conf float64) (lift float64, in Interval, ok bool) {
	if na <= 0 || nb <= 0 || xa <= 0 {
		return 0, Interval{}, false
	}
	pa, pb := float64(xa)/float64(na), float64(xb)/float64(nb)
	fa, fna, fb, fnb := float64(xa), float64(na), float64(xb), float64(nb)
	if LiftCorrected(xa, na, xb, nb) {
		fa, fna, fb, fnb = fa+0.5, fna+1, fb+0.5, fnb+1
	}
	ratio := (fb / fnb) / (fa / fna)
	se := math.Sqrt(1/fa - 1/fna + 1/fb - 1/fnb)
	z := zCrit(conf)
	return pb/pa - 1, Interval{ratio*math.Exp(-z*se) - 1, ratio*math.Exp(z*se) - 1}, true
}

// LiftCorrected reports whether Lift's interval for these counts is the
// corrected one: b's share is 0, or both shares are 1.
func LiftCorrected(xa, na, xb, nb int64) bool {
	return xb == 0 || (xa == na && xb == nb)
}

// CohenH is Cohen's h between proportions pa and pb: 2·asin√pb − 2·asin√pa.
func CohenH(pa, pb float64) float64 {
	return 2*math.Asin(math.Sqrt(pb)) - 2*math.Asin(math.Sqrt(pa))
}

// ChiSquare tests independence in a contingency table of counts (rows
// by columns, e.g. groups by categories) with Pearson's chi-square,
// without continuity correction. Rows and columns whose totals are zero
// are left out; fewer than two of either leaves nothing to test.
func ChiSquare(table [][]float64) Result {
	if len(table) == 0 {
		return invalid
	}
	rows := make([]float64, len(table))
	cols := make([]float64, len(table[0]))
	var total float64
	for i, r := range table {
		for j, v := range r {
			rows[i] += v
			cols[j] += v
			total += v
		}
	}
	nr, nc := nonzero(rows), nonzero(cols)
	if nr < 2 || nc < 2 {
		return invalid
	}
	var chi float64
	for i, r := range table {
		if rows[i] == 0 {
			continue
		}
		for j, v := range r {
			if cols[j] == 0 {
				continue
			}
			e := rows[i] * cols[j] / total
			chi += sq(v-e) / e
		}
	}
	df := float64((nr - 1) * (nc - 1))
	return Result{Statistic: chi, DF: df, P: clampP(distuv.ChiSquared{K: df}.Survival(chi)), Valid: true}
}

// SampleRatio checks observed counts against the shares they were meant
// to have (weights, in any unit) with a chi-square goodness-of-fit test:
// a small p-value says the assignment is broken (sample ratio mismatch).
func SampleRatio(observed []int64, weights []float64) Result {
	if len(observed) < 2 || len(observed) != len(weights) {
		return invalid
	}
	var n, w float64
	for i, o := range observed {
		n += float64(o)
		w += weights[i]
	}
	if n == 0 || w <= 0 {
		return invalid
	}
	var chi float64
	for i, o := range observed {
		e := n * weights[i] / w
		if e == 0 {
			return invalid
		}
		chi += sq(float64(o)-e) / e
	}
	df := float64(len(observed) - 1)
	return Result{Statistic: chi, DF: df, P: clampP(distuv.ChiSquared{K: df}.Survival(chi)), Valid: true}
}

func nonzero(xs []float64) int {
	n := 0
	for _, x := range xs {
		if x != 0 {
			n++
		}
	}
	return n
}

func sq(x float64) float64 { return x * x }
