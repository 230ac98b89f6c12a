// Package segbench times segment evaluation on a generated site: counts,
// first pages of members and single-user membership checks, reporting
// median and 95th-percentile latencies and the process's peak memory.
package segbench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// Case is one segment to time.
type Case struct {
	Name   string `json:"name"`
	Text   string `json:"text"`
	Target string `json:"target,omitempty"` // the SPEC target, for the report
}

// Cases are the seed's segments and others that exercise every kind of
// condition, written against the generator's synthetic product.
func Cases() []Case {
	return []Case{
		{"attribute + behaviour", `plan = "pro" and did("Report Exported", 30d)`, "< 300 ms"},
		{"power users (seed, four parts)", `active_days(7d) >= 4 and session_duration(7d) >= 3h and did("Export", 30d) and plan = "enterprise"`, "< 1 s"},
		{"trial users who became paid", `plan changed from "trial" to "pro" within 90d`, ""},
		{"trial users who churned", `plan changed from "trial" within 90d and not (plan in ("pro", "enterprise"))`, ""},
		{"high-LTV customers", `ltv >= 1000`, ""},
		{"low-LTV customers", `ltv > 0 and ltv < 100`, ""},
		{"inactive users", `not (active_days(30d) >= 1)`, ""},
		{"most active users", `active_days(30d) >= 15`, ""},
		{"users by persona", `persona = "accountant"`, ""},
		{"mobile visitors from the Nordics", `session.device = "mobile" within 30d and session.country in ("NO", "SE", "DK", "FI")`, ""},
		{"saw pricing, did not upgrade", `visited(starts_with "/pricing", 14d) and not did("Upgrade Clicked", 14d)`, ""},
	}
}

// Config says what to run.
type Config struct {
	Site        int64
	Runs        int // timed runs per case, after one warm-up
	MemberPage  int
	Memberships int // single-user checks per membership case
	// MembershipOnly times only the membership checks of the cases that
	// have them: no counts, pages or trends.
	MembershipOnly bool
	Seed           uint64
	Now            time.Time // the moment the engine evaluates at
	// TrendPerDay also times the trend's past days one count per day,
	// as trends were counted before, and checks the sizes agree.
	TrendPerDay bool
	// ClickHouse, when set, is the database the engine's queries run on
	// (a copy of the site in ClickHouse, compiled for compiler.ClickHouse):
	// members are sampled there.
	ClickHouse *sql.DB
}

// Stats are latencies of repeated runs.
type Stats struct {
	Median time.Duration `json:"median_ns"`
	P95    time.Duration `json:"p95_ns"`
	Max    time.Duration `json:"max_ns"`
}

func stats(ds []time.Duration) Stats {
	slices.Sort(ds)
	p := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return Stats{Median: p(0.5), P95: p(0.95), Max: ds[len(ds)-1]}
}

// Result is one case's figures.
type Result struct {
	Case
	Size    int64 `json:"size"`
	Count   Stats `json:"count"`
	Members Stats `json:"first_page"`
	Preview Stats `json:"preview"`
	// Membership is a random user's first check against the segment,
	// answered by the database; MembershipMember the same for members of
	// the segment, whose every condition is read; MembershipRepeat the
	// random users' checks again, with no write in between, answered from
	// the engine's cache.
	Membership       Stats `json:"membership"`
	MembershipMember Stats `json:"membership_member"`
	MembershipRepeat Stats `json:"membership_repeat"`
	// Trend is the time of a 90-day daily trend as the API asks for it
	// (Engine.Trend: the past days in one pass, today live); TrendPerDay,
	// when Config.TrendPerDay asks for it, the time of the same past days
	// counted one historical count per day, whose sizes must be the same.
	Trend       time.Duration `json:"trend_90d,omitempty"`
	TrendPerDay time.Duration `json:"trend_90d_per_day,omitempty"`
}

// Report is a whole run.
type Report struct {
	Users, Events int64
	Results       []Result
	PeakRSS       string
	RSS           string
}

