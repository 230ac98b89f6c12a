// Command sightline-comparebench times comparisons and experiment results
// on a site filled by `sightline gen` (see scripts/bench-compare.sh and
// make bench-compare): the guide's power users against everyone else,
// two plans against each other, and the onboarding A/B test (ab_variant).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sightline/sightline/internal/compare"
	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/segbench"
	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sightline-comparebench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sightline-comparebench", flag.ContinueOnError)
	data := fs.String("data", ".bench/segments", "data folder of the generated site")
	siteName := fs.String("site", "bench", "the site's name or ID")
	memory := fs.String("db-memory", "256MB", "database memory limit, as the server's --db-memory")
	runs := fs.Int("runs", 5, "timed runs of each case")
	days := fs.Int("days", 30, "the comparisons' period, in days before now")
	only := fs.String("only", "", "time only the cases whose name contains this")
	nowFlag := fs.String("now", "", "evaluate as of this RFC 3339 time (the data's generation time); default: the last event's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	db, err := segbench.Open(ctx, *data, *memory)
	if err != nil {
		return err
	}
	defer db.Close()
	site, err := segbench.Site(ctx, db, *data, *siteName)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return fmt.Errorf("--now: %w", err)
		}
	} else if err := db.SQL().QueryRowContext(ctx, "SELECT max(ts) FROM events WHERE site_id = ?", site.ID).Scan(&now); err != nil {
		return fmt.Errorf("read the data's last event: %w", err)
	}
	clock := func() time.Time { return now }
	eng := engine.New(db, compiler.DuckDB{}, clock).WithQueryTimeout(0)
	cmp := compare.New(db, eng, compiler.DuckDB{}, clock)
	exp := experiment.NewReader(db, eng, compiler.DuckDB{}, clock)
	var users, events int64
	_ = db.SQL().QueryRowContext(ctx, "SELECT count(DISTINCT entity_key) FROM identities WHERE site_id = ? AND kind IN (1, 2)", site.ID).Scan(&users)
	_ = db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM events WHERE site_id = ?", site.ID).Scan(&events)
	fmt.Fprintf(stdout, "site %d: %d users, %d events; now %s; %d runs each, db memory %s\n",
		site.ID, users, events, now.Format(time.RFC3339), *runs, *memory)

	parse := func(s string) segment.Node {
		n, err := segment.Parse(s)
		if err != nil {
			panic(err)
		}
		return n
	}
	from := now.Add(-time.Duration(*days) * 24 * time.Hour)
	cases := []struct {
		name string
		run  func() (string, error)
	}{
		{"compare: power users vs everyone else (identified)", func() (string, error) {
			r, err := cmp.Compare(ctx, site.ID, compare.Request{A: parse(`active_days(7d) >= 4 and session_duration(7d) >= 3h and did("Export", 30d) and plan = "enterprise"`),
				From: from, To: now})
			if err != nil {
				return "", err
			}
			return summary(r), nil
		}},
		{"compare: plan = pro vs plan = trial", func() (string, error) {
			r, err := cmp.Compare(ctx, site.ID, compare.Request{A: parse(`plan = "pro"`), B: parse(`plan = "trial"`), From: from, To: now})
			if err != nil {
				return "", err
			}
			return summary(r), nil
		}},
		{"experiment: onboarding (ab_variant), 2 goals, 1 breakdown", func() (string, error) {
			r, err := exp.Results(ctx, site.ID, experiment.Definition{Name: "bench", Source: experiment.Source{Kind: "attribute", Attribute: "ab_variant"},
				Variants: []experiment.Variant{{Name: "A"}, {Name: "B"}}, Control: "A", Start: now.Add(-90 * 24 * time.Hour),
				Goals:     []experiment.Goal{{Event: "Onboarding Completed"}, {Event: "Invoice Sent"}},
				Breakdown: []string{`plan = "trial"`}})
			if err != nil {
				return "", err
			}
			g := r.Goals[0].Arms
			return fmt.Sprintf("A %d users %.3f, B %d users %.3f, p %.3g", g[0].Users, g[0].Rate, g[1].Users, g[1].Rate, deref(g[1].P)), nil
		}},
	}
	for _, c := range cases {
		if *only != "" && !strings.Contains(c.name, *only) {
			continue
		}
		var times, cpus []time.Duration
		var last string
		for range *runs {
			t, cpu := time.Now(), cpuTime()
			s, err := c.run()
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			times = append(times, time.Since(t))
			cpus = append(cpus, cpuTime()-cpu)
			last = s
		}
		slices.Sort(times)
		slices.Sort(cpus)
		fmt.Fprintf(stdout, "%-58s median %7.0f ms  min %7.0f ms  max %7.0f ms  cpu (user+sys) median %7.0f ms   %s\n", c.name,
			ms(times[len(times)/2]), ms(times[0]), ms(times[len(times)-1]), ms(cpus[len(cpus)/2]), last)
	}
	return nil
}

func summary(r *compare.Result) string {
	sig := 0
	for _, x := range r.Rows {
		if x.Significant {
			sig++
		}
	}
	return fmt.Sprintf("A %d, B %d users; %d rows, %d significant", r.A.Size, r.B.Size, len(r.Rows), sig)
}

// cpuTime is the process's CPU time so far (user and system): on a
// machine shared with other work, what a run cost rather than how long
// it waited.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func deref(p *float64) float64 {
	if p == nil {
		return 1
	}
	return *p
}
