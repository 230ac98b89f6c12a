// Command sightline is the Sightline server and its administration CLI.
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
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	// The zone database travels in the binary: site and insight time
	// zones must not depend on the host having /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/server"
)

const usage = `Sightline: self-hosted product-experience analytics.

Usage:
  sightline serve [flags]                         run the server
  sightline site create NAME [--origin URL]...    create a site; prints its ID and write key
  sightline site update ID [--name N] [--origin URL]... [--respect-dnt=BOOL]
                                                  change a site's name, origins or Do-Not-Track setting
  sightline site list                             list the sites
  sightline token create --site ID --scope SCOPE  create an API token (read, write or admin)
  sightline token revoke ID                       revoke an API token
  sightline account create --email E --name N --role ROLE [--site ID]... --password-stdin
                                                  create a dashboard account (owner, admin, member, viewer)
  sightline account list                          list dashboard accounts
  sightline delete-user --site ID --user ID [--anonymous] [--suppress]
                                                  delete a user everywhere (data rights); prints the receipt
  sightline export-user --site ID --user ID [--anonymous] --out FILE.zip
                                                  write everything held about a user as a zip of JSON files
  sightline import users FILE.csv --site ID        import user attributes from CSV (header row; a user_id column)
  sightline import companies FILE.csv --site ID    import company attributes from CSV (header row; a group_id column)
  sightline gen --site NAME_OR_ID --users N       fill a site with a synthetic product (server stopped)
  sightline demo [--users 20000]                  fill a "Demo" site with a synthetic product, once
  sightline migrate --data DIR [--postgres DSN] [--clickhouse DSN] [--s3 URL] [--resume | --check]
                                                  copy a data folder into PostgreSQL, ClickHouse and S3 (server stopped)
  sightline version

Every flag can also be set as SIGHTLINE_<FLAG>, e.g. SIGHTLINE_DATA=/var/lib/sightline.
Run "sightline serve -h" for the server's flags.
`

// version is set by the linker.
var version = "dev"

func main() {
	ownerOnly()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "sightline:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "site":
		return siteCmd(args[1:], stdout, stderr)
	case "token":
		return tokenCmd(args[1:], stdout, stderr)
	case "account":
		return accountCmd(args[1:], os.Stdin, stdout, stderr)
	case "delete-user":
		return deleteUserCmd(args[1:], stdout, stderr)
	case "export-user":
		return exportUserCmd(args[1:], stdout, stderr)
	case "import":
		return importCmd(args[1:], stdout, stderr)
	case "gen":
		return genCmd(args[1:], stdout, stderr)
	case "demo":
		return demoCmd(args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "sightline", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(args []string, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, os.LookupEnv); err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	if err := setGoMemoryLimit(cfg.GoMemoryLimit); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runRestarting(ctx, log, func() error { return server.Run(ctx, cfg, log, nil) })
}

// runRestarting runs the server and, when it stops because its database
// must be reopened, runs it again in the same process, without an
// operator: the write-ahead log holds everything acknowledged. A start
// that fails after such a stop (the disk still full) is tried again with
// a growing pause, until it works or the process is told to stop.
func runRestarting(ctx context.Context, log *slog.Logger, run func() error) error {
	err := run()
	if !errors.Is(err, server.ErrRestart) {
		return err
	}
	pause := time.Second
	for {
		log.Warn("restarting the server in-process", "err", err, "in", pause)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		started := time.Now()
		if err = run(); err == nil {
			return nil // stopped by a signal
		}
		if time.Since(started) > time.Minute {
			pause = time.Second // it ran a while: count again from the start
		} else {
			pause = min(2*pause, 30*time.Second)
		}
	}
}

func newLogger(cfg config.Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(cfg.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", cfg.LogFormat)
}

// setGoMemoryLimit applies --go-memory unless GOMEMLIMIT is set, which the
// runtime has already applied.
func setGoMemoryLimit(s string) error {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok || s == "" || s == "off" {
		return nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil || v <= 0 {
				break
			}
			debug.SetMemoryLimit(v * u.mult)
			return nil
		}
	}
	return fmt.Errorf("go-memory %q: want a size like 256MiB or 1GiB, or off", s)
}

// parseCommand parses a command's flags, which may come before or after
// its positional arguments, then fills the flags not given from SIGHTLINE_*
// environment variables; it returns the positional arguments.
func parseCommand(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return pos, config.ApplyEnv(fs, os.LookupEnv)
}