// Run times every case.
func Run(ctx context.Context, db *duckstore.DB, eng *engine.Engine, cfg Config, progress io.Writer) (Report, error) {
	var rep Report
	q := db.SQL()
	if err := q.QueryRowContext(ctx, "SELECT count(DISTINCT entity_key) FROM identities WHERE site_id = ? AND kind IN (1, 2)",
		cfg.Site).Scan(&rep.Users); err != nil {
		return rep, err
	}
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE site_id = ?", cfg.Site).Scan(&rep.Events); err != nil {
		return rep, err
	}
	keys, err := sampleUsers(ctx, db, cfg)
	if err != nil {
		return rep, err
	}
	for i, c := range Cases() {
		if cfg.MembershipOnly && i >= 2 {
			break
		}
		n, err := eng.Prepare(ctx, cfg.Site, engine.Definition{Text: c.Text}, "")
		if err != nil {
			return rep, fmt.Errorf("%s: %w", c.Name, err)
		}
		r := Result{Case: c}
		var counts, pages, previews []time.Duration
		for run := 0; run <= cfg.Runs && !cfg.MembershipOnly; run++ {
			start := time.Now()
			size, err := eng.Count(ctx, cfg.Site, n)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", c.Name, err)
			}
			took := time.Since(start)
			r.Size = size
			start = time.Now()
			if _, err := eng.Members(ctx, cfg.Site, n, 0, cfg.MemberPage, []string{"plan", "ltv", "persona"}); err != nil {
				return rep, fmt.Errorf("%s: %w", c.Name, err)
			}
			pageTook := time.Since(start)
			start = time.Now()
			if _, _, err := eng.Preview(ctx, cfg.Site, n, 10, []string{"plan", "ltv", "persona"}); err != nil {
				return rep, fmt.Errorf("%s preview: %w", c.Name, err)
			}
			if run > 0 { // the first run warms the caches
				counts = append(counts, took)
				pages = append(pages, pageTook)
				previews = append(previews, time.Since(start))
			}
		}
		if cfg.MembershipOnly { // one count, untimed, reads the data in as the full run does
			if r.Size, err = eng.Count(ctx, cfg.Site, n); err != nil {
				return rep, fmt.Errorf("%s: %w", c.Name, err)
			}
		} else {
			r.Count, r.Members, r.Preview = stats(counts), stats(pages), stats(previews)
		}
		if i < 2 { // membership for the two targeted cases
			members, err := sampleMembers(ctx, db, eng, cfg, n)
			if err != nil {
				return rep, fmt.Errorf("%s members: %w", c.Name, err)
			}
			for pass, p := range []struct {
				keys []int64
				out  *Stats
			}{{keys, &r.Membership}, {members, &r.MembershipMember}, {keys, &r.MembershipRepeat}} {
				var checks []time.Duration
				for _, k := range p.keys {
					start := time.Now()
					if _, err := eng.Contains(ctx, cfg.Site, n, k); err != nil {
						return rep, fmt.Errorf("%s membership (pass %d): %w", c.Name, pass+1, err)
					}
					checks = append(checks, time.Since(start))
				}
				if len(checks) > 0 {
					*p.out = stats(checks)
				}
			}
			if !cfg.MembershipOnly {
				if r.Trend, r.TrendPerDay, err = timeTrend(ctx, eng, cfg, n); err != nil {
					return rep, fmt.Errorf("%s trend: %w", c.Name, err)
				}
			}
		}
		rep.Results = append(rep.Results, r)
		if progress != nil {
			fmt.Fprintf(progress, "%-36s size %8d  count %s  first page %s\n", c.Name, r.Size,
				fmtStats(r.Count), fmtStats(r.Members))
		}
	}
	rep.PeakRSS, rep.RSS = procStatus("VmHWM"), procStatus("VmRSS")
	return rep, nil
}

