package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/store/pgstore"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// withAdmin runs fn against the running server's admin socket when one
// answers, else against the database opened directly.
func withAdmin(cfg config.Config, fn func(admin.Admin) error) error {
	if c, err := admin.Dial(cfg.SocketPath()); err == nil {
		return fn(c)
	}
	if cfg.Postgres != "" {
		// The control data is in PostgreSQL, which other nodes may be
		// using: no need for the data folder.
		pg, err := pgstore.OpenWith(context.Background(), cfg.Postgres, pgstore.Options{})
		if err != nil {
			return err
		}
		defer pg.Close()
		return fn(admin.Local{Store: pg, Accounts: account.New(pg, account.Config{})})
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := duckstore.Open(context.Background(), cfg.DBPath(), duckstore.Options{MemoryLimit: cfg.DBMemoryLimit}, log)
	if err != nil {
		return fmt.Errorf("open %s (is another process using it without its admin socket?): %w", cfg.DBPath(), err)
	}
	defer db.Close()
	return fn(admin.Local{Store: db, Accounts: account.New(db, account.Config{})})
}

// dataFlag adds --data (and SIGHTLINE_DATA) to an admin command.
func dataFlag(fs *flag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data folder")
}

// postgresFlag adds --postgres (and SIGHTLINE_POSTGRES) to an admin
// command that only touches control data: with it and no server
// answering on the admin socket, the command works on PostgreSQL.
func postgresFlag(fs *flag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.Postgres, "postgres", cfg.Postgres, "the PostgreSQL DSN of the control data, when the server runs with --postgres (prefer SIGHTLINE_POSTGRES)")
}

const siteUsage = `usage:
  sightline site create NAME [--origin URL]... [--json]
  sightline site update ID [--name NAME] [--origin URL]... [--respect-dnt=true|false] [--json]
  sightline site list [--json]`

func siteCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(siteUsage)
	}
	switch args[0] {
	case "create":
		return siteCreate(args[1:], stdout, stderr)
	case "update":
		return siteUpdate(args[1:], stdout, stderr)
	case "list":
		return siteList(args[1:], stdout, stderr)
	}
	return errors.New(siteUsage)
}

func siteCreate(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("site create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	var origins stringList
	fs.Var(&origins, "origin", "an allowed origin for the browser tracker, e.g. https://app.example.com (repeatable)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("site create needs exactly one NAME (quote names with spaces)")
	}
	return withAdmin(cfg, func(a admin.Admin) error {
		s, err := a.CreateSite(context.Background(), pos[0], origins)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(s)
		}
		fmt.Fprintf(stdout, "site:      %s (%s)\nwrite key: %s\n", s.ID, s.Name, s.WriteKey)
		fmt.Fprintln(stdout, "The write key is shown only now; keep it.")
		return nil
	})
}

// siteUpdate changes what the flags name and leaves the rest: --origin,
// when given, replaces the whole list.
func siteUpdate(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("site update", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	name := fs.String("name", "", "the site's new name")
	var origins stringList
	fs.Var(&origins, "origin", "an allowed origin (repeatable); the ones given replace the site's list")
	dnt := fs.Bool("respect-dnt", false, "capture nothing in browsers that send Do-Not-Track or Global Privacy Control")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("site update needs exactly one site ID")
	}
	var u store.SiteUpdate
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			u.Name = name
		case "origin":
			list := []string(origins)
			u.Origins = &list
		case "respect-dnt":
			u.RespectDNT = dnt
		}
	})
	if u.Name == nil && u.Origins == nil && u.RespectDNT == nil {
		return errors.New("site update needs --name, --origin or --respect-dnt")
	}
	return withAdmin(cfg, func(a admin.Admin) error {
		s, err := a.UpdateSite(context.Background(), pos[0], u)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(s)
		}
		printSite(stdout, s)
		return nil
	})
}

func siteList(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("site list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("site list takes no arguments")
	}
	return withAdmin(cfg, func(a admin.Admin) error {
		sites, err := a.Sites(context.Background())
		if err != nil {
			return err
		}
		if *asJSON {
			if sites == nil {
				sites = []store.Site{}
			}
			return json.NewEncoder(stdout).Encode(sites)
		}
		for i, s := range sites {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			printSite(stdout, s)
		}
		return nil
	})
}

func printSite(w io.Writer, s store.Site) {
	origins := strings.Join(s.Origins, " ")
	if origins == "" {
		origins = "(none: the tracker is refused)"
	}
	fmt.Fprintf(w, "site:        %s (%s)\norigins:     %s\nrespect DNT: %v\n", s.PublicID, s.Name, origins, s.RespectDNT)
}

func tokenCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		return errors.New(`usage: sightline token create --site ID --scope read|write|admin [--json]
       sightline token revoke ID`)
	}
	if args[0] == "revoke" {
		return tokenRevokeCmd(args[1:], stdout, stderr)
	}
	cfg := config.Default()
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	site := fs.String("site", "", "the site's ID")
	scope := fs.String("scope", "read", "read, write or admin")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseCommand(fs, args[1:]); err != nil {
		return err
	}
	if *site == "" {
		return errors.New("token create needs --site ID")
	}
	return withAdmin(cfg, func(a admin.Admin) error {
		t, err := a.CreateToken(context.Background(), *site, store.Scope(*scope))
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(t)
		}
		fmt.Fprintf(stdout, "token: %s\nscope: %s (site %s)\n", t.Token, t.Scope, t.Site)
		fmt.Fprintln(stdout, "The token is shown only now; keep it.")
		return nil
	})
}

// tokenRevokeCmd revokes an API token; it stops working at once.
func tokenRevokeCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	pos, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("token revoke needs exactly one token ID (tok_...)")
	}
	return withAdmin(cfg, func(a admin.Admin) error {
		if err := a.RevokeToken(context.Background(), pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", pos[0])
		return nil
	})
}
