// Command sightline-load measures how many Segment events a Sightline server
// acknowledges per second. It posts pre-rendered batches to /v1/batch over
// keep-alive connections to a loopback address, for a bounded time, and
// prints events/s, errors by status and acknowledgement latency.
//
//	sightline-load -url http://127.0.0.1:8080 -key wk_... [-duration 20s] [-json]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sightline/sightline/internal/loadgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the load and prints the result; it returns the exit
// code: 0, 1 when the run failed or nothing was acknowledged, 2 for bad
// usage.
func run(args []string, stdout, stderr io.Writer) int {
	cfg := loadgen.DefaultConfig()
	fs := flag.NewFlagSet("sightline-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&cfg.WriteKey, "key", os.Getenv("SIGHTLINE_WRITE_KEY"), "site write key (default $SIGHTLINE_WRITE_KEY)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time, after the warmup")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "time sent but not counted")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "connections, each with one request in flight")
	fs.IntVar(&cfg.Mix.Batch, "batch", cfg.Mix.Batch, "messages per request")
	fs.IntVar(&cfg.Mix.Users, "users", cfg.Mix.Users, "distinct users")
	fs.Float64Var(&cfg.Mix.Identify, "mix", cfg.Mix.Identify, "fraction of identify messages")
	fs.Float64Var(&cfg.Mix.Page, "pages", cfg.Mix.Page, "fraction of page messages (the rest are track)")
	fs.Float64Var(&cfg.Mix.Anonymous, "anonymous", cfg.Mix.Anonymous, "fraction of page and track messages without a userId")
	fs.Int64Var(&cfg.MaxRequests, "requests", 0, "stop after this many requests, retries and warmup included (0: no limit but time)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "limit for one request")
	fs.IntVar(&cfg.Bodies, "bodies", cfg.Bodies, "distinct pre-rendered bodies per connection")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the generated content (message IDs are unique whatever it is)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	out := fs.String("out", "", "also write the JSON result to this file")
	quiet := fs.Bool("quiet", false, "log only warnings")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sightline-load: unexpected arguments %q\n", fs.Args())
		return 2
	}

	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	res, runErr := loadgen.Run(ctx, cfg, log)
	if res == nil {
		fmt.Fprintf(stderr, "sightline-load: %v\n", runErr)
		return 1
	}
	if err := report(res, *asJSON, *out, stdout); err != nil {
		fmt.Fprintf(stderr, "sightline-load: %v\n", err)
		return 1
	}
	switch {
	case runErr != nil:
		fmt.Fprintf(stderr, "sightline-load: %v\n", runErr)
		return 1
	case res.EventsAcked == 0:
		fmt.Fprintln(stderr, "sightline-load: no events were acknowledged in the measured window")
		return 1
	}
	return 0
}

// report prints res as text or JSON and writes it to the file out, if set.
func report(res *loadgen.Result, asJSON bool, out string, stdout io.Writer) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	data = append(data, '\n')
	if out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	}
	if asJSON {
		_, err = stdout.Write(data)
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	return nil
}
