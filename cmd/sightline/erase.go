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
	"sort"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/api"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/erase"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/composite"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
	"github.com/sightline/sightline/internal/store/scaled"
)

// withEraser is withAdmin for deletions: with no server running, the
// database and the recordings' blobs are opened here.
func withEraser(cfg config.Config, fn func(admin.Admin) error) error {
	if c, err := admin.Dial(cfg.SocketPath()); err == nil {
		return fn(c)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	if cfg.ClickHouse != "" {
		return withScaledEraser(ctx, cfg, log, fn)
	}
	db, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{MemoryLimit: cfg.DBMemoryLimit}, log)
	if err != nil {
		return fmt.Errorf("open %s (is another process using it without its admin socket?): %w", cfg.DBPath(), err)
	}
	defer db.Close()
	// With the control data in PostgreSQL, a deletion also goes there
	// (the alerts naming the user), as it does through the server.
	var st eraserStore = db
	if cfg.Postgres != "" {
		pg, err := pgstore.Open(ctx, cfg.Postgres)
		if err != nil {
			return err
		}
		c, err := composite.New(ctx, db, pg, log)
		if err != nil {
			pg.Close()
			return err
		}
		defer c.Close()
		st = c
	}
	blobs, err := server.OpenRecordings(context.Background(), cfg)
	if err != nil {
		return err
	}
	rec, err := recording.New(recording.Config{Store: st, Blobs: blobs, Limits: cfg.Recording, Log: log})
	if err != nil {
		return err
	}
	defer rec.Close()
	eraser := erase.New(st, rec, log)
	exporter := api.New(st, engine.New(st, compiler.DuckDB{}, nil), nil, log).WithRecordings(rec).WithErasure(eraser, st)
	return fn(admin.Local{Store: st, Accounts: account.New(st, account.Config{}), Eraser: eraser, Exporter: exporter, Importer: db})
}

// withScaledEraser is withEraser with the analytics in ClickHouse: the
// scaled store (writing nothing of its own, so no log) joined to
// PostgreSQL, as serve --clickhouse runs them.
func withScaledEraser(ctx context.Context, cfg config.Config, log *slog.Logger, fn func(admin.Admin) error) error {
	if cfg.Postgres == "" {
		return errors.New("--clickhouse needs --postgres")
	}
	pg, err := pgstore.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	sc, err := scaled.Open(ctx, cfg.ClickHouse, cfg.Postgres, scaled.Options{Node: "cli", Log: log})
	if err != nil {
		pg.Close()
		return err
	}
	defer sc.Close()
	st, err := composite.New(ctx, sc, pg, log)
	if err != nil {
		pg.Close()
		return err
	}
	defer st.Close()
	blobs, err := server.OpenRecordings(ctx, cfg)
	if err != nil {
		return err
	}
	rec, err := recording.New(recording.Config{Store: st, Blobs: blobs, Limits: cfg.Recording, Log: log})
	if err != nil {
		return err
	}
	defer rec.Close()
	eraser := erase.New(st, rec, log)
	exporter := api.New(st, engine.New(st, compiler.ClickHouse{}, nil), nil, log).WithRecordings(rec).WithErasure(eraser, st)
	return fn(admin.Local{Store: st, Accounts: account.New(st, account.Config{}), Eraser: eraser, Exporter: exporter, Importer: sc})
}

// clickhouseFlag adds --clickhouse (and SIGHTLINE_CLICKHOUSE) to a
// command that reads or deletes analytics: with it and no server
// answering on the admin socket, the command works on ClickHouse and
// PostgreSQL.
func clickhouseFlag(fs *flag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.ClickHouse, "clickhouse", cfg.ClickHouse, "the ClickHouse DSN of the analytics, when the server runs with --clickhouse (prefer SIGHTLINE_CLICKHOUSE)")
}

// eraserStore is what withEraser hands its services: the data folder's
// store, or its composite with PostgreSQL.
type eraserStore interface {
	api.Store
	recording.Store
	engine.Store
	store.Eraser
	store.Submissions
	admin.Catalog
	account.Store
}

const deleteUserUsage = `usage: sightline delete-user --site ID --user ID [--anonymous] [--suppress] [--json]`

// deleteUserCmd deletes a user everywhere, waits until the files are
// scrubbed, and prints the receipt.
func deleteUserCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("delete-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	clickhouseFlag(fs, &cfg)
	site := fs.String("site", "", "the site's ID")
	user := fs.String("user", "", "the user's ID (with every anonymous ID joined to it)")
	anon := fs.Bool("anonymous", false, "--user is an anonymous ID")
	suppress := fs.Bool("suppress", false, "drop later messages naming any of the user's IDs (only their hashes are kept)")
	asJSON := fs.Bool("json", false, "print the receipt as JSON")
	pos, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *site == "" || *user == "" {
		return errors.New(deleteUserUsage)
	}
	req := admin.DeleteUserRequest{Site: *site, User: *user, Kind: "user", Suppress: *suppress}
	if *anon {
		req.Kind = "anonymous"
	}
	return withEraser(cfg, func(a admin.Admin) error {
		r, err := a.DeleteUser(context.Background(), req)
		if err != nil {
			return fmt.Errorf("delete %s %q: %w", req.Kind, req.User, err)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(r)
		}
		fmt.Fprintf(stdout, "deleted %s %q and %d identities in %s\n", req.Kind, req.User, r.Identities,
			r.DoneAt.Sub(r.StartedAt).Round(1e6))
		kinds := make([]string, 0, len(r.Deleted))
		for k := range r.Deleted {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			if r.Deleted[k] > 0 {
				fmt.Fprintf(stdout, "  %-18s %d\n", k, r.Deleted[k])
			}
		}
		fmt.Fprintf(stdout, "write-ahead log segments removed: %d; database file rewritten: %v; suppressed: %v\n",
			r.LogSegments, r.Rewritten, r.Suppressed)
		return nil
	})
}

const exportUserUsage = `usage: sightline export-user --site ID --user ID [--anonymous] --out FILE.zip (- for standard output)`

// exportUserCmd writes the zip of everything held about a user.
func exportUserCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("export-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	clickhouseFlag(fs, &cfg)
	site := fs.String("site", "", "the site's ID")
	user := fs.String("user", "", "the user's ID (with every anonymous ID joined to it)")
	anon := fs.Bool("anonymous", false, "--user is an anonymous ID")
	out := fs.String("out", "", "the zip file to write, - for standard output")
	pos, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *site == "" || *user == "" || *out == "" {
		return errors.New(exportUserUsage)
	}
	req := admin.DeleteUserRequest{Site: *site, User: *user, Kind: "user"}
	if *anon {
		req.Kind = "anonymous"
	}
	return withEraser(cfg, func(a admin.Admin) error {
		if *out == "-" {
			return a.ExportUser(context.Background(), req, stdout)
		}
		tmp := *out + ".part"
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if err := a.ExportUser(context.Background(), req, f); err != nil {
			f.Close()
			os.Remove(tmp)
			return fmt.Errorf("export %s %q: %w", req.Kind, req.User, err)
		}
		if err := f.Close(); err != nil {
			os.Remove(tmp)
			return err
		}
		if err := os.Rename(tmp, *out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", *out)
		return nil
	})
}
