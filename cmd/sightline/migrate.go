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
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/blob"
	"github.com/sightline/sightline/internal/blob/s3blob"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/migrate"
	"github.com/sightline/sightline/internal/store/chstore"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
)

const migrateUsage = `usage:
  sightline migrate --data DIR [--clickhouse DSN] [--s3 URL] [--postgres DSN] [--resume]
  sightline migrate --data DIR [--clickhouse DSN] [--s3 URL] [--postgres DSN] --check

Copies an embedded data folder into the scaled backends (docs/scale-out.md):
the analytics tables into ClickHouse, the recordings' chunks into S3, the
control data (sites with their IDs, tokens, accounts, settings, saved
definitions, alert rules and log, audit log) into PostgreSQL, then
compares each site's events, sessions, users, recordings and recording
chunks, and each control table's rows, between the two and fails on any
difference. Only chunks the recordings' index names are copied. Stop the
server first.

  --clickhouse clickhouse://USER:PASSWORD@HOST:9000/DATABASE
  --s3         s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&insecure=1
               (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)
  --postgres   postgres://USER:PASSWORD@HOST:5432/DATABASE (copied in one
               transaction: a copy that stopped left nothing, a complete
               one is kept as it is)
  --resume     go on with a migration that stopped (else a target that
               holds anything is refused)
  --check      copy nothing; only compare the counts

Each flag is also SIGHTLINE_<FLAG> (SIGHTLINE_CLICKHOUSE keeps a password
out of the process list).`

