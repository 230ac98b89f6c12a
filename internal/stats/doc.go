// Package stats holds the tests that comparisons and experiments report:
// two-proportion z and chi-square for shares, Mann–Whitney U and Welch's t
// for numbers, Wilson and Newcombe intervals, the Katz interval of a
// relative lift, Benjamini–Hochberg adjustment, effect sizes (Cohen's h
// and d, rank-biserial correlation) and the sample-ratio-mismatch check.
//
// Distributions come from gonum (distuv); this package only computes the
// statistics. Every test returns a p-value of 1 when it cannot be
// computed (an empty group, no variance), never NaN, so callers can sort
// and adjust without special cases; Result.Valid says whether it was.
package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Alpha is the level below which an adjusted p-value is called
// significant.
const Alpha = 0.05

// MinSample is the number of users each group needs before a difference
// between them may be called significant: below it the normal
// approximations the tests use are not to be trusted, and a result is
// reported with its p-value but never flagged.
const MinSample = 30

// Significant reports whether a difference with adjusted p-value p
// between groups of na and nb users is significant: p below Alpha and
// both groups at least MinSample.
func Significant(p float64, na, nb int64) bool {
	return na >= MinSample && nb >= MinSample && p < Alpha
}

// Result is the outcome of a test.
type Result struct {
	// Statistic is the test's statistic (z, chi-square, U or t).
	Statistic float64
	// DF is the degrees of freedom, for chi-square and t.
	DF float64
	// P is the two-sided p-value; 1 when Valid is false.
	P float64
	// Valid is false when the data cannot be tested: an empty group, or
	// no variation at all.
	Valid bool
}

// invalid is the Result of data that cannot be tested.
var invalid = Result{P: 1}

// Interval is a confidence interval.
type Interval struct {
	Low, High float64
}

var stdNormal = distuv.Normal{Mu: 0, Sigma: 1}

// zTwoSided returns the two-sided p-value of a standard normal z.
func zTwoSided(z float64) float64 {
	return clampP(2 * stdNormal.Survival(math.Abs(z)))
}

// zCrit returns the standard normal quantile for a two-sided interval at
// level conf (1.959964 for 0.95).
func zCrit(conf float64) float64 {
	return stdNormal.Quantile(1 - (1-conf)/2)
}

func clampP(p float64) float64 {
	switch {
	case math.IsNaN(p):
		return 1
	case p > 1:
		return 1
	case p < 0:
		return 0
	}
	return p
}
