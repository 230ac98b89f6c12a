// Command sightline-vsclickhouse times the segment benchmark's cases in
// Sightline (its engine on the embedded database) and in ClickHouse (the
// same data copied with chstore.Copy, each case written by hand in
// ClickHouse's SQL, as a team using ClickHouse directly would), pair by
// pair, and prints the ratio of the medians. The counts must agree. make
// bench-vs-clickhouse runs it on the generated 1M-user site (issue 18).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/segbench"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/testsvc"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sightline-vsclickhouse:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sightline-vsclickhouse", flag.ContinueOnError)
	data := fs.String("data", ".bench/segments", "data folder of the generated site")
	siteName := fs.String("site", "bench", "the site's name")
	memory := fs.String("db-memory", "256MB", "Sightline's database memory limit, as the server's --db-memory")
	dsn := fs.String("clickhouse", "", "a ClickHouse database to copy into and query (default: start a server of its own)")
	runs := fs.Int("runs", 9, "timed pairs per case, after one warm-up each")
	nowFlag := fs.String("now", "", "evaluate as of this RFC 3339 time (the data's generation time)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := time.Now().UTC()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		now = t.UTC()
	}
	ctx := context.Background()
	db, err := segbench.Open(ctx, *data, *memory)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := segbench.Site(ctx, db, *data, *siteName)
	if err != nil {
		return err
	}
	site := s.ID

	if *dsn == "" {
		started, stop, err := testsvc.StartClickHouse()
		if err != nil {
			return err
		}
		defer stop()
		*dsn = started
	}
	ch, err := chstore.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer ch.Close()
	var rows uint64
	if err := ch.SQL().QueryRowContext(ctx, "SELECT count() FROM events").Scan(&rows); err != nil {
		return err
	}
	if rows == 0 {
		fmt.Fprintln(os.Stderr, "copying the data into ClickHouse…")
		start := time.Now()
		n, err := ch.Copy(ctx, db.SQL())
		if err != nil {
			return err
		}
		var total int64
		for _, c := range n {
			total += c
		}
		// Merged parts, as a loaded table would be after a while: the
		// hand-written queries then need no FINAL.
		for _, t := range []string{"identities", "attr_current", "sessions"} {
			if _, err := ch.SQL().ExecContext(ctx, "OPTIMIZE TABLE "+t+" FINAL"); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "copied %d rows in %s\n", total, time.Since(start).Round(time.Second))
	}

	eng := engine.New(db, compiler.DuckDB{}, func() time.Time { return now })
	hand := handWritten(site, now)
	type result struct {
		name         string
		sl, ch       []time.Duration
		slN, chN     int64
		disagreement string
	}
	var results []*result
	for _, c := range segbench.Cases() {
		q, ok := hand[c.Name]
		if !ok {
			return fmt.Errorf("no ClickHouse query for %q", c.Name)
		}
		n, err := segment.Parse(c.Text)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		r := &result{name: c.Name}
		for i := 0; i <= *runs; i++ {
			start := time.Now()
			if r.slN, err = eng.Count(ctx, site, n); err != nil {
				return fmt.Errorf("%s in Sightline: %w", c.Name, err)
			}
			sl := time.Since(start)
			start = time.Now()
			if err := ch.SQL().QueryRowContext(ctx, q).Scan(&r.chN); err != nil {
				return fmt.Errorf("%s in ClickHouse: %w\n%s", c.Name, err, q)
			}
			if i > 0 { // the first pair warms both up
				r.sl, r.ch = append(r.sl, sl), append(r.ch, time.Since(start))
			}
		}
		if r.slN != r.chN {
			r.disagreement = fmt.Sprintf("COUNTS DIFFER: Sightline %d, ClickHouse %d", r.slN, r.chN)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%-36s %s\n", c.Name, median(r.sl))
	}

	fmt.Fprintf(stdout, "%-36s %10s %12s %12s %7s\n", "segment", "size", "Sightline", "ClickHouse", "ratio")
	var failed bool
	for _, r := range results {
		sl, chm := median(r.sl), median(r.ch)
		fmt.Fprintf(stdout, "%-36s %10d %12s %12s %7.2f %s\n", r.name, r.slN, sl.Round(100*time.Microsecond),
			chm.Round(100*time.Microsecond), float64(sl)/float64(chm), r.disagreement)
		failed = failed || r.disagreement != ""
	}
	fmt.Fprintf(stdout, "medians of %d interleaved pairs; ratio = Sightline / ClickHouse (below 1: Sightline is faster)\n", *runs)
	if failed {
		return errors.New("the counts differ: one side is wrong")
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// handWritten returns each case of segbench.Cases as ClickHouse SQL over
// chstore's tables, keyed by the case's name: what the segment means,
// written directly (no identity overrides: a copied site has none).
func handWritten(site int64, now time.Time) map[string]string {
	us := func(d time.Duration) string { return fmt.Sprint(now.Add(-d).UnixMicro()) }
	const day = 24 * time.Hour
	s := fmt.Sprint(site)
	r := strings.NewReplacer("$S", s)
	// A set is filtered in a SELECT of its own: 18.16 answers "SELECT
	// DISTINCT entity_key FROM identities WHERE … AND entity_key NOT IN
	// (…)" wrongly (303,086 of 300,000 users), as a subquery rightly.
	users := "SELECT entity_key FROM (SELECT DISTINCT entity_key FROM identities WHERE site_id = $S AND kind IN (1, 2))"
	attr := func(key, cond string) string {
		return "SELECT entity_key FROM attr_current WHERE site_id = $S AND entity = 0 AND key = '" + key + "' AND is_null = 0 AND " + cond
	}
	events := func(cond string) string {
		return "SELECT user_key FROM events WHERE site_id = $S AND " + cond
	}
	activeDays := func(last time.Duration, having string) string {
		return "SELECT user_key FROM events WHERE site_id = $S AND kind IN (2, 3, 4) AND ts >= " + us(last) +
			" GROUP BY user_key HAVING uniqExact(toDate(toDateTime(intDiv(ts, 1000000), 'UTC'))) " + having
	}
	// changedFrom: the user's plan history has an entry within 90 days
	// whose previous entry was trial and whose value differs (to: is to).
	changedFrom := func(to string) string {
		cond := "ifNull(h[i - 1].2 = 'trial', 0) AND (isNull(h[i].2) OR h[i].2 != 'trial')"
		if to != "" {
			cond = "ifNull(h[i - 1].2 = 'trial', 0) AND ifNull(h[i].2 = '" + to + "', 0)"
		}
		return "SELECT entity_key FROM (SELECT entity_key, arraySort(x -> x.1, groupArray((set_at, if(is_null = 1, NULL, s)))) AS h" +
			" FROM attr_history WHERE site_id = $S AND entity = 0 AND key = 'plan' GROUP BY entity_key)" +
			" WHERE arrayExists(i -> i > 1 AND h[i].1 >= " + us(90*day) + " AND " + cond + ", arrayEnumerate(h))"
	}
	count := func(q string) string { return r.Replace("SELECT count() FROM (" + q + ")") }
	return map[string]string{
		"attribute + behaviour": count(attr("plan", "s = 'pro'") + " AND entity_key IN (" +
			events("kind = 2 AND name = 'Report Exported' AND ts >= "+us(30*day)) + ")"),
		"power users (seed, four parts)": count(attr("plan", "s = 'enterprise'") +
			" AND entity_key IN (" + activeDays(7*day, ">= 4") + ")" +
			" AND entity_key IN (SELECT user_key FROM sessions WHERE site_id = $S AND started_at >= " + us(7*day) +
			" AND ended_at - started_at >= 10800000000)" +
			" AND entity_key IN (" + events("kind = 2 AND name = 'Export' AND ts >= "+us(30*day)) + ")"),
		"trial users who became paid": count(changedFrom("pro")),
		"trial users who churned": count(changedFrom("") + " AND entity_key NOT IN (" +
			attr("plan", "s IN ('pro', 'enterprise')") + ")"),
		"high-LTV customers": count(attr("ltv", "n >= 1000")),
		"low-LTV customers":  count(attr("ltv", "n > 0 AND n < 100")),
		"inactive users":     count(users + " WHERE entity_key NOT IN (" + events("kind IN (2, 3, 4) AND ts >= "+us(30*day)) + ")"),
		"most active users":  count(activeDays(30*day, ">= 15")),
		"users by persona":   count(attr("persona", "s = 'accountant'")),
		"mobile visitors from the Nordics": count("SELECT user_key FROM (SELECT DISTINCT user_key FROM sessions WHERE site_id = $S" +
			" AND started_at >= " + us(30*day) + " AND device_type = 'mobile') WHERE user_key IN (SELECT user_key FROM sessions" +
			" WHERE site_id = $S AND started_at >= " + us(30*day) + " AND country IN ('NO', 'SE', 'DK', 'FI'))"),
		"saw pricing, did not upgrade": count("SELECT user_key FROM (SELECT DISTINCT user_key FROM events WHERE site_id = $S" +
			" AND kind IN (3, 4) AND startsWith(path, '/pricing') AND ts >= " + us(14*day) + ") WHERE user_key NOT IN (" +
			events("kind = 2 AND name = 'Upgrade Clicked' AND ts >= "+us(14*day)) + ")"),
	}
}
