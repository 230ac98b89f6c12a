// Command sightline-insightbench times insights (package insight) on a
// site filled by `sightline gen`: the SPEC's targets, a 90-day daily
// trend with 3 segment breakdowns, a 4-step funnel over 30 days and an
// 8-week retention table, each run several times after a warm-up, with
// medians, 95th percentiles, the median CPU time (user and system, less
// sensitive than wall time to a machine shared with other work) and the
// process's peak memory (see
// scripts/bench-insights.sh and make bench-insights).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sightline/sightline/internal/insight"
	"github.com/sightline/sightline/internal/segbench"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sightline-insightbench:", err)
		os.Exit(1)
	}
}

// benchCase is one insight to time.
type benchCase struct {
	name, kind, target string
	def                string
}

// cases are written against the generator's synthetic product (Ledgerly).
func cases() []benchCase {
	segs := `"breakdown":{"segments":[{"text":"plan = \"pro\""},{"text":"persona = \"accountant\""},{"text":"did(\"Export\", 30d)"}]}`
	return []benchCase{
		{"trend: 90 days, daily, 3 segment breakdowns", "trend", "< 1 s",
			`{"series":[{"of":"did(\"Report Viewed\")","measure":"count"}],"interval":"day","last_days":90,` + segs + `}`},
		// The same in a zone away from UTC, whose days are not the day
		// tables' (UTC) days: it reads the events.
		{"trend: 90 days, daily, 3 segment breakdowns, Oslo", "trend", "",
			`{"series":[{"of":"did(\"Report Viewed\")","measure":"count"}],"interval":"day","last_days":90,"tz":"Europe/Oslo",` + segs + `}`},
		{"trend: 90 days, daily, unique users, no breakdown", "trend", "",
			`{"series":[{"of":"did(\"Invoice Sent\")","measure":"users"}],"interval":"day","last_days":90}`},
		{"funnel: 4 steps over 30 days", "funnel", "< 1.5 s",
			`{"steps":["visited(\"/dashboard\")","visited(\"/reports\")","did(\"Report Viewed\")","did(\"Report Exported\")"],"window":"1d","last_days":30}`},
		{"funnel: 4 steps over 30 days, 3 segment breakdowns", "funnel", "",
			`{"steps":["visited(\"/dashboard\")","visited(\"/reports\")","did(\"Report Viewed\")","did(\"Report Exported\")"],"window":"1d","last_days":30,` + segs + `}`},
		{"retention: 8 weeks, first seen → any", "retention", "< 2 s",
			`{"start":"first_seen","return":"any","interval":"week","periods":8,"last_days":56}`},
		{"retention: 8 weeks, Signed Up → Invoice Sent", "retention", "",
			`{"start":"did(\"Signed Up\")","return":"did(\"Invoice Sent\")","interval":"week","periods":8,"last_days":56}`},
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sightline-insightbench", flag.ContinueOnError)
	data := fs.String("data", ".bench/segments", "data folder of the generated site")
	siteName := fs.String("site", "bench", "the site's name or ID")
	memory := fs.String("db-memory", "256MB", "database memory limit, as the server's --db-memory")
	runs := fs.Int("runs", 5, "timed runs per insight")
	nowFlag := fs.String("now", "", "evaluate as of this RFC 3339 time (the data's generation time); default now")
	only := fs.String("only", "", "time only the cases whose name contains this")
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
	clock := time.Now
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		clock = func() time.Time { return t }
	}
	eng := engine.New(db, compiler.DuckDB{}, clock).WithQueryTimeout(0)
	ins, err := insight.New(eng, db)
	if err != nil {
		return err
	}
	var users, events int64
	db.SQL().QueryRowContext(ctx, "SELECT (SELECT count(DISTINCT entity_key) FROM identities WHERE site_id = ? AND kind IN (1, 2)), "+
		"(SELECT count(*) FROM events WHERE site_id = ?)", site.ID, site.ID).Scan(&users, &events)
	fmt.Fprintf(stdout, "site: %d users, %d events; %d runs each after a warm-up; database memory %s\n", users, events, *runs, *memory)
	fmt.Fprintf(stdout, "%-52s %10s %10s %10s %10s  %s\n", "insight", "median", "p95", "min", "cpu", "target")
	for _, c := range cases() {
		if *only != "" && !strings.Contains(c.name, *only) {
			continue
		}
		var times, cpus []time.Duration
		for i := 0; i <= *runs; i++ {
			t, cpu := time.Now(), cpuTime()
			if err := compute(ctx, ins, site.ID, c); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if i > 0 {
				times = append(times, time.Since(t))
				cpus = append(cpus, cpuTime()-cpu)
			}
		}
		slices.Sort(times)
		slices.Sort(cpus)
		ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
		fmt.Fprintf(stdout, "%-52s %10s %10s %10s %10s  %s\n", c.name, ms(times[len(times)/2]),
			ms(times[min(len(times)-1, len(times)*95/100)]), ms(times[0]), ms(cpus[len(cpus)/2]), c.target)
	}
	fmt.Fprintf(stdout, "peak memory (VmHWM) %s\n", procStatus("VmHWM"))
	return nil
}

func compute(ctx context.Context, ins *insight.Engine, site int64, c benchCase) error {
	var err error
	switch c.kind {
	case "trend":
		var d insight.Trend
		if err = json.Unmarshal([]byte(c.def), &d); err == nil {
			_, err = ins.Trend(ctx, site, d)
		}
	case "funnel":
		var d insight.Funnel
		if err = json.Unmarshal([]byte(c.def), &d); err == nil {
			_, err = ins.Funnel(ctx, site, d)
		}
	case "retention":
		var d insight.Retention
		if err = json.Unmarshal([]byte(c.def), &d); err == nil {
			_, err = ins.Retention(ctx, site, d)
		}
	}
	return err
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
