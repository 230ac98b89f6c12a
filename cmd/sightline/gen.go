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
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// genSummary is what sightline gen prints when it is done.
type genSummary struct {
	Site             *admin.NewSite `json:"created_site,omitempty"`
	SiteID           string         `json:"site"`
	Users            int            `json:"users"`
	Anonymous        int            `json:"anonymous"`
	Companies        int            `json:"companies"`
	Sessions         int64          `json:"sessions"`
	Events           int64          `json:"events"`
	AttrValues       int64          `json:"attribute_values"`
	AttrChanges      int64          `json:"attribute_changes"`
	ElapsedSeconds   float64        `json:"elapsed_seconds"`
	EventsPerSecond  float64        `json:"events_per_second"`
	DatabaseBytes    int64          `json:"database_bytes"`
	DatabaseFilePath string         `json:"database"`
}

func genCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	siteArg := fs.String("site", "", "the site's ID or name; a site of that name is created when none exists")
	var gc gen.Config
	fs.IntVar(&gc.Users, "users", 0, "people to generate; a tenth of them are anonymous visitors")
	fs.IntVar(&gc.Days, "days", 90, "days of activity, ending now")
	fs.Int64Var(&gc.Seed, "seed", 1, "random seed: the same seed gives the same data")
	fs.Float64Var(&gc.EventsPerUser, "events-per-user", 50, "average events per person")
	now := fs.String("now", "", "end of the window, as 2026-11-30 or RFC 3339 (default: now); with --seed, makes runs identical")
	memory := fs.String("db-memory", "512MB", "database memory limit while generating")
	asJSON := fs.Bool("json", false, "print the created site and the summary as JSON")
	if _, err := parseCommand(fs, args); err != nil {
		return err
	}
	if *siteArg == "" || gc.Users <= 0 || gc.Days <= 0 {
		return errors.New("usage: sightline gen --site NAME_OR_ID --users N [--days 90] [--seed 1] [--events-per-user 50] [--now TIME] [--data DIR] [--json]")
	}
	if *now != "" {
		t, ok := attr.ParseTime(*now)
		if !ok {
			return fmt.Errorf("--now %q: want a date (2026-11-30) or an RFC 3339 time", *now)
		}
		gc.Now = t
	}
	// The generator writes the database directly, which a running server
	// holds: refuse before opening rather than fail halfway.
	if _, err := admin.Dial(cfg.SocketPath()); err == nil {
		return fmt.Errorf("a server is running on %s; stop it first: gen writes the database directly", cfg.DataDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{MemoryLimit: *memory}, log)
	if err != nil {
		return fmt.Errorf("open %s (is a server or another command using it?): %w", cfg.DBPath(), err)
	}
	defer db.Close()

	site, created, err := genSite(ctx, db, *siteArg)
	if err != nil {
		return err
	}
	if created != nil && !*asJSON {
		fmt.Fprintf(stdout, "site:      %s (%s)\nwrite key: %s\n", created.ID, created.Name, created.WriteKey)
		fmt.Fprintln(stdout, "The write key is shown only now; keep it.")
	}
	if n, err := db.EntityCount(ctx, site.ID); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("site %s already has %d users and companies; gen only fills an empty site", site.PublicID, n)
	}

	start := time.Now()
	stats, err := fillSite(ctx, db, site, gc, stderr)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	sum := genSummary{Site: created, SiteID: site.PublicID, Users: stats.Users, Anonymous: stats.Anonymous,
		Companies: stats.Companies, Sessions: stats.Sessions, Events: stats.Events, AttrValues: stats.AttrValues,
		AttrChanges: stats.AttrChanges, ElapsedSeconds: elapsed.Seconds(),
		EventsPerSecond: float64(stats.Events) / elapsed.Seconds(), DatabaseFilePath: cfg.DBPath()}
	if fi, err := os.Stat(cfg.DBPath()); err == nil {
		sum.DatabaseBytes = fi.Size()
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(sum)
	}
	fmt.Fprintf(stdout, "generated %d users (%d anonymous) in %d companies: %d sessions, %d events, %d attribute values (%d changes)\n",
		sum.Users+sum.Anonymous, sum.Anonymous, sum.Companies, sum.Sessions, sum.Events, sum.AttrValues, sum.AttrChanges)
	fmt.Fprintf(stdout, "in %s (%.0f events/s); %s is %.1f MB\n", elapsed.Round(100*time.Millisecond),
		sum.EventsPerSecond, sum.DatabaseFilePath, float64(sum.DatabaseBytes)/(1<<20))
	return nil
}

// fillSite generates gc's synthetic product into an empty site through the
// store's bulk path, with a progress bar on stderr when it is a terminal.
func fillSite(ctx context.Context, db *duckstore.DB, site store.Site, gc gen.Config, stderr io.Writer) (gen.Stats, error) {
	bulk, err := db.Bulk(ctx)
	if err != nil {
		return gen.Stats{}, err
	}
	bar := newGenBar(stderr)
	stats, err := gen.Run(ctx, bulk, site.ID, gc, bar.update)
	bar.bar.Describe("committing and checkpointing")
	if cerr := bulk.Close(); err == nil {
		err = cerr
	}
	bar.finish()
	if err != nil {
		return gen.Stats{}, fmt.Errorf("generate into site %s: %w", site.PublicID, err)
	}
	return stats, nil
}

// genSite finds the site named by arg, by public ID or else by name, and
// creates a site of that name when there is none.
func genSite(ctx context.Context, db *duckstore.DB, arg string) (store.Site, *admin.NewSite, error) {
	if s, err := db.Site(ctx, arg); err == nil {
		return s, nil, nil
	}
	var found []store.Site
	for _, s := range db.Sites(ctx) {
		if s.Name == arg {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil, nil
	case 0:
		s, key, err := db.CreateSite(ctx, arg, nil)
		if err != nil {
			return store.Site{}, nil, err
		}
		return s, &admin.NewSite{ID: s.PublicID, Name: s.Name, Origins: s.Origins, WriteKey: key}, nil
	}
	return store.Site{}, nil, fmt.Errorf("%d sites are named %q; give the site's ID", len(found), arg)
}

// genBar shows the generator's progress on a terminal: a bar per phase,
// with the events written so far.
type genBar struct {
	bar   *progressbar.ProgressBar
	phase string
}

func newGenBar(w io.Writer) *genBar {
	f, ok := w.(*os.File)
	visible := ok && term.IsTerminal(int(f.Fd()))
	return &genBar{bar: progressbar.NewOptions(1, progressbar.OptionSetWriter(w), progressbar.OptionSetVisibility(visible),
		progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(false))}
}

// phaseUnit says what a phase's bar counts.
func phaseUnit(phase string) string {
	switch phase {
	case "people":
		return "people created"
	case "activity":
		return "days of activity"
	}
	return "people's attributes"
}

func (b *genBar) update(p gen.Progress) {
	if p.Phase != b.phase {
		b.phase = p.Phase
		b.bar.Reset()
		b.bar.ChangeMax(p.Total)
	}
	b.bar.Describe(fmt.Sprintf("%-19s %11d events", phaseUnit(p.Phase), p.Events))
	b.bar.Set(p.Done)
}

func (b *genBar) finish() {
	b.bar.Finish()
	b.bar.Clear()
}
