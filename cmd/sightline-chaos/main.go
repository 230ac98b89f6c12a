// Command sightline-chaos runs Sightline's failure scenarios against real
// `sightline serve` processes and prints a table of what survived: kill -9
// under batch load and under recording uploads, a full disk and its
// recovery, slow-body starvation, and reads under write load. It exits 1
// when a scenario fails. `make chaos` runs it; see internal/chaos.
//
//	sightline-chaos -bin bin/sightline [-only kill-batch,disk-full] [-seed N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sightline/sightline/internal/chaos"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the scenarios and prints the table; it returns the
// exit code: 0, 1 when a scenario failed or the run could not finish, 2
// for bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	cfg := chaos.DefaultConfig()
	fs := flag.NewFlagSet("sightline-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Bin, "bin", "bin/sightline", "the sightline binary to run")
	fs.StringVar(&cfg.WorkDir, "work", "", "folder for data folders and server logs (default: a temporary one)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the temporary folder")
	only := fs.String("only", "", "comma-separated scenarios to run: "+strings.Join(chaos.ScenarioNames(), ", "))
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the random choices, printed with the table (default: from the clock)")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "kill -9 rounds")
	fs.IntVar(&cfg.Senders, "senders", cfg.Senders, "concurrent senders of the load")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "messages per batch")
	fs.IntVar(&cfg.Users, "users", cfg.Users, "users the messages are spread over")
	fs.DurationVar(&cfg.KillMin, "kill-min", cfg.KillMin, "earliest kill after the load starts")
	fs.DurationVar(&cfg.KillMax, "kill-max", cfg.KillMax, "latest kill after the load starts")
	diskMiB := fs.Int64("disk-mib", cfg.DiskSize>>20, "size of the disk-full scenario's tmpfs, MiB")
	headMiB := fs.Int64("disk-headroom-mib", cfg.DiskHeadroom>>20, "space left beside the filler file, MiB")
	fs.DurationVar(&cfg.DiskRecovery, "disk-recovery", cfg.DiskRecovery, "longest wait for ingestion to resume once space is freed")
	fs.IntVar(&cfg.SlowConns, "slow-conns", cfg.SlowConns, "slow-body connections")
	fs.IntVar(&cfg.SlowIPs, "slow-ips", cfg.SlowIPs, "loopback addresses the slow connections come from")
	fs.DurationVar(&cfg.SlowWindow, "slow-window", cfg.SlowWindow, "time the normal client is measured, without and then with the attack")
	fs.DurationVar(&cfg.SlowP99, "slow-p99", cfg.SlowP99, "most the normal client's p99 may reach under attack")
	fs.DurationVar(&cfg.ReadWindow, "read-window", cfg.ReadWindow, "time reads are measured under write load")
	fs.DurationVar(&cfg.ReadBound, "read-bound", cfg.ReadBound, "most the reads' p99 may reach under write load")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "limit of one request: longer counts as a hang")
	deadline := fs.Duration("deadline", 15*time.Minute, "limit of the whole run")
	quiet := fs.Bool("quiet", false, "log only warnings")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sightline-chaos: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *only != "" {
		cfg.Scenarios = strings.Split(*only, ",")
		for _, name := range cfg.Scenarios {
			if !slices.Contains(chaos.ScenarioNames(), name) {
				fmt.Fprintf(stderr, "sightline-chaos: unknown scenario %q; known: %s\n", name, strings.Join(chaos.ScenarioNames(), ", "))
				return 2
			}
		}
	}
	cfg.DiskSize, cfg.DiskHeadroom = *diskMiB<<20, *headMiB<<20
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *deadline)
	defer cancel()
	start := time.Now()
	rows, err := chaos.Run(ctx, cfg)
	if len(rows) > 0 {
		fmt.Fprintf(stdout, "\n== Sightline chaos, seed %d, %s ==\n", cfg.Seed, time.Since(start).Round(time.Second))
		if werr := chaos.WriteTable(stdout, rows); werr != nil {
			fmt.Fprintf(stderr, "sightline-chaos: %v\n", werr)
			return 1
		}
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "sightline-chaos: %v\n", err)
		return 1
	case chaos.Failed(rows):
		return 1
	}
	return 0
}
