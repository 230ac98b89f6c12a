// Command sightline-segbench times segment evaluation on a site filled by
// `sightline gen` (see scripts/bench-segments.sh and make bench-segments).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sightline/sightline/internal/segbench"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sightline-segbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sightline-segbench", flag.ContinueOnError)
	data := fs.String("data", ".bench/segments", "data folder of the generated site")
	siteName := fs.String("site", "bench", "the site's name or ID")
	memory := fs.String("db-memory", "256MB", "database memory limit, as the server's --db-memory")
	runs := fs.Int("runs", 10, "timed runs per segment")
	checks := fs.Int("memberships", 200, "single-user membership checks per targeted segment")
	membershipOnly := fs.Bool("membership-only", false, "time only the membership checks")
	trendPerDay := fs.Bool("trend-per-day", false, "also count the trends' past days one by one, and check they agree")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	nowFlag := fs.String("now", "", "evaluate as of this RFC 3339 time (the data's generation time); default now")
	clickhouse := fs.String("clickhouse", "", "run the engine on ClickHouse at this DSN (compiler.ClickHouse), the site copied there "+
		"from the data folder when its events table is empty (the scaled backend's reads)")
	interleave := fs.Bool("interleave", false, "rewrite the data's tables in the order real traffic leaves them "+
		"(events by time, users mixed), then exit; changes the data for good: use on a copy")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	db, err := segbench.Open(ctx, *data, *memory)
	if err != nil {
		return err
	}
	defer db.Close()
	if *interleave {
		return segbench.Interleave(ctx, db)
	}
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
	cfg := segbench.Config{Site: site.ID, Runs: *runs, MemberPage: 50, Memberships: *checks,
		MembershipOnly: *membershipOnly, Seed: 1, Now: clock(), TrendPerDay: *trendPerDay}
	eng := engine.New(db, compiler.DuckDB{}, clock)
	if *clickhouse != "" {
		ch, err := segbench.OpenClickHouse(ctx, *clickhouse, db, os.Stderr)
		if err != nil {
			return err
		}
		defer ch.Close()
		eng, cfg.ClickHouse = engine.New(segbench.OnClickHouse(db, ch), compiler.ClickHouse{}, clock), ch.SQL()
	}
	rep, err := segbench.Run(ctx, db, eng, cfg, os.Stderr)
	if err != nil {
		return err
	}
	segbench.Print(stdout, rep)
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		defer f.Close()
		return segbench.WriteJSON(f, rep)
	}
	return nil
}