// migrateCmd runs `sightline migrate`.
func migrateCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, migrateUsage) }
	dataFlag(fs, &cfg)
	chDSN := fs.String("clickhouse", "", "ClickHouse DSN of the analytics target")
	s3URL := fs.String("s3", "", "S3 URL of the recordings' target")
	pgDSN := fs.String("postgres", "", "PostgreSQL DSN of the control data's target")
	resume := fs.Bool("resume", false, "go on with a migration that stopped")
	check := fs.Bool("check", false, "copy nothing; compare the counts only")
	if _, err := parseCommand(fs, args); err != nil {
		return err
	}
	if *chDSN == "" && *s3URL == "" && *pgDSN == "" {
		fmt.Fprintln(stderr, migrateUsage)
		return errors.New("migrate: give --clickhouse, --s3, --postgres or several")
	}
	if _, err := admin.Dial(cfg.SocketPath()); err == nil {
		return fmt.Errorf("a server is running on %s; stop it first: migrate reads a data folder that nothing writes", cfg.DataDir)
	}
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return fmt.Errorf("no Sightline database in %s: %w", cfg.DataDir, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	src, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{MemoryLimit: cfg.DBMemoryLimit},
		slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("open %s (is a server or another command using it?): %w", cfg.DBPath(), err)
	}
	defer src.Close()
	// Acknowledged messages still in the write-ahead log are applied
	// first, so that they are copied too.
	if err := src.Sync(ctx); err != nil {
		return fmt.Errorf("apply the write-ahead log: %w", err)
	}
	o := migrate.Options{Source: src.SQL(), Sites: src.Sites(ctx), Resume: *resume}
	if o.SourceBlobs, err = blob.OpenDisk(cfg.RecordingsPath()); err != nil {
		return err
	}
	if *chDSN != "" {
		if o.ClickHouse, err = chstore.Open(ctx, *chDSN); err != nil {
			return fmt.Errorf("migrate: ClickHouse: %w", err)
		}
		defer o.ClickHouse.Close()
	}
	if *s3URL != "" {
		if o.S3, err = s3blob.Open(ctx, *s3URL); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}

	start := time.Now()
	var counts []migrate.Count
	if *pgDSN != "" {
		counts, err = migrateControlData(ctx, src, *pgDSN, *check, stdout)
		if err != nil {
			if len(counts) > 0 {
				printCounts(stdout, counts)
			}
			return fmt.Errorf("migrate: PostgreSQL: %w", err)
		}
	}
	switch {
	case *chDSN == "" && *s3URL == "": // the control data only
	case *check:
		var c []migrate.Count
		c, err = migrate.Compare(ctx, o)
		counts = append(counts, c...)
	default:
		bar := newMigrateProgress(stdout)
		o.Progress = bar.update
		var res migrate.Result
		res, err = migrate.Run(ctx, o)
		bar.finish()
		counts = append(counts, res.Counts...)
		if o.S3 != nil && (err == nil || errors.Is(err, migrate.ErrMismatch)) {
			fmt.Fprintf(stdout, "migrate: %d recording chunks copied to S3 (%.1f MB), %d already there\n",
				res.Blobs, float64(res.Bytes)/(1<<20), res.BlobsKept)
			if n := len(res.Unindexed); n > 0 {
				fmt.Fprintf(stdout, "migrate: %d blobs in %s belong to no recording (left by a crash or an unfinished deletion; first %s): not copied\n",
					n, cfg.RecordingsPath(), res.Unindexed[0])
			}
			if n := len(res.Missing); n > 0 {
				fmt.Fprintf(stdout, "migrate: %d indexed recording chunks have no blob in %s (first %s): the comparison below counts them missing\n",
					n, cfg.RecordingsPath(), res.Missing[0])
			}
		}
	}
	if len(counts) > 0 {
		printCounts(stdout, counts)
	}
	if err != nil {
		if ctx.Err() != nil && !*check {
			return fmt.Errorf("migrate: stopped (%v); run it again with --resume to go on where it stopped", err)
		}
		if errors.Is(err, migrate.ErrMismatch) {
			return fmt.Errorf("migrate: %w; the rows marked DIFFERS above: do not switch to the scaled backends", err)
		}
		return err
	}
	what := "migrated"
	if *check {
		what = "checked"
	}
	fmt.Fprintf(stdout, "migrate: %s in %s; every count matches\n", what, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// migrateControlData copies (or, with check, compares) the control data
// of src into the PostgreSQL database at dsn, whose schema it creates.
func migrateControlData(ctx context.Context, src *duckstore.DB, dsn string, check bool, stdout io.Writer) ([]migrate.Count, error) {
	pg, err := pgstore.Open(ctx, dsn) // creates or upgrades the schema
	if err != nil {
		return nil, err
	}
	pg.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	o := migrate.ControlOptions{Source: src.SQL(), Target: conn}
	if check {
		counts, err := migrate.CompareControl(ctx, o)
		if err == nil {
			for _, c := range counts {
				if !c.OK() {
					err = migrate.ErrMismatch
				}
			}
		}
		return counts, err
	}
	bar := newMigrateProgress(stdout)
	o.Progress = bar.update
	counts, err := migrate.CopyControl(ctx, o)
	bar.finish()
	return counts, err
}

// printCounts prints the comparison, one line per site and figure.
func printCounts(w io.Writer, counts []migrate.Count) {
	site, what, num := len("SITE"), len("WHAT"), len("TARGET")
	for _, c := range counts {
		site, what = max(site, len(c.Site)), max(what, len(c.What))
		num = max(num, len(strconv.FormatInt(c.Source, 10)), len(strconv.FormatInt(c.Target, 10)))
	}
	fmt.Fprintf(w, "%-*s  %-*s  %*s  %*s\n", site, "SITE", what, "WHAT", num, "SOURCE", num, "TARGET")
	for _, c := range counts {
		state := "ok"
		if !c.OK() {
			state = "DIFFERS"
		}
		fmt.Fprintf(w, "%-*s  %-*s  %*d  %*d  %s\n", site, c.Site, what, c.What, num, c.Source, num, c.Target, state)
	}
}

// migrateProgress draws a bar per step (rows or blobs a second, time
// left) on a terminal, and elsewhere writes a line as each step ends.
type migrateProgress struct {
	w       io.Writer
	tty     bool
	bar     *progressbar.ProgressBar
	step    string
	started time.Time
}

func newMigrateProgress(w io.Writer) *migrateProgress {
	f, ok := w.(*os.File)
	return &migrateProgress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (m *migrateProgress) update(p migrate.Progress) {
	if p.Step != m.step {
		m.step, m.started = p.Step, time.Now()
		if m.tty && !p.Finished {
			m.bar = progressbar.NewOptions64(max(p.Total, 1), progressbar.OptionSetWriter(m.w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-18s", p.Step)), progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(p.Unit),
				progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionClearOnFinish())
		}
	}
	if m.bar != nil && !p.Finished {
		m.bar.Set64(p.Done)
	}
	if !p.Finished {
		return
	}
	if m.bar != nil {
		m.bar.Finish()
		m.bar = nil
	}
	took := time.Since(m.started)
	switch {
	case p.Skipped:
		fmt.Fprintf(m.w, "migrate: %-23s %10d %s, already copied\n", p.Step, p.Done, p.Unit)
	default:
		fmt.Fprintf(m.w, "migrate: %-23s %10d %s in %s (%.0f %s/s)\n", p.Step, p.Done, p.Unit,
			took.Round(10*time.Millisecond), float64(p.Done)/max(took.Seconds(), 0.001), p.Unit)
	}
}

func (m *migrateProgress) finish() {
	if m.bar != nil {
		m.bar.Finish()
	}
}
