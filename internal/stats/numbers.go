package stats

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Freq is a value and how many observations had it: samples come as
// frequency tables, which is how the database returns them (per-user
// counts grouped by count).
type Freq struct {
	Value float64
	Count int64
}

// Summary is the size, mean and sample variance (n − 1) of a sample.
type Summary struct {
	N    int64
	Mean float64
	Var  float64
}

// Summarize returns the summary of a frequency table.
func Summarize(f []Freq) Summary {
	var n int64
	var sum float64
	for _, x := range f {
		n += x.Count
		sum += x.Value * float64(x.Count)
	}
	if n == 0 {
		return Summary{}
	}
	mean := sum / float64(n)
	var ss float64
	for _, x := range f {
		ss += float64(x.Count) * sq(x.Value-mean)
	}
	s := Summary{N: n, Mean: mean}
	if n > 1 {
		s.Var = ss / float64(n-1)
	}
	return s
}

// Welch tests whether two samples have the same mean with Welch's t test
// (unequal variances), two-sided. t is positive when b's mean is the
// larger.
func Welch(a, b Summary) Result {
	if a.N < 2 || b.N < 2 {
		return invalid
	}
	va, vb := a.Var/float64(a.N), b.Var/float64(b.N)
	se := math.Sqrt(va + vb)
	if se == 0 {
		return invalid
	}
	t := (b.Mean - a.Mean) / se
	df := sq(va+vb) / (sq(va)/float64(a.N-1) + sq(vb)/float64(b.N-1))
	p := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
	return Result{Statistic: t, DF: df, P: clampP(p), Valid: true}
}

// CohenD is the standardised difference of means (b − a) over the pooled
// standard deviation; 0 when there is no variance.
func CohenD(a, b Summary) float64 {
	if a.N+b.N <= 2 {
		return 0
	}
	pooled := math.Sqrt((float64(a.N-1)*a.Var + float64(b.N-1)*b.Var) / float64(a.N+b.N-2))
	if pooled == 0 {
		return 0
	}
	return (b.Mean - a.Mean) / pooled
}

// exactLimit is the largest group size for which MannWhitney computes the
// exact distribution of U (when there are no ties), as SciPy's "auto"
// method does.
const exactLimit = 8

// MannWhitney tests whether values in b tend to be larger or smaller than
// in a with the Mann–Whitney U test, two-sided. Statistic is U of a (the
// pairs in which a's value is the larger, ties counting one half), as
// SciPy's mannwhitneyu(a, b) reports it. Small samples without ties get
// the exact distribution; the others the normal approximation with the
// tie correction and a continuity correction. RankBiserial is the effect
// size: the share of pairs in which b is larger minus the share in which
// it is smaller, from −1 to 1.
func MannWhitney(a, b []Freq) (r Result, rankBiserial float64) {
	var na, nb int64
	for _, x := range a {
		na += x.Count
	}
	for _, x := range b {
		nb += x.Count
	}
	if na == 0 || nb == 0 {
		return invalid, 0
	}
	type entry struct {
		v      float64
		ca, cb int64
	}
	byValue := map[float64]*entry{}
	add := func(f []Freq, isA bool) {
		for _, x := range f {
			if x.Count == 0 {
				continue
			}
			e := byValue[x.Value]
			if e == nil {
				e = &entry{v: x.Value}
				byValue[x.Value] = e
			}
			if isA {
				e.ca += x.Count
			} else {
				e.cb += x.Count
			}
		}
	}
	add(a, true)
	add(b, false)
	vals := make([]*entry, 0, len(byValue))
	for _, e := range byValue {
		vals = append(vals, e)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].v < vals[j].v })

	// Ranks: each tie block gets the mean of the ranks it spans.
	var rankSumA, ties float64
	var below int64
	for _, e := range vals {
		t := e.ca + e.cb
		mid := float64(below) + float64(t+1)/2
		rankSumA += mid * float64(e.ca)
		ft := float64(t)
		ties += ft*ft*ft - ft
		below += t
	}
	fa, fb := float64(na), float64(nb)
	ua := rankSumA - fa*(fa+1)/2
	pairs := fa * fb
	rankBiserial = (pairs - 2*ua) / pairs

	if ties == 0 && na <= exactLimit && nb <= exactLimit {
		return Result{Statistic: ua, P: exactU(int(na), int(nb), ua), Valid: true}, rankBiserial
	}
	n := fa + fb
	sigma := math.Sqrt(pairs / 12 * ((n + 1) - ties/(n*(n-1))))
	if sigma == 0 {
		return Result{Statistic: ua, P: 1}, 0
	}
	mu := pairs / 2
	u := math.Max(ua, pairs-ua)
	z := (u - mu - 0.5) / sigma
	return Result{Statistic: ua, P: clampP(2 * stdNormal.Survival(z)), Valid: true}, rankBiserial
}

// exactU returns the two-sided exact p-value of U = u for samples of m
// and n values without ties: twice the chance of a U at least as far from
// the middle, from the counts of arrangements by U (a recurrence on the
// number of ways to reach each U with i and j values).
func exactU(m, n int, u float64) float64 {
	maxU := m * n
	// ways[i][j][k]: arrangements of i values of a and j of b with U = k.
	prev := make([][]float64, n+1)
	for j := range prev {
		prev[j] = make([]float64, maxU+1)
		prev[j][0] = 1 // zero values of a: U is 0
	}
	for i := 1; i <= m; i++ {
		cur := make([][]float64, n+1)
		for j := 0; j <= n; j++ {
			cur[j] = make([]float64, maxU+1)
			for k := 0; k <= maxU; k++ {
				// The largest value is a's (it beats the j of b: U grows by j) or b's.
				var w float64
				if k-j >= 0 {
					w += prev[j][k-j]
				}
				if j > 0 {
					w += cur[j-1][k]
				}
				cur[j][k] = w
			}
		}
		prev = cur
	}
	dist := prev[n]
	var total float64
	for _, w := range dist {
		total += w
	}
	hi := int(math.Ceil(math.Max(u, float64(maxU)-u)))
	var tail float64
	for k := hi; k <= maxU; k++ {
		tail += dist[k]
	}
	return clampP(2 * tail / total)
}

// BenjaminiHochberg returns the Benjamini–Hochberg adjusted p-values
// (false discovery rate) of ps, in the same order.
func BenjaminiHochberg(ps []float64) []float64 {
	m := len(ps)
	out := make([]float64, m)
	if m == 0 {
		return out
	}
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return ps[idx[i]] < ps[idx[j]] })
	running := 1.0
	for r := m - 1; r >= 0; r-- {
		i := idx[r]
		v := ps[i] * float64(m) / float64(r+1)
		if v < running {
			running = v
		}
		out[i] = clampP(running)
	}
	return out
}
