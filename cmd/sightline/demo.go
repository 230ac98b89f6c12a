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
	"path/filepath"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// demoSiteName names the site `sightline demo` fills.
const demoSiteName = "Demo"

// demoCredentials is what `sightline demo` keeps in the data folder
// (owner-only) so that later runs can show it again: keys are stored only
// hashed, and a newcomer needs them to try the API.
type demoCredentials struct {
	Site       string `json:"site"`
	WriteKey   string `json:"write_key"`
	ReadToken  string `json:"read_token"`
	AdminToken string `json:"admin_token"`
	URL        string `json:"url"`
}

// demoCmd fills a "Demo" site with the synthetic product once, and prints
// how to reach it. Later runs only print.
func demoCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "the address the server will listen on, for the printed URL")
	users := fs.Int("users", 20000, "people to generate")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, os.LookupEnv); err != nil {
		return err
	}
	credsPath := filepath.Join(cfg.DataDir, "demo.json")
	if b, err := os.ReadFile(credsPath); err == nil {
		var c demoCredentials
		if err := json.Unmarshal(b, &c); err == nil {
			printDemo(stdout, c)
			return nil
		}
	}
	if _, err := admin.Dial(cfg.SocketPath()); err == nil {
		return errors.New("a server is running on " + cfg.DataDir + "; stop it to create the demo site")
	}
	ctx := context.Background()
	db, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{MemoryLimit: cfg.DBMemoryLimit},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.DBPath(), err)
	}
	defer db.Close()
	for _, s := range db.Sites(ctx) {
		if s.Name == demoSiteName {
			return fmt.Errorf("site %s (%s) exists but %s is missing; create a token with sightline token create",
				s.PublicID, demoSiteName, credsPath)
		}
	}
	url := "http://" + cfg.Addr
	local := admin.Local{Store: db}
	site, err := local.CreateSite(ctx, demoSiteName, []string{url, "http://localhost:8080"})
	if err != nil {
		return err
	}
	read, err := local.CreateToken(ctx, site.ID, store.ScopeRead)
	if err != nil {
		return err
	}
	adm, err := local.CreateToken(ctx, site.ID, store.ScopeAdmin)
	if err != nil {
		return err
	}
	s, err := db.Site(ctx, site.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo: generating %d people with 90 days of activity…\n", *users)
	if _, err := fillSite(ctx, db, s, gen.Config{Users: *users, Days: 90, EventsPerUser: 50, Seed: 1}, stderr); err != nil {
		return err
	}
	c := demoCredentials{Site: site.ID, WriteKey: site.WriteKey, ReadToken: read.Token, AdminToken: adm.Token, URL: url}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(credsPath, b, 0o600); err != nil {
		return fmt.Errorf("keep the demo credentials: %w", err)
	}
	printDemo(stdout, c)
	return nil
}

func printDemo(w io.Writer, c demoCredentials) {
	fmt.Fprintf(w, `Demo site %s is ready at %s
  write key    %s
  read token   %s
  admin token  %s
Try:
  curl -H "Authorization: Bearer %s" %s/api/v1/sites/%s/attributes
  curl -H "Authorization: Bearer %s" -d '{"text":"plan = \"enterprise\" and active_days(30d) >= 4"}' %s/api/v1/sites/%s/segments/preview
`, c.Site, c.URL, c.WriteKey, c.ReadToken, c.AdminToken, c.ReadToken, c.URL, c.Site, c.ReadToken, c.URL, c.Site)
}
