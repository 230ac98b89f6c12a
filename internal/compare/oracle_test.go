package compare_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/stats"
)

// TestActivityAgainstEvents checks what a comparison reads from the day
// tables (user_days, event_days) and its periods' edges against the
// same measures computed here from every event and session, over random
// periods: midnights and not, within a day, across one midnight, and
// long ones. Per group: active days, events and sessions per user, the
// share active in each week, and for every event and page the share of
// users who did it and the rate per user.
func TestActivityAgainstEvents(t *testing.T) {
	l := fillLedgerly(t, 1000)
	ctx := context.Background()
	c := compare.New(l.db, l.seg, compiler.DuckDB{}, func() time.Time { return now })
	a := parse(t, `plan = "enterprise" or did("Export", 30d) >= 3`)
	midnight := now.Truncate(24 * time.Hour)
	periods := [][2]time.Time{
		{midnight.Add(-30 * 24 * time.Hour), midnight},                                               // whole days
		{now.Add(-30 * 24 * time.Hour), now},                                                         // edges on both sides
		{midnight.Add(-3 * 24 * time.Hour), midnight.Add(-3*24*time.Hour + 9*time.Hour)},             // within a day, from midnight
		{midnight.Add(-40*24*time.Hour + 5*time.Hour), midnight.Add(-39*24*time.Hour - time.Hour)},   // within a day
		{midnight.Add(-10*24*time.Hour - 3*time.Hour), midnight.Add(-10*24*time.Hour + 2*time.Hour)}, // across one midnight
		{now.Add(-89 * 24 * time.Hour), now},                                                         // 12 whole weeks
	}
	r := rand.New(rand.NewPCG(15, 6))
	for range 4 {
		from := now.Add(-time.Duration(r.Int64N(int64(85 * 24 * time.Hour)))).Truncate(time.Second)
		to := from.Add(time.Duration(r.Int64N(int64(50 * 24 * time.Hour))))
		if to.After(now) {
			to = now
		}
		periods = append(periods, [2]time.Time{from, to})
	}
	for _, p := range periods {
		t.Run(p[0].Format("0102T1504")+"-"+p[1].Format("0102T1504"), func(t *testing.T) {
			res, err := c.Compare(ctx, l.site, compare.Request{A: a, From: p[0], To: p[1]})
			if err != nil {
				t.Fatal(err)
			}
			want := expectActivity(t, l, a, p[0], p[1])
			got := map[string]compare.Row{}
			for _, r := range append(res.Metrics, res.Rows...) {
				if r.Kind == "metric" || r.Kind == "event" || r.Kind == "page" {
					got[r.Kind+" "+r.Key+" "+r.Measure] = r
				}
			}
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					if w.A != 0 || w.B != 0 {
						t.Errorf("%s: no row; the events say A %v B %v", k, w.A, w.B)
					}
					continue
				}
				if math.Abs(g.A-w.A) > 1e-9*math.Max(1, math.Abs(w.A)) || math.Abs(g.B-w.B) > 1e-9*math.Max(1, math.Abs(w.B)) ||
					g.NA != w.NA || g.NB != w.NB || (w.P >= 0 && math.Abs(g.P-w.P) > 1e-9) {
					t.Errorf("%s: A %v B %v (n %d/%d, p %v); the events say A %v B %v (n %d/%d, p %v)", k, g.A, g.B, g.NA, g.NB, g.P,
						w.A, w.B, w.NA, w.NB, w.P)
				}
				delete(got, k)
			}
			for k, g := range got {
				if g.Kind != "metric" {
					t.Errorf("%s: a row the events do not have: %v", k, g)
				}
			}
		})
	}
}

// expected is what a row should say; P is -1 when not checked.
type expected struct {
	A, B   float64
	NA, NB int64
	P      float64
}