// timeTrend times a 90-day daily trend of n up to the benchmark's
// moment, and with cfg.TrendPerDay its past days counted one by one.
func timeTrend(ctx context.Context, eng *engine.Engine, cfg Config, n segment.Node) (time.Duration, time.Duration, error) {
	start := time.Now()
	points, err := eng.Trend(ctx, cfg.Site, n, 90, 1)
	took := time.Since(start)
	if err != nil || !cfg.TrendPerDay {
		return took, 0, err
	}
	moments := make([]time.Time, len(points)-1)
	for i := range moments {
		moments[i] = points[i].Day.AddDate(0, 0, 1).Add(-time.Microsecond)
	}
	start = time.Now()
	sizes, err := eng.SizesAt(ctx, cfg.Site, n, moments)
	perDay := time.Since(start)
	if err != nil {
		return took, perDay, err
	}
	for i, size := range sizes {
		if size != points[i].Size {
			return took, perDay, fmt.Errorf("the trend's %s is %d, counted alone %d", points[i].Day.Format(time.DateOnly), points[i].Size, size)
		}
	}
	return took, perDay, nil
}

// sampleMembers picks random members of n for membership checks.
func sampleMembers(ctx context.Context, db *duckstore.DB, eng *engine.Engine, cfg Config, n segment.Node) ([]int64, error) {
	q, err := eng.MembersQuery(ctx, cfg.Site, n)
	if err != nil {
		return nil, err
	}
	sample, on := "SELECT u FROM ("+q.SQL+") m USING SAMPLE "+fmt.Sprint(cfg.Memberships)+" ROWS", db.SQL()
	if cfg.ClickHouse != nil {
		sample, on = "SELECT u FROM ("+q.SQL+") AS m ORDER BY rand() LIMIT "+fmt.Sprint(cfg.Memberships), cfg.ClickHouse
	}
	rows, err := on.QueryContext(ctx, sample, q.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []int64
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// sampleUsers picks random user keys for membership checks.
func sampleUsers(ctx context.Context, db *duckstore.DB, cfg Config) ([]int64, error) {
	rows, err := db.SQL().QueryContext(ctx, `SELECT DISTINCT entity_key FROM identities
		WHERE site_id = ? AND kind = 1 USING SAMPLE 5000 ROWS`, cfg.Site)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []int64
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 1))
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return keys[:min(len(keys), cfg.Memberships)], rows.Err()
}

func fmtStats(s Stats) string {
	round := time.Millisecond / 10
	if s.P95 < time.Millisecond {
		round = time.Microsecond
	}
	return fmt.Sprintf("p50 %7s p95 %7s", s.Median.Round(round), s.P95.Round(round))
}

// procStatus reads a field of /proc/self/status, such as VmHWM.
func procStatus(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Print writes the report as a table.
func Print(w io.Writer, rep Report) {
	fmt.Fprintf(w, "site: %d users, %d events\n", rep.Users, rep.Events)
	fmt.Fprintf(w, "%-36s %9s  %-27s %-27s %-27s %s\n", "segment", "size", "count", "first page of members",
		"preview (size + 10)", "target")
	for _, r := range rep.Results {
		if r.Count.Median > 0 {
			fmt.Fprintf(w, "%-36s %9d  %-27s %-27s %-27s %s\n", r.Name, r.Size, fmtStats(r.Count), fmtStats(r.Members),
				fmtStats(r.Preview), r.Target)
		}
	}
	fmt.Fprintf(w, "%-36s %-27s %-27s %-27s %s\n", "one user's membership", "first check (database)",
		"first check, members", "repeated (cache)", "target")
	for _, r := range rep.Results {
		if r.Membership.Median > 0 {
			fmt.Fprintf(w, "%-36s %-27s %-27s %-27s %s\n", r.Name, fmtStats(r.Membership), fmtStats(r.MembershipMember),
				fmtStats(r.MembershipRepeat), "about 1 ms")
		}
	}
	for _, r := range rep.Results {
		if r.Trend > 0 {
			fmt.Fprintf(w, "%s: a 90-day daily trend took %s", r.Name, r.Trend.Round(time.Millisecond))
			if r.TrendPerDay > 0 {
				fmt.Fprintf(w, " (its 89 past days counted one by one: %s, the same sizes)", r.TrendPerDay.Round(time.Millisecond))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "peak RSS %s (current %s)\n", rep.PeakRSS, rep.RSS)
}

// WriteJSON writes the report as JSON.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