// expectActivity computes, from the events and sessions, the rows a
// comparison of a with the other identified users over [from, to)
// should have, by kind, key and measure.
func expectActivity(t *testing.T, l *ledgerly, a segment.Node, from, to time.Time) map[string]expected {
	t.Helper()
	ctx := context.Background()
	db := l.db.SQL()
	ks, err := l.seg.MembersQuery(ctx, l.site, a)
	if err != nil {
		t.Fatal(err)
	}
	group := map[int64]int{} // user → 0 (A) or 1 (B)
	read := func(q string, args []any, each func(k int64)) {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k int64
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			each(k)
		}
	}
	read("SELECT DISTINCT entity_key FROM identities WHERE site_id = ? AND kind = 1", []any{l.site}, func(k int64) { group[k] = 1 })
	read(ks.SQL, ks.Args, func(k int64) { group[k] = 0 })
	var size [2]int64
	for _, g := range group {
		size[g]++
	}

	type perUser struct {
		days, events, sessions float64
		weeks                  []bool
	}
	nw := min(12, int(to.Sub(from)/(7*24*time.Hour)))
	users := map[int64]*perUser{}
	user := func(k int64) *perUser {
		u := users[k]
		if u == nil {
			u = &perUser{weeks: make([]bool, nw)}
			users[k] = u
		}
		return u
	}
	counts := map[string]map[int64]float64{} // "event X" / "page /p" → user → count
	rows, err := db.QueryContext(ctx, `SELECT user_key, kind, name, path, ts FROM events
		WHERE site_id = ? AND kind IN (2, 3, 4) AND ts >= ? AND ts < ?`, l.site, from, to)
	if err != nil {
		t.Fatal(err)
	}
	days := map[[2]int64]bool{}
	for rows.Next() {
		var k, kind int64
		var name, path string
		var ts time.Time
		if err := rows.Scan(&k, &kind, &name, &path, &ts); err != nil {
			t.Fatal(err)
		}
		u := user(k)
		u.events++
		if day := [2]int64{k, ts.UTC().Unix() / 86400}; !days[day] {
			days[day] = true
			u.days++
		}
		if w := int(ts.Sub(from) / (7 * 24 * time.Hour)); w < nw {
			u.weeks[w] = true
		}
		key := ""
		switch kind {
		case 2:
			key = "event " + name
		case 3:
			key = "page " + path
		}
		if key != "" {
			if counts[key] == nil {
				counts[key] = map[int64]float64{}
			}
			counts[key][k]++
		}
	}
	rows.Close()
	read("SELECT user_key FROM all_sessions WHERE site_id = ? AND started_at >= ? AND started_at < ?", []any{l.site, from, to},
		func(k int64) { user(k).sessions++ })

	out := map[string]expected{}
	weeks := max(to.Sub(from).Hours()/(24*7), 1.0/7)
	mean := func(key string, f func(*perUser) float64, scale float64) {
		var s [2][]stats.Freq
		var sum [2]float64
		for k, g := range group {
			v := 0.0
			if u := users[k]; u != nil {
				v = f(u)
			}
			s[g] = append(s[g], stats.Freq{Value: v / scale, Count: 1})
			sum[g] += v / scale
		}
		sa, sb := stats.Summarize(s[0]), stats.Summarize(s[1])
		out["metric "+key+" mean"] = expected{A: sum[0] / float64(size[0]), B: sum[1] / float64(size[1]), NA: size[0], NB: size[1],
			P: stats.Welch(sa, sb).P}
	}
	mean("active_days_per_week", func(u *perUser) float64 { return u.days }, weeks)
	mean("events_per_user", func(u *perUser) float64 { return u.events }, 1)
	mean("sessions_per_user", func(u *perUser) float64 { return u.sessions }, 1)
	for w := range nw {
		var x [2]int64
		for k, g := range group {
			if u := users[k]; u != nil && u.weeks[w] {
				x[g]++
			}
		}
		out[fmt.Sprintf("metric active_week_%d share", w+1)] = expected{A: float64(x[0]) / float64(size[0]),
			B: float64(x[1]) / float64(size[1]), NA: size[0], NB: size[1], P: stats.TwoProportions(x[0], size[0], x[1], size[1]).P}
	}
	for key, by := range counts {
		var did [2]int64
		var freq [2]map[float64]int64
		freq[0], freq[1] = map[float64]int64{}, map[float64]int64{}
		var sum [2]float64
		for k, c := range by {
			g, ok := group[k]
			if !ok {
				continue
			}
			did[g]++
			freq[g][c]++
			sum[g] += c
		}
		if did[0]+did[1] == 0 {
			continue
		}
		out[key+" share"] = expected{A: float64(did[0]) / float64(size[0]), B: float64(did[1]) / float64(size[1]),
			NA: size[0], NB: size[1], P: stats.TwoProportions(did[0], size[0], did[1], size[1]).P}
		var fs [2][]stats.Freq
		for g := range 2 {
			fs[g] = append(fs[g], stats.Freq{Value: 0, Count: size[g] - did[g]})
			for v, n := range freq[g] {
				fs[g] = append(fs[g], stats.Freq{Value: v, Count: n})
			}
		}
		mw, _ := stats.MannWhitney(fs[0], fs[1])
		out[key+" per_user"] = expected{A: sum[0] / float64(size[0]), B: sum[1] / float64(size[1]), NA: size[0], NB: size[1], P: mw.P}
	}
	return out
}
